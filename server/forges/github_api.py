"""GitHub's REST API (github.com, or GitHub Enterprise Server under `/api/v3`) for `RemoteForge`."""

from __future__ import annotations

from typing import Any

from server.forges.remote import ForgeRepo, ForgeUser, Permission, RemoteForge, segment, text_of

API_VERSION = "2022-11-28"
SCOPES = ["repo", "read:org", "user:email"]
"""`repo`: private repositories, their webhooks and commit statuses; `read:org`: organisation membership."""
HOOK_EVENTS = ["push", "pull_request"]
"""Pushes of branches and tags, and pull requests."""


def github_endpoints(web_url: str) -> tuple[str, str, str]:
    """The authorize, token and API addresses of a GitHub at `web_url`."""
    web = web_url.rstrip("/")
    api = "https://api.github.com" if web in ("https://github.com", "http://github.com") else f"{web}/api/v3"
    return f"{web}/login/oauth/authorize", f"{web}/login/oauth/access_token", api


class GitHub(RemoteForge):
    """GitHub, by its OpenAPI description's operations (tests/server/forges/standin/github.openapi.json)."""

    kind = "github"
    title = "GitHub"
    clone_login_name = "x-access-token"

    def auth_headers(self, token: str) -> dict[str, str]:
        """GitHub's bearer token, media type and API version."""
        return {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }

    async def user(self, token: str) -> ForgeUser:
        """`users/get-authenticated`."""
        data = await self.json("/user", token)
        return ForgeUser(
            id=text_of(data, "id"),
            login=text_of(data, "login"),
            name=text_of(data, "name"),
            email=text_of(data, "email"),
            avatar=text_of(data, "avatar_url"),
        )

    async def repositories(self, token: str) -> list[ForgeRepo]:
        """`repos/list-for-authenticated-user`, every page."""
        items = await self.pages("/user/repos", token, {"sort": "full_name"})
        return [github_repo(item) for item in items]

    async def repository(self, token: str, owner: str, name: str) -> ForgeRepo | None:
        """`repos/get`."""
        response = await self.call("GET", f"/repos/{segment(owner)}/{segment(name)}", token, missing_ok=True)
        return None if response.status_code == 404 else github_repo(response.json())

    async def organisations(self, token: str) -> set[str]:
        """`orgs/list-for-authenticated-user`, every page."""
        return {text_of(org, "login") for org in await self.pages("/user/orgs", token, {})}

    async def create_hook(self, token: str, repo: ForgeRepo, url: str, secret: str) -> str:
        """`repos/create-webhook`."""
        config = {"url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0"}
        body = {"name": "web", "active": True, "events": HOOK_EVENTS, "config": config}
        response = await self.call(
            "POST", f"/repos/{segment(repo.owner)}/{segment(repo.name)}/hooks", token, body=body
        )
        return text_of(response.json(), "id")

    def hook_path(self, owner: str, name: str, hook_id: str) -> str:
        """`repos/get-webhook` and `repos/delete-webhook`."""
        return f"/repos/{segment(owner)}/{segment(name)}/hooks/{segment(hook_id)}"


def github_repo(data: Any) -> ForgeRepo:
    """A repository of GitHub's (Gitea's and Forgejo's have the same shape)."""
    permissions = data.get("permissions") or {}
    permission = (
        Permission.ADMIN if permissions.get("admin")
        else Permission.WRITE if permissions.get("push")
        else Permission.READ if permissions.get("pull")
        else Permission.NONE
    )  # fmt: skip
    return ForgeRepo(
        id=text_of(data, "id"),
        owner=text_of(data, "owner", "login"),
        name=text_of(data, "name"),
        clone_url=text_of(data, "clone_url"),
        link=text_of(data, "html_url"),
        private=bool(data.get("private")),
        default_branch=text_of(data, "default_branch") or "main",
        permission=permission,
    )
