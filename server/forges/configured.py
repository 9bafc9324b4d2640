"""The forge people sign in with, as the settings configure it (`HANGAR_GITHUB_…`, `HANGAR_GITEA_…`,
`HANGAR_GITLAB_…`; the first with a client id), or None: then local users and API tokens only."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from server.forges.gitea_api import Gitea, gitea_endpoints
from server.forges.github_api import SCOPES as GITHUB_SCOPES
from server.forges.github_api import GitHub, github_endpoints
from server.forges.gitlab_api import SCOPES as GITLAB_SCOPES
from server.forges.gitlab_api import GitLab, gitlab_endpoints
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
    kinds: dict[str, tuple[type[RemoteForge], Callable[[str], tuple[str, str, str]], list[str]]] = {
        "github": (GitHub, github_endpoints, GITHUB_SCOPES),
        "gitea": (Gitea, gitea_endpoints, []),
        "gitlab": (GitLab, gitlab_endpoints, GITLAB_SCOPES),
    }
    forge_class, endpoints, scopes = kinds[kind]
    authorize, token, api = endpoints(forge.url)
    oauth = OAuthClient(
        forge.client_id, forge.client_secret, authorize, token, token, name=kind, base_scopes=scopes
    )
    return forge_class(forge.url, api, oauth, http)


def callback_url(settings: Settings) -> str:
    """The OAuth redirect address."""
    return settings.url.rstrip("/") + CALLBACK_PATH
