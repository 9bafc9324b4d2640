"""What Hangar asks of the forge people sign in with: one interface (`RemoteForge`), one module per forge
(`github_api`, `gitea_api`, `gitlab_api`). The forge's REST API with a user's OAuth token: who they are, which
repositories they may see, build or administer, their organisations, and the webhooks Hangar makes."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from server.forges.oauth import OAuthClient


class Permission(enum.IntEnum):
    """What a user may do with a repository, each level including those below it."""

    NONE = 0
    READ = 1
    """See it, its builds and their logs (the forge's `pull`)."""
    WRITE = 2
    """Build: restart, cancel, run, promote, approve (the forge's `push`)."""
    ADMIN = 3
    """Change its settings, secrets and crons, switch it off (the forge's `admin`)."""


@dataclass(frozen=True)
class ForgeUser:
    """The signed-in user as the forge knows them."""

    id: str
    login: str
    name: str = ""
    email: str = ""
    avatar: str = ""


@dataclass(frozen=True)
class ForgeRepo:
    """A repository on the forge, with what the asking user may do with it."""

    id: str
    owner: str
    name: str
    clone_url: str
    link: str
    private: bool
    default_branch: str
    permission: Permission

    @property
    def slug(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"


class ForgeError(Exception):
    """The forge could not be asked, or refused (`status` 0 when it did not answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


JsonValue = Any


class RemoteForge(ABC):
    """A forge's REST API, called with a signed-in user's access token."""

    kind: str
    """`github`, `gitea` or `gitlab`: the `forge` of the repositories switched on from it."""
    title: str
    """How the sign-in button names it."""
    clone_login_name: str = "oauth2"
    """The login a runner clones with, the user's token as the password."""

    def __init__(self, web_url: str, api_url: str, oauth: OAuthClient, http: httpx.AsyncClient) -> None:
        self.web_url = web_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.oauth = oauth
        self.http = http

    @abstractmethod
    async def user(self, token: str) -> ForgeUser:
        """Who the token belongs to."""

    @abstractmethod
    async def repositories(self, token: str) -> list[ForgeRepo]:
        """Every repository the user may see, each with their permission (all pages)."""

    @abstractmethod
    async def repository(self, token: str, owner: str, name: str) -> ForgeRepo | None:
        """One repository with the user's permission; None when it does not exist or is hidden from them."""

    @abstractmethod
    async def organisations(self, token: str) -> set[str]:
        """The names of the organisations (groups) the user belongs to."""

    @abstractmethod
    async def create_hook(self, token: str, repo: ForgeRepo, url: str, secret: str) -> str:
        """Make the webhook (push, tags, pull requests; JSON; signed with `secret`): its id."""

    @abstractmethod
    def hook_path(self, owner: str, name: str, hook_id: str) -> str:
        """The API path of a repository's webhook."""

    async def hook_exists(self, token: str, owner: str, name: str, hook_id: str) -> bool:
        """Whether the webhook is still there."""
        path = self.hook_path(owner, name, hook_id)
        return (await self.call("GET", path, token, missing_ok=True)).status_code != 404

    async def delete_hook(self, token: str, owner: str, name: str, hook_id: str) -> None:
        """Remove the webhook (one already gone is no error)."""
        await self.call("DELETE", self.hook_path(owner, name, hook_id), token, missing_ok=True)

    def clone_login(self, user: ForgeUser | None = None) -> str:
        """The login to clone with, the user's token being the password."""
        return self.clone_login_name

    def auth_headers(self, token: str) -> dict[str, str]:
        """The headers that carry the token."""
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: JsonValue = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        """One API call; ForgeError unless it succeeded (or, with `missing_ok`, answered 404)."""
        url = self.api_url + path
        try:
            response = await self.http.request(
                method, url, params=params, json=body, headers=self.auth_headers(token)
            )
        except httpx.HTTPError as exc:
            raise ForgeError(
                f"{self.title} did not answer {method} {path}: {exc or type(exc).__name__}"
            ) from exc
        if response.is_success or (missing_ok and response.status_code == 404):
            return response
        detail = " ".join(response.text.split())[:200]
        raise ForgeError(f"{self.title} answered {method} {path} with {response.status_code}: {detail}",
                         response.status_code)  # fmt: skip

    async def json(self, path: str, token: str, params: Mapping[str, str | int] | None = None) -> JsonValue:
        """The JSON answer of a GET."""
        return (await self.call("GET", path, token, params=params)).json()

    async def pages(
        self,
        path: str,
        token: str,
        params: Mapping[str, str | int],
        size_name: str = "per_page",
        size: int = 100,
    ) -> list[JsonValue]:
        """Every item of a paged list, page after page until one is short."""
        items: list[JsonValue] = []
        for number in range(1, 1000):
            page = await self.json(path, token, {**params, size_name: size, "page": number})
            if not isinstance(page, list):
                raise ForgeError(f"{self.title} answered GET {path} with something else than a list")
            items += page
            if len(page) < size:
                break
        return items


def segment(text: str) -> str:
    """`text` as one path segment."""
    return quote(text, safe="")


def text_of(data: Mapping[str, Any], *path: str) -> str:
    """A nested string of an answer ('' when missing)."""
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return str(value) if value is not None else ""
