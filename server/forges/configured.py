"""The forge people sign in with, as the settings configure it (`HANGAR_GITHUB_…`, `HANGAR_GITEA_…`,
`HANGAR_GITLAB_…`; the first with a client id), or None: then local users and API tokens only."""

from __future__ import annotations

import httpx

from server.forges.github_api import SCOPES as GITHUB_SCOPES
from server.forges.github_api import GitHub, github_endpoints
from server.forges.oauth import OAuthClient
from server.forges.remote import RemoteForge
from server.settings import Settings

CALLBACK_PATH = "/login/callback"
"""Where the forge sends people back after they signed in: register `HANGAR_URL` + this as the OAuth
application's callback (redirect) address."""


def configured_forge(settings: Settings) -> RemoteForge | None:
    """The forge of the settings, with its OAuth client and an HTTP client of its own; None without one."""
    chosen = settings.forge
    if chosen is None:
        return None
    kind, forge = chosen
    http = httpx.AsyncClient(trust_env=False, timeout=30, follow_redirects=True)
    if kind == "github":
        authorize, token, api = github_endpoints(forge.url)
        oauth = OAuthClient(
            forge.client_id,
            forge.client_secret,
            authorize,
            token,
            token,
            name=kind,
            base_scopes=GITHUB_SCOPES,
        )
        return GitHub(forge.url, api, oauth, http)
    raise ValueError(f"no such forge {kind!r}")


def callback_url(settings: Settings) -> str:
    """The OAuth redirect address."""
    return settings.url.rstrip("/") + CALLBACK_PATH
