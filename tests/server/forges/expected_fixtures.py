"""What each payload file the project ships (`fixtures/`) must give, read from the files by hand."""

from __future__ import annotations

from typing import Any

from server.forges import Ignored, Ping
from tests.server.forges.expected import CODERTOCAT, CODERTOCAT_FIRST_PUSH, HELLO_WORLD_PR

GH_PUSH = "github/push__octokit-examples__new-branch.json"
GH_TAG = "github/push__octokit-examples__new-tag.json"
GH_CREATE = "github/create__octokit-examples__tag.json"
GH_PR = "github/pull_request__octokit-examples__opened.json"
GH_PR_SYNC = "github/pull_request__octokit-examples__synchronize.json"
GH_PING = "github/ping__octokit-examples__hook.json"
GITEA_PUSH = "gitea/push__hangar__branch.json"
GITEA_PR_SYNC = "gitea/pull_request__hangar__synchronized.json"
GITLAB_PUSH = "gitlab/push__hangar__branch.json"
GITLAB_MR = "gitlab/merge_request__hangar__opened.json"

ACME_GITEA = {
    "forge": "gitea",
    "owner": "acme",
    "name": "widget",
    "clone_url": "https://gitea.example.com/acme/widget.git",
    "link": "https://gitea.example.com/acme/widget",
    "private": False,
    "default_branch": "main",
}
GITEA_HEAD = {
    "sha": "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
    "message": "Fix the version flag\n\nIt printed nothing.\n",
    "author_login": "alice",
    "author_name": "Alice Doe",
    "author_email": "alice@example.com",
    "author_avatar": "https://gitea.example.com/avatars/alice",
    "sender": "alice",
}
GITEA_PR = ACME_GITEA | {
    "event": "pull_request",
    "pull_request": 3,
    "ref": "refs/pull/3/head",
    "before": "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",  # the base branch's commit
    "branch": "main",
    "target_branch": "main",
    "source_branch": "json-flag",
    "pull_request_title": "Add a --json flag",
    "message": "Add a --json flag",
    "author_login": "bob",
    "author_name": "Bob Roe",
    "author_email": "bob@example.com",
    "commit_link": "https://gitea.example.com/acme/widget/pulls/3",
    "fork": True,  # from bob/widget
    "sender": "bob",
}
ACME_GITLAB = {
    "forge": "gitlab",
    "owner": "acme/platform",  # a subgroup stays in the owner
    "name": "widget",
    "clone_url": "https://gitlab.example.com/acme/platform/widget.git",
    "link": "https://gitlab.example.com/acme/platform/widget",
    "private": True,  # visibility_level 10: internal
    "default_branch": "main",
}
GITLAB_HEAD = {
    "sha": "b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",  # checkout_sha, the second of the two commits
    "message": "Fix the version flag\n",
    "author_login": "carol",
    "author_name": "Carol Poe",
    "author_email": "carol@example.com",  # user_email is [REDACTED]: the commit's author's
    "commit_link": "https://gitlab.example.com/acme/platform/widget/-/commit/b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",
    "sender": "carol",
}
GITLAB_MR_FIELDS = ACME_GITLAB | {
    "event": "pull_request",
    "pull_request": 4,
    "ref": "refs/merge-requests/4/head",
    "before": "",
    "branch": "main",
    "target_branch": "main",
    "source_branch": "json-flag",
    "pull_request_title": "Add a --json flag",
    "message": "Add a --json flag\n",  # the last commit's
    "author_login": "dave",
    "author_email": "dave@example.com",
    "commit_link": "https://gitlab.example.com/acme/platform/widget/-/merge_requests/4",
    "fork": False,
}

# What each file must give: a dict of Hook fields, Ping(), or an Ignored with a word its reason must hold.
FIXTURE_EXPECTED: dict[str, dict[str, Any] | Ping | Ignored] = {
    GH_CREATE: Ignored("push"),
    "github/deployment__octokit-examples__created.json": Ignored("deployment"),
    GH_PING: Ping(),
    "github/pull_request__octokit-examples__closed.json": Ignored("closed"),
    GH_PR: HELLO_WORLD_PR | {"action": "opened"},
    GH_PR_SYNC: HELLO_WORLD_PR | {"action": "synchronized"},
    GH_PUSH: CODERTOCAT_FIRST_PUSH,
    GH_TAG: CODERTOCAT
    | {
        "event": "tag",
        "ref": "refs/tags/simple-tag",
        "sha": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "before": "",
        "branch": "",
        "target_branch": "",
        "message": "Adding a .gitignore file",
        "commit_link": "https://github.com/Codertocat/Hello-World/compare/simple-tag",
    },
    "github/push__octokit-examples__tag-deleted.json": Ignored("deleted"),
    "gitea/create__hangar__tag.json": Ignored("push"),
    "gitea/pull_request__hangar__opened.json": GITEA_PR
    | {"action": "opened", "sha": "5d4c3b2a19f8e7d6c5b4a3928170f6e5d4c3b2a1"},
    GITEA_PR_SYNC: GITEA_PR | {"action": "synchronized", "sha": "e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4"},
    "gitea/push__hangar__branch-deleted.json": Ignored("deleted"),
    GITEA_PUSH: ACME_GITEA
    | GITEA_HEAD
    | {
        "event": "push",
        "ref": "refs/heads/main",
        "before": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
        "branch": "main",
        "commit_link": "https://gitea.example.com/acme/widget/compare/1a2b3c4d5e6f...9f8e7d6c5b4a",
    },
    "gitea/push__hangar__tag.json": ACME_GITEA
    | GITEA_HEAD
    | {
        "event": "tag",
        "ref": "refs/tags/v1.0.0",
        "before": "",
        "branch": "",
        "commit_link": "https://gitea.example.com/acme/widget/commit/9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
    },
    GITLAB_MR: GITLAB_MR_FIELDS | {"action": "opened", "sha": "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d"},
    "gitlab/merge_request__hangar__update.json": GITLAB_MR_FIELDS
    | {"action": "synchronized", "sha": "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e"},
    "gitlab/push__hangar__branch-deleted.json": Ignored("deleted"),
    GITLAB_PUSH: ACME_GITLAB
    | GITLAB_HEAD
    | {
        "event": "push",
        "ref": "refs/heads/main",
        "before": "7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f",
        "branch": "main",
        "target_branch": "main",
    },
    "gitlab/tag_push__hangar__tag.json": ACME_GITLAB
    | GITLAB_HEAD
    | {"event": "tag", "ref": "refs/tags/v1.0.0", "before": "", "branch": "", "target_branch": ""},
}
