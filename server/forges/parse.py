"""Which forge sent a hook, which repository it is about, and what it means for a build."""

from __future__ import annotations

from collections.abc import Mapping

from server.forges import github, gitlab
from server.forges.gitea import parse_gitea
from server.forges.github import parse_github
from server.forges.gitlab import parse_gitlab
from server.forges.hook import Forge, HookError, HookResult
from server.forges.payload import JsonObject, header, member

# Gitea and Forgejo also send GitHub's headers, so they are recognised before GitHub.
_EVENT_HEADERS: tuple[tuple[Forge, tuple[str, ...]], ...] = (
    ("gitlab", ("X-Gitlab-Event",)),
    ("gitea", ("X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event")),
    ("github", ("X-GitHub-Event",)),
)


def detect_forge(headers: Mapping[str, str]) -> Forge | None:
    """The forge that sent a request, from its event header; None when it is no forge's webhook."""
    for forge, names in _EVENT_HEADERS:
        if any(header(headers, name) for name in names):
            return forge
    return None


def event_name(forge: str, headers: Mapping[str, str]) -> str:
    """The event the forge names in its headers (`push`, `pull_request`, `Tag Push Hook` …), or ""."""
    names = next((names for known, names in _EVENT_HEADERS if known == forge), ())
    return next((value for value in (header(headers, name) for name in names) if value), "")


def repository_slug(forge: str, payload: JsonObject) -> tuple[str, str]:
    """`(owner, name)` of the repository a hook is about (GitLab: owner may hold subgroups, `group/sub`)."""
    if forge in ("github", "gitea"):
        return github.repository_slug(payload)
    if forge == "gitlab":
        return gitlab.repository_slug(payload)
    raise HookError(f"unknown forge {forge!r}")


def repository_id(forge: str, payload: JsonObject) -> str:
    """The forge's own id of the repository a hook is about ('' when the payload has none): a repository
    renamed or transferred on the forge keeps it."""
    path = ("project", "id") if forge == "gitlab" else ("repository", "id")
    value = member(payload, *path)
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""


def parse_hook(forge: str, headers: Mapping[str, str], payload: JsonObject) -> HookResult:
    """A Hook to build, a Ping, or why the delivery is Ignored; HookError if a build-worthy one is broken."""
    event = event_name(forge, headers)
    if forge == "github":
        return parse_github(event, payload)
    if forge == "gitea":
        return parse_gitea(event, payload)
    if forge == "gitlab":
        return parse_gitlab(event, payload)
    raise HookError(f"unknown forge {forge!r}")
