"""Gitea's and Forgejo's REST API (`/api/v1`) for `RemoteForge`: GitHub's paths and repository shape
(`GitHub`'s repository and webhook calls serve as they are), its own user, paging, organisations and hook
type."""

from __future__ import annotations

from server.forges.github_api import HOOK_EVENTS, GitHub, github_repo
from server.forges.remote import ForgeRepo, ForgeUser, RemoteForge, segment, text_of

PAGE = 50
"""Gitea's largest page (`MAX_RESPONSE_ITEMS`, 50 by default)."""


def gitea_endpoints(web_url: str) -> tuple[str, str, str]:
    """The authorize, token and API addresses of a Gitea or Forgejo at `web_url`."""
    web = web_url.rstrip("/")
    return f"{web}/login/oauth/authorize", f"{web}/login/oauth/access_token", f"{web}/api/v1"


class Gitea(GitHub):
    """Gitea and Forgejo, by their API documentation (swagger: /api/swagger)."""

    kind = "gitea"
    title = "Gitea"
    clone_login_name = "oauth2"

    def auth_headers(self, token: str) -> dict[str, str]:
        """The bearer token, JSON."""
        return RemoteForge.auth_headers(self, token)

    async def user(self, token: str) -> ForgeUser:
        """`GET /user`."""
        data = await self.json("/user", token)
        return ForgeUser(
            id=text_of(data, "id"),
            login=text_of(data, "login"),
            name=text_of(data, "full_name"),
            email=text_of(data, "email"),
            avatar=text_of(data, "avatar_url"),
        )

    async def repositories(self, token: str) -> list[ForgeRepo]:
        """`GET /user/repos`, every page."""
        return [github_repo(item) for item in await self.pages("/user/repos", token, {}, "limit", PAGE)]

    async def organisations(self, token: str) -> set[str]:
        """`GET /user/orgs`, every page."""
        orgs = await self.pages("/user/orgs", token, {}, "limit", PAGE)
        return {text_of(org, "name") or text_of(org, "username") for org in orgs}

    async def create_hook(self, token: str, repo: ForgeRepo, url: str, secret: str) -> str:
        """`POST /repos/{owner}/{repo}/hooks` (type `gitea`)."""
        config = {"url": url, "content_type": "json", "secret": secret}
        body = {"type": "gitea", "active": True, "events": HOOK_EVENTS, "config": config}
        path = f"/repos/{segment(repo.owner)}/{segment(repo.name)}/hooks"
        return text_of((await self.call("POST", path, token, body=body)).json(), "id")
