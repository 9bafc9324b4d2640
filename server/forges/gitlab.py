"""GitLab's webhook payloads (push, tag push, merge request) turned into Hooks."""

from __future__ import annotations

from pipelines.cause import BuildCause
from server.forges.hook import Hook, HookResult, Ignored, Repository
from server.forges.payload import JsonObject, child, children, number, text
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

# X-Gitlab-Event -> the payload's object_kind it announces; a system hook says which in object_kind itself.
_EVENT_KINDS = {"Push Hook": "push", "Tag Push Hook": "tag_push", "Merge Request Hook": "merge_request"}
_PUBLIC = 20  # visibility_level: 0 private, 10 internal (any signed-in user), 20 public
_REDACTED = "[REDACTED]"  # what newer GitLab sends instead of the pusher's email


def parse_gitlab(event: str, payload: JsonObject) -> HookResult:
    """Hook or Ignored for a GitLab delivery of `event` (the X-Gitlab-Event header)."""
    kind = text(payload, "object_kind") if event == "System Hook" else _EVENT_KINDS.get(event, "")
    if kind in ("push", "tag_push"):
        return _push_hook(payload, tag=kind == "tag_push")
    if kind == "merge_request":
        return _merge_request_hook(payload)
    return Ignored(f"GitLab {event or 'unnamed'} events start no build")


def repository_slug(payload: JsonObject) -> tuple[str, str]:
    """`(owner, name)` from `project.path_with_namespace`; the owner keeps its subgroups (`group/sub`)."""
    return split_slug(text(payload, "project", "path_with_namespace"), at_last=True)


def _repository(payload: JsonObject) -> Repository:
    """The project a payload is about; anything not public (private, internal) counts as private."""
    owner, name = repository_slug(payload)
    project = child(payload, "project")
    visibility = project.get("visibility_level")
    return Repository(
        owner=owner,
        name=name,
        clone_url=required_clone_url(text(project, "git_http_url") or text(project, "http_url")),
        link=text(project, "web_url"),
        private=isinstance(visibility, int) and visibility != _PUBLIC,
        default_branch=text(project, "default_branch"),
    )


def _push_hook(payload: JsonObject, *, tag: bool) -> HookResult:
    """A push of a branch or tag; deletions and branch pushes marked [skip ci] are Ignored."""
    ref = text(payload, "ref")
    after = text(payload, "after")
    if is_zero_sha(after):
        return Ignored(f"{ref or 'a ref'} was deleted")
    if not ref.startswith("refs/"):
        ref = (TAG_PREFIX if tag else BRANCH_PREFIX) + ref
    is_tag = ref.startswith(TAG_PREFIX)
    if not is_tag and not ref.startswith(BRANCH_PREFIX):
        return Ignored(f"pushes to {ref} start no build")
    # checkout_sha is the commit even when `after` is an annotated tag object.
    sha = required_sha(text(payload, "checkout_sha") or after)
    commits = children(payload, "commits")  # oldest first
    head = next((c for c in commits if text(c, "id") == sha), commits[-1] if commits else {})
    message = text(head, "message")
    if not is_tag and skips_ci(message):
        return Ignored("the head commit's message asks to skip CI")
    branch = "" if is_tag else ref.removeprefix(BRANCH_PREFIX)
    email = text(payload, "user_email")
    cause = BuildCause(
        event="tag" if is_tag else "push",
        ref=ref,
        sha=sha,
        before=previous_sha(text(payload, "before")),
        branch=branch,
        target_branch=branch,
        message=message,
        # The pusher, as go-scm does: a GitLab commit names no login or avatar.
        author_login=text(payload, "user_username"),
        author_name=text(payload, "user_name") or text(head, "author", "name"),
        author_email=email if email and email != _REDACTED else text(head, "author", "email"),
        author_avatar=text(payload, "user_avatar"),
        commit_link=text(head, "url"),
        sender=text(payload, "user_username"),
    )
    return Hook(forge="gitlab", repo=_repository(payload), cause=cause)


def _merge_request_ignored(attributes: JsonObject) -> Ignored | None:
    """Why a merge request hook starts no build, or None when it should build."""
    action = text(attributes, "action") or "open"  # GitLab before 8.x sent no action on creation
    state = text(attributes, "state")
    if state not in ("", "opened"):
        return Ignored(f"the merge request is {state}")
    if action == "update" and not text(attributes, "oldrev"):  # oldrev comes only with pushed commits
        return Ignored("the merge request was updated without new commits")
    if action not in ("open", "reopen", "update"):
        return Ignored(f"merge requests {action} start no build")
    return None


def _merge_request_hook(payload: JsonObject) -> HookResult:
    """A merge request opened, reopened or given new commits; other actions are Ignored."""
    attributes = child(payload, "object_attributes")
    ignored = _merge_request_ignored(attributes)
    if ignored is not None:
        return ignored
    title = text(attributes, "title")
    message = text(attributes, "last_commit", "message")
    if skips_ci(title, message):
        return Ignored("the merge request's title or last commit asks to skip CI")
    mr_number = required_number(number(attributes, "iid"))
    sha = required_sha(text(attributes, "last_commit", "id"))
    repo = _repository(payload)
    target = required_branch(text(attributes, "target_branch"))
    user = child(payload, "user")
    cause = BuildCause(
        event="pull_request",
        action="synchronized" if text(attributes, "action") == "update" else "opened",
        ref=f"refs/merge-requests/{mr_number}/head",
        sha=sha,
        before="",  # GitLab does not send the target branch's commit
        branch=target,
        source_branch=required_branch(text(attributes, "source_branch")),
        target_branch=target,
        pull_request=mr_number,
        pull_request_title=title,
        message=message or title,
        author_login=text(user, "username"),
        author_name=text(user, "name"),
        author_email=text(user, "email"),
        author_avatar=text(user, "avatar_url"),
        commit_link=text(attributes, "url"),
        fork=_is_fork(attributes),
        sender=text(user, "username"),
    )
    return Hook(forge="gitlab", repo=repo, cause=cause)


def _is_fork(attributes: JsonObject) -> bool:
    """True when the merge request comes from another project than the one it merges into."""
    source_id, target_id = number(attributes, "source_project_id"), number(attributes, "target_project_id")
    if source_id and target_id:
        return source_id != target_id
    source = text(attributes, "source", "path_with_namespace")
    return source.lower() != text(attributes, "target", "path_with_namespace").lower()
