"""GitHub's webhook payloads, whose shape Gitea, Forgejo and Gogs copy, turned into Hooks."""

from __future__ import annotations

from pipelines.cause import BuildCause
from server.forges.hook import Hook, HookResult, Ignored, Ping, Repository
from server.forges.payload import JsonObject, child, children, flag, number, text
from server.forges.rules import (
    BRANCH_PREFIX,
    TAG_PREFIX,
    is_zero_sha,
    previous_sha,
    required_branch,
    required_clone_url,
    required_number,
    required_sha,
    skips_ci,
    split_slug,
)

# Pull request actions that build, in Drone's names; "reopened" builds too, since the head may have moved.
PULL_REQUEST_ACTIONS = {
    "opened": "opened",
    "reopened": "opened",
    "synchronize": "synchronized",  # GitHub
    "synchronized": "synchronized",  # Gitea, Forgejo, Gogs
}


def parse_github(event: str, payload: JsonObject) -> HookResult:
    """Hook, Ping or Ignored for a GitHub delivery of `event` (the X-GitHub-Event header)."""
    if event == "ping":
        return Ping()
    if event == "push":
        return push_hook("github", payload)
    if event == "pull_request":
        return pull_request_hook("github", payload)
    if event == "create":
        return Ignored("a created tag or branch is built from its push event")
    return Ignored(f"GitHub {event or 'unnamed'} events start no build")


def repository_slug(payload: JsonObject) -> tuple[str, str]:
    """`(owner, name)` of `repository`, from its full name or else its owner's login and its name."""
    full_name = text(payload, "repository", "full_name")
    if not full_name:
        owner = login(child(payload, "repository", "owner"))
        full_name = f"{owner}/{text(payload, 'repository', 'name')}"
    return split_slug(full_name)


def repository(payload: JsonObject) -> Repository:
    """The repository a GitHub-shaped payload is about."""
    owner, name = repository_slug(payload)
    repo = child(payload, "repository")
    return Repository(
        owner=owner,
        name=name,
        clone_url=required_clone_url(text(repo, "clone_url")),
        link=text(repo, "html_url"),
        private=flag(repo, "private"),
        default_branch=text(repo, "default_branch") or text(repo, "master_branch"),
    )


def login(user: JsonObject) -> str:
    """A user's login: GitHub says `login`, older Gitea and Gogs only `username`."""
    return text(user, "login") or text(user, "username")


def push_hook(forge: str, payload: JsonObject) -> HookResult:
    """A push of a branch or a tag; deletions and pushes marked [skip ci] are Ignored."""
    ref = text(payload, "ref")
    after = text(payload, "after")
    if flag(payload, "deleted") or is_zero_sha(after):
        return Ignored(f"{ref or 'a ref'} was deleted")
    is_tag = ref.startswith(TAG_PREFIX)
    if not is_tag and not ref.startswith(BRANCH_PREFIX):
        return Ignored(f"pushes to {ref or 'an unnamed ref'} start no build")
    head = _head_commit(payload, after)
    message = text(head, "message")
    if not is_tag and skips_ci(message):
        return Ignored("the head commit's message asks to skip CI")
    # An annotated tag's `after` is the tag object: build the commit it points at (go-scm does the same).
    sha = required_sha(text(head, "id") if is_tag and text(head, "id") else after)
    branch = "" if is_tag else ref.removeprefix(BRANCH_PREFIX)
    author, pusher, sender = child(head, "author"), child(payload, "pusher"), child(payload, "sender")
    cause = BuildCause(
        event="tag" if is_tag else "push",
        ref=ref,
        sha=sha,
        before=previous_sha(text(payload, "before")),
        branch=branch,
        target_branch=branch,
        message=message,
        author_login=text(author, "username") if head else login(pusher) or text(pusher, "name"),
        author_name=text(author, "name") if head else text(pusher, "full_name") or text(pusher, "name"),
        author_email=text(author, "email") if head else text(pusher, "email"),
        author_avatar=text(sender, "avatar_url"),  # a push names no author avatar; Drone shows the sender's
        commit_link=text(payload, "compare") or text(payload, "compare_url") or text(head, "url"),
        sender=login(sender),
    )
    return Hook(forge=forge, repo=repository(payload), cause=cause)


def _head_commit(payload: JsonObject, after: str) -> JsonObject:
    """`head_commit`, else the listed commit that is `after`, else the first (Gitea lists newest first)."""
    head = child(payload, "head_commit")
    if head:
        return head
    commits = children(payload, "commits")
    return next((c for c in commits if text(c, "id") == after), commits[0] if commits else {})


def pull_request_hook(forge: str, payload: JsonObject) -> HookResult:
    """A pull request opened, reopened or given new commits; other actions are Ignored."""
    action = text(payload, "action")
    if action not in PULL_REQUEST_ACTIONS:
        return Ignored(f"pull requests {action or 'without an action'} start no build")
    pull = child(payload, "pull_request")
    title = text(pull, "title")
    if skips_ci(title):
        return Ignored("the pull request's title asks to skip CI")
    pr_number = required_number(number(payload, "number") or number(pull, "number"))
    sha = required_sha(text(pull, "head", "sha"))
    repo = repository(payload)
    target = required_branch(text(pull, "base", "ref"))
    author, sender = child(pull, "user"), child(payload, "sender")
    base_name = text(pull, "base", "repo", "full_name") or f"{repo.owner}/{repo.name}"
    head_name = text(pull, "head", "repo", "full_name")  # null when the fork was deleted
    cause = BuildCause(
        event="pull_request",
        action=PULL_REQUEST_ACTIONS[action],
        ref=f"refs/pull/{pr_number}/head",
        sha=sha,
        before=previous_sha(text(pull, "base", "sha")),
        branch=target,
        source_branch=required_branch(text(pull, "head", "ref")),
        target_branch=target,
        pull_request=pr_number,
        pull_request_title=title,
        message=title,  # the payload carries no commit message; Drone uses the title
        author_login=login(author),
        author_name=text(author, "full_name") or text(author, "name"),
        author_email=text(author, "email"),
        author_avatar=text(author, "avatar_url") or text(sender, "avatar_url"),
        commit_link=text(pull, "html_url"),
        fork=head_name.lower() != base_name.lower(),
        sender=login(sender),
    )
    return Hook(forge=forge, repo=repo, cause=cause)
