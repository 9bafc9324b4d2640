"""What a hook means for a build: which forge, which repository, build or ignore, and broken payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.forges import Hook, HookError, Ignored, JsonObject, detect_forge, parse_hook, repository_slug
from tests.server.forges.expected_fixtures import (
    GH_PING,
    GH_PR,
    GH_PUSH,
    GH_TAG,
    GITEA_PUSH,
    GITLAB_MR,
    GITLAB_PUSH,
)
from tests.server.forges.replay import body_of

EVENTS = {
    "github": ("X-GitHub-Event", {"push": "push", "pr": "pull_request"}),
    "gitea": ("X-Gitea-Event", {"push": "push", "pr": "pull_request"}),
    "gitlab": ("X-Gitlab-Event", {"push": "Push Hook", "pr": "Merge Request Hook"}),
}


def payload_of(relative: str) -> dict[str, Any]:
    """A payload the project ships, decoded afresh so a test may change it."""
    decoded: dict[str, Any] = json.loads(body_of(relative))
    return decoded


def parse(forge: str, event: str, payload: JsonObject) -> object:
    """parse_hook with only the event header set."""
    name = EVENTS[forge][0]
    return parse_hook(forge, {name: event}, payload)


# detect_forge


@pytest.mark.parametrize(
    ("headers", "forge"),
    [
        ({"X-GitHub-Event": "push"}, "github"),
        ({"x-github-event": "push"}, "github"),
        ({"X-Gitea-Event": "push", "X-Gogs-Event": "push", "X-GitHub-Event": "push"}, "gitea"),
        ({"X-Forgejo-Event": "push", "X-GitHub-Event": "push"}, "gitea"),
        ({"X-Gogs-Event": "push"}, "gitea"),
        ({"X-Gitlab-Event": "Push Hook"}, "gitlab"),
        ({"X-GitHub-Event": ""}, None),
        ({"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=00"}, None),
        ({}, None),
    ],
)
def test_detect_forge(headers: dict[str, str], forge: str | None) -> None:
    assert detect_forge(headers) == forge


# repository_slug


def test_gitlab_subgroups_stay_in_the_owner() -> None:
    payload = payload_of(GITLAB_PUSH)
    payload["project"]["path_with_namespace"] = "acme/platform/tools/hello-world"

    assert repository_slug("gitlab", payload) == ("acme/platform/tools", "hello-world")
    hook = parse("gitlab", "Push Hook", payload)
    assert isinstance(hook, Hook)
    assert (hook.repo.owner, hook.repo.name) == ("acme/platform/tools", "hello-world")
    assert hook.repo.slug == "acme/platform/tools/hello-world"


def test_github_slug_falls_back_to_owner_login_and_name() -> None:
    payload = payload_of(GH_PUSH)
    del payload["repository"]["full_name"]
    assert repository_slug("github", payload) == ("Codertocat", "Hello-World")


@pytest.mark.parametrize(
    ("forge", "payload"),
    [
        ("github", {}),
        ("github", {"repository": None}),
        ("github", {"repository": {"full_name": "no-slash"}}),
        ("gitea", {"repository": {"full_name": "a/b/c"}}),
        ("gitlab", {"project": {"path_with_namespace": "/name"}}),
        ("gitlab", {"project": {"path_with_namespace": 42}}),
        ("gitlab", {"repository": {"full_name": "owner/name"}}),
        ("bitbucket", {"repository": {"full_name": "owner/name"}}),
    ],
)
def test_no_repository_is_a_hook_error(forge: str, payload: JsonObject) -> None:
    with pytest.raises(HookError):
        repository_slug(forge, payload)


# what is built and what is ignored


@pytest.mark.parametrize("marker", ["[ci skip]", "[SKIP CI]", "[Skip CI]", "***NO_CI***"])
@pytest.mark.parametrize(
    ("forge", "relative"), [("github", GH_PUSH), ("gitea", GITEA_PUSH), ("gitlab", GITLAB_PUSH)]
)
def test_skip_marker_in_the_head_commit_ignores_a_push(forge: str, relative: str, marker: str) -> None:
    payload = payload_of(relative)
    commits = [payload["head_commit"]] if "head_commit" in payload else payload["commits"]
    for commit in commits:
        commit["message"] = f"docs: typo {marker}\n\nlonger body"

    result = parse(forge, EVENTS[forge][1]["push"], payload)

    assert isinstance(result, Ignored)
    assert "skip CI" in result.reason


def test_skip_marker_in_an_older_commit_of_the_push_does_not_ignore_it() -> None:
    payload = payload_of(GITLAB_PUSH)
    payload["commits"][0]["message"] = "wip [skip ci]"  # not the head: checkout_sha is the second commit
    assert isinstance(parse("gitlab", "Push Hook", payload), Hook)


@pytest.mark.parametrize(("forge", "relative"), [("github", GH_PR), ("gitlab", GITLAB_MR)])
def test_skip_marker_in_a_pull_request_title_ignores_it(forge: str, relative: str) -> None:
    payload = payload_of(relative)
    pull = payload.get("pull_request") or payload["object_attributes"]
    pull["title"] = "Refactor the parser [CI SKIP]"

    result = parse(forge, EVENTS[forge][1]["pr"], payload)

    assert isinstance(result, Ignored)
    assert "skip CI" in result.reason


def test_a_tag_is_built_even_when_its_commit_says_skip_ci() -> None:
    payload = payload_of(GH_TAG)
    payload["head_commit"]["message"] = "chore: release v0.0.1 [skip ci]"
    hook = parse("github", "push", payload)
    assert isinstance(hook, Hook)
    assert hook.cause.event == "tag"


def test_annotated_tag_builds_the_commit_not_the_tag_object() -> None:
    payload = payload_of(GH_TAG)
    payload["after"] = "1" * 40  # an annotated tag's object
    hook = parse("github", "push", payload)
    assert isinstance(hook, Hook)
    assert hook.cause.sha == payload["head_commit"]["id"]


@pytest.mark.parametrize("action", ["closed", "edited", "labeled", "assigned", "review_requested", ""])
def test_pull_request_actions_that_are_not_built(action: str) -> None:
    payload = payload_of(GH_PR) | {"action": action}
    assert isinstance(parse("github", "pull_request", payload), Ignored)


def test_reopened_pull_request_builds_as_opened() -> None:
    hook = parse("github", "pull_request", payload_of(GH_PR) | {"action": "reopened"})
    assert isinstance(hook, Hook)
    assert hook.cause.action == "opened"


def test_pull_request_from_a_fork() -> None:
    payload = payload_of(GH_PR)
    payload["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"
    forked = parse("github", "pull_request", payload)
    payload["pull_request"]["head"]["repo"] = None  # the fork was deleted since
    deleted = parse("github", "pull_request", payload)

    assert isinstance(forked, Hook)
    assert isinstance(deleted, Hook)
    assert forked.cause.fork
    assert deleted.cause.fork


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"action": "reopen"}, "opened"),
        ({"action": "update", "oldrev": "2adc9465c4edfc33834e173fe89436a7cb899a1d"}, "synchronized"),
        ({"action": "update"}, None),  # a title or label change: no new commits
        ({"action": "close", "state": "closed"}, None),
        ({"action": "merge", "state": "merged"}, None),
        ({"action": "approved"}, None),
    ],
)
def test_gitlab_merge_request_actions(changes: dict[str, str], expected: str | None) -> None:
    payload = payload_of(GITLAB_MR)
    payload["object_attributes"] |= changes
    result = parse("gitlab", "Merge Request Hook", payload)
    if expected is None:
        assert isinstance(result, Ignored)
    else:
        assert isinstance(result, Hook)
        assert result.cause.action == expected


def test_gitlab_merge_request_from_another_project_is_a_fork() -> None:
    payload = payload_of(GITLAB_MR)
    payload["object_attributes"]["source_project_id"] = 999
    hook = parse("gitlab", "Merge Request Hook", payload)
    assert isinstance(hook, Hook)
    assert hook.cause.fork


def test_gitlab_system_hook_push_is_built() -> None:
    hook = parse("gitlab", "System Hook", payload_of(GITLAB_PUSH))
    assert isinstance(hook, Hook)
    assert hook.cause.event == "push"


@pytest.mark.parametrize(
    ("forge", "event"),
    [
        ("github", "issues"),
        ("github", "delete"),
        ("github", "create"),
        ("github", "deployment"),
        ("github", ""),
        ("gitea", "issues"),
        ("gitea", "delete"),
        ("gitea", "create"),
        ("gitea", "release"),
        ("gitlab", "Note Hook"),
        ("gitlab", "Issue Hook"),
        ("gitlab", "Pipeline Hook"),
    ],
)
def test_other_events_are_ignored_with_a_reason(forge: str, event: str) -> None:
    payload = payload_of(GITLAB_PUSH if forge == "gitlab" else GH_PUSH)
    result = parse(forge, event, payload)
    assert isinstance(result, Ignored)
    assert result.reason


def test_ping_is_not_a_build() -> None:
    result = parse("github", "ping", payload_of(GH_PING))
    assert not isinstance(result, Hook | Ignored)


def test_a_push_to_another_kind_of_ref_is_ignored() -> None:
    payload = payload_of(GH_PUSH) | {"ref": "refs/notes/commits"}
    assert isinstance(parse("github", "push", payload), Ignored)


# broken build-worthy payloads


@pytest.mark.parametrize(
    ("forge", "relative", "breakage"),
    [
        ("github", GH_PUSH, {"after": None, "head_commit": None}),
        ("github", GH_PUSH, {"after": "not-a-sha", "head_commit": None}),
        ("github", GH_PUSH, {"after": "--upload-pack=touch /tmp/x", "head_commit": None}),
        ("github", GH_PUSH, {"repository": None}),
        ("github", GH_PUSH, {"repository": {"full_name": "a/b", "clone_url": "file:///etc"}}),
        ("gitea", GITEA_PUSH, {"after": "", "commits": []}),
        ("gitlab", GITLAB_PUSH, {"checkout_sha": None, "after": None}),
        ("gitlab", GITLAB_PUSH, {"project": {"path_with_namespace": "a/b", "git_http_url": "git@host:a/b"}}),
    ],
)
def test_push_without_what_a_build_needs_is_a_hook_error(
    forge: str, relative: str, breakage: dict[str, Any]
) -> None:
    payload = payload_of(relative) | breakage
    with pytest.raises(HookError):
        parse(forge, EVENTS[forge][1]["push"], payload)


def test_pull_request_without_head_sha_or_number_is_a_hook_error() -> None:
    no_sha = payload_of(GH_PR)
    del no_sha["pull_request"]["head"]["sha"]
    no_number = payload_of(GH_PR)
    del no_number["number"]
    del no_number["pull_request"]["number"]
    for payload in (no_sha, no_number):
        with pytest.raises(HookError):
            parse("github", "pull_request", payload)


def test_merge_request_without_last_commit_is_a_hook_error() -> None:
    payload = payload_of(GITLAB_MR)
    del payload["object_attributes"]["last_commit"]
    with pytest.raises(HookError):
        parse("gitlab", "Merge Request Hook", payload)


def test_unknown_forge_is_a_hook_error() -> None:
    with pytest.raises(HookError):
        parse_hook("bitbucket", {"X-Event-Key": "repo:push"}, {})
