"""A stand-in GitHub (Enterprise Server layout: the REST API under `/api/v3`) for the tests. Every request
Hangar sends to the API, and every answer given, is checked against GitHub's own OpenAPI description
(`github.openapi.json`, an excerpt made by scripts/github_openapi_excerpt.py); its answers start from the
description's examples."""

from __future__ import annotations

from typing import Any

from tests.server.forges.standin.forge import (
    CLIENT_ID,
    CLIENT_SECRET,
    GITHUB_SHAPED,
    LEVELS,
    Answer,
    Handler,
    StandinForge,
    StandinRepo,
)
from tests.server.forges.standin.openapi import HERE, Description

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "StandinGitHub"]


class StandinGitHub(StandinForge):
    """GitHub: OAuth under `/login/oauth`, its API under `/api/v3`, checked by its OpenAPI description."""

    def __init__(self, token_seconds: float | None = 8 * 3600) -> None:
        super().__init__(token_seconds)
        self.description = Description(HERE / "github.openapi.json", "https://api.github.com")
        self.api_problems = self.description.problems

    def routes(self) -> list[tuple[str, str, Handler]]:
        """users/get-authenticated, repos/list-for-authenticated-user, orgs/list-for-authenticated-user,
        repos/get, repos/create-webhook, repos/get-webhook, repos/delete-webhook and
        repos/create-commit-status."""
        return [(method, path, getattr(self, handler)) for method, path, handler in GITHUB_SHAPED]

    def check_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> bool:
        """The request against the OpenAPI description (path, query, body), with GitHub's media type."""
        if "application/vnd.github+json" not in headers.get("accept", ""):
            self.api_problems.append(f"request {method} {path}: no Accept: application/vnd.github+json")
        return self.description.check_request(method, path, query, headers, body)

    def check_response(self, method: str, path: str, query: dict[str, str], status: int, answer: Any) -> None:
        """The answer against the OpenAPI description (status and body)."""
        self.description.check_response(method, path, query, status, answer)

    def _user(self, login: str, _path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        person = self.users[login]
        return 200, self.description.example("/user", "get") | {
            "id": person["id"], "login": login, "name": person["name"], "email": person["email"],
            "avatar_url": f"https://avatars.example/{login}", "user_view_type": "private",
        }  # fmt: skip

    def _user_repos(self, login: str, _path: dict[str, str], query: dict[str, str], _body: Any) -> Answer:
        template = self.description.example("/user/repos", "get")[0]
        page = self.page_of(self.visible(login), query, "per_page", 30)
        return 200, [self._repo_json(dict(template), repo, login) for repo in page]

    def _user_orgs(self, login: str, _path: dict[str, str], query: dict[str, str], _body: Any) -> Answer:
        template = self.description.example("/user/orgs", "get")[0]
        names = self.page_of(sorted(self.orgs.get(login, ())), query, "per_page", 30)
        return 200, [template | {"login": name, "id": index} for index, name in enumerate(names)]

    def _repo(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self.find(path["owner"], path["repo"])
        if repo is None or not repo.allows(login, "pull"):
            return 404, _not_found()
        return 200, self._repo_json(self.description.example("/repos/{owner}/{repo}", "get"), repo, login)

    def _create_hook(self, login: str, path: dict[str, str], _query: dict[str, str], body: Any) -> Answer:
        repo = self._administered(login, path)
        if repo is None:
            return 404, _not_found()
        hook_id = self.new_id()
        repo.hooks[hook_id] = body
        return 201, self._hook_json(repo, hook_id, ("/repos/{owner}/{repo}/hooks", "post", "201"))

    def _get_hook(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self._administered(login, path)
        if repo is None or int(path["hook"]) not in repo.hooks:
            return 404, _not_found()
        operation = ("/repos/{owner}/{repo}/hooks/{hook_id}", "get", "200")
        return 200, self._hook_json(repo, int(path["hook"]), operation)

    def _delete_hook(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self._administered(login, path)
        if repo is None or repo.hooks.pop(int(path["hook"]), None) is None:
            return 404, _not_found()
        return 204, None

    def _status(self, login: str, path: dict[str, str], _query: dict[str, str], body: Any) -> Answer:
        repo = self.find(path["owner"], path["repo"])
        if repo is None or not repo.allows(login, "push"):
            return 404, _not_found()
        self.record_status(repo, path["sha"], login, body)
        status = self.description.example("/repos/{owner}/{repo}/statuses/{sha}", "post", "201")
        return 201, status | {"state": body["state"], "context": body.get("context", "default")}

    def _administered(self, login: str, path: dict[str, str]) -> StandinRepo | None:
        repo = self.find(path["owner"], path["repo"])
        return repo if repo is not None and repo.allows(login, "admin") else None

    def _repo_json(self, template: dict[str, Any], repo: StandinRepo, login: str) -> dict[str, Any]:
        level = LEVELS.index(repo.level(login) or "pull")
        permissions = {name: level >= LEVELS.index(name) for name in LEVELS}
        owner = dict(template["owner"]) | {
            "login": repo.owner,
            "id": self.users.get(repo.owner, {}).get("id", 1),
        }
        return template | {
            "id": repo.id, "name": repo.name, "full_name": f"{repo.owner}/{repo.name}", "owner": owner,
            "private": repo.private, "visibility": "private" if repo.private else "public",
            "clone_url": repo.clone_url, "html_url": f"https://github.example/{repo.owner}/{repo.name}",
            "default_branch": repo.default_branch, "permissions": permissions,
        }  # fmt: skip

    def _hook_json(self, repo: StandinRepo, hook_id: int, operation: tuple[str, str, str]) -> dict[str, Any]:
        hook: dict[str, Any] = self.description.example(*operation)
        body = repo.hooks[hook_id]
        config = {key: value for key, value in body["config"].items() if key != "secret"} | {
            "secret": "********"
        }
        return hook | {"id": hook_id, "events": body["events"], "active": body["active"], "config": config}


def _not_found() -> dict[str, str]:
    return {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
