"""GitLab's REST API (`/api/v4`, gitlab.com or self-hosted) for `RemoteForge`: projects, their members'
access levels, groups and project hooks."""

from __future__ import annotations

from typing import Any

from server.forges.remote import ForgeRepo, ForgeUser, Permission, RemoteForge, segment, text_of

SCOPES = ["api", "read_user"]
"""`api`: projects, their hooks and commit statuses; `read_user`: who signed in."""
MAINTAINER, DEVELOPER, REPORTER = 40, 30, 20
"""GitLab's access levels (Owner is 50, Guest 10)."""


def gitlab_endpoints(web_url: str) -> tuple[str, str, str]:
    """The authorize, token and API addresses of a GitLab at `web_url`."""
    web = web_url.rstrip("/")
    return f"{web}/oauth/authorize", f"{web}/oauth/token", f"{web}/api/v4"


class GitLab(RemoteForge):
    """GitLab, by its REST API documentation (docs.gitlab.com/api/)."""

    kind = "gitlab"
    title = "GitLab"

    async def user(self, token: str) -> ForgeUser:
        """`GET /user`."""
        data = await self.json("/user", token)
        return ForgeUser(
            id=text_of(data, "id"),
            login=text_of(data, "username"),
            name=text_of(data, "name"),
            email=text_of(data, "email"),
            avatar=text_of(data, "avatar_url"),
        )

    async def repositories(self, token: str) -> list[ForgeRepo]:
        """`GET /projects?membership=true`, every page."""
        query = {"membership": "true", "simple": "false", "order_by": "path", "sort": "asc"}
        return [gitlab_project(item) for item in await self.pages("/projects", token, query)]

    async def repository(self, token: str, owner: str, name: str) -> ForgeRepo | None:
        """`GET /projects/{url-encoded path}`."""
        response = await self.call("GET", f"/projects/{segment(f'{owner}/{name}')}", token, missing_ok=True)
        return None if response.status_code == 404 else gitlab_project(response.json())

    async def organisations(self, token: str) -> set[str]:
        """`GET /groups` (those the user is a member of), every page."""
        groups = await self.pages("/groups", token, {"min_access_level": 10})
        return {text_of(group, "full_path") for group in groups}

    async def create_hook(self, token: str, repo: ForgeRepo, url: str, secret: str) -> str:
        """`POST /projects/{id}/hooks`: pushes, tag pushes and merge requests, `X-Gitlab-Token` the secret."""
        body = {
            "url": url, "token": secret, "push_events": True, "tag_push_events": True,
            "merge_requests_events": True, "enable_ssl_verification": url.startswith("https://"),
        }  # fmt: skip
        return text_of((await self.call("POST", f"/projects/{repo.id}/hooks", token, body=body)).json(), "id")

    def hook_path(self, owner: str, name: str, hook_id: str) -> str:
        """`/projects/{path}/hooks/{id}` (get, delete)."""
        return f"/projects/{segment(f'{owner}/{name}')}/hooks/{segment(hook_id)}"


def gitlab_project(data: Any) -> ForgeRepo:
    """A GitLab project as a repository: its namespace is the owner (subgroups kept: `group/sub`)."""
    access = data.get("permissions") or {}
    level = max(
        int((access.get("project_access") or {}).get("access_level") or 0),
        int((access.get("group_access") or {}).get("access_level") or 0),
    )
    private = text_of(data, "visibility") != "public"
    permission = (
        Permission.ADMIN if level >= MAINTAINER
        else Permission.WRITE if level >= DEVELOPER
        else Permission.READ if level >= REPORTER or not private
        else Permission.NONE
    )  # fmt: skip
    return ForgeRepo(
        id=text_of(data, "id"),
        owner=text_of(data, "namespace", "full_path"),
        name=text_of(data, "path"),
        clone_url=text_of(data, "http_url_to_repo"),
        link=text_of(data, "web_url"),
        private=private,
        default_branch=text_of(data, "default_branch") or "main",
        permission=permission,
    )
