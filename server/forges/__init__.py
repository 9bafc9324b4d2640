"""Forge webhooks (GitHub, Gitea/Forgejo/Gogs, GitLab): detect, decode, verify and turn into Drone's terms.

The endpoint's order: `detect_forge` -> `read_payload` -> `repository_slug` -> (look the repository up)
-> `verify_signature` -> `delivery_id` -> `parse_hook`. Pure code: no I/O, no database.

The forge's REST API and OAuth (signing in, repositories, permissions, webhooks Hangar makes) are in their own
modules, not imported here: `remote` (the interface), `github_api`, `gitea_api`, `gitlab_api`, `oauth`,
`configured` (the forge the settings name).
"""

from __future__ import annotations

from server.forges.hook import FORGES, Forge, Hook, HookError, HookResult, Ignored, Ping
from server.forges.parse import detect_forge, event_name, parse_hook, repository_id, repository_slug
from server.forges.payload import JsonObject, header, read_payload
from server.forges.signature import delivery_id, verify_signature

__all__ = [
    "FORGES",
    "Forge",
    "Hook",
    "HookError",
    "HookResult",
    "Ignored",
    "JsonObject",
    "Ping",
    "delivery_id",
    "detect_forge",
    "event_name",
    "header",
    "parse_hook",
    "read_payload",
    "repository_id",
    "repository_slug",
    "verify_signature",
]
