"""Gitea's, Forgejo's and Gogs' webhook payloads: GitHub's shape under their own event names."""

from __future__ import annotations

from server.forges.github import pull_request_hook, push_hook
from server.forges.hook import HookResult, Ignored
from server.forges.payload import JsonObject

# Older Gitea put the fine event type in X-Gitea-Event; the payload's `action` still decides.
_PULL_REQUEST_EVENTS = ("pull_request", "pull_request_sync")


def parse_gitea(event: str, payload: JsonObject) -> HookResult:
    """Hook or Ignored for a Gitea, Forgejo or Gogs delivery of `event` (X-Gitea-Event and its twins)."""
    if event == "push":
        return push_hook("gitea", payload)
    if event in _PULL_REQUEST_EVENTS:
        return pull_request_hook("gitea", payload)
    if event == "create":
        return Ignored("a created tag or branch is built from its push event")
    return Ignored(f"Gitea {event or 'unnamed'} events start no build")
