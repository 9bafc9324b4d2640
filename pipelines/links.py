"""Where a build's page is: one formula for DRONE_BUILD_LINK, commit statuses, emails and the pages' links."""

from __future__ import annotations

from urllib.parse import quote


def build_link(server_url: str, slug: str, number: int) -> str:
    """The address of build `number` of repository `slug` (`owner/name`) on the server at `server_url`; with
    no server URL (""), the path the pages link to."""
    return f"{server_url.rstrip('/')}/{slug}/{number}"


def artifact_link(server_url: str, slug: str, number: int, path: str) -> str:
    """The download address of a build's artifact (its workspace-relative `path`, percent-encoded); with no
    server URL (""), the path the pages link to."""
    return f"{server_url.rstrip('/')}/api/repos/{slug}/builds/{number}/artifacts/{quote(path)}"
