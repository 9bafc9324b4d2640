"""A stand-in GitHub (Enterprise Server layout: the REST API under `/api/v3`) for the tests: OAuth2 sign-in,
users, repositories with collaborators, organisations, webhooks and commit statuses. Every request Hangar
sends to the API, and every answer given, is checked against GitHub's own OpenAPI description
(`github.openapi.json`, an excerpt made by scripts/github_openapi_excerpt.py); `problems` lists what was not
as documented."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.server.forges.standin.oauth import OAuthServer
from tests.server.forges.standin.openapi import HERE, Description

CLIENT_ID = "standin-client-id"
CLIENT_SECRET = "standin-client-secret"
LEVELS = ("pull", "triage", "push", "maintain", "admin")


@dataclass
class StandinRepo:
    """A repository: its owner administers it; `access` gives others `pull`, `push` or `admin`."""

    id: int
    owner: str
    name: str
    private: bool
    clone_url: str
    default_branch: str = "main"
    access: dict[str, str] = field(default_factory=dict)
    hooks: dict[int, dict[str, Any]] = field(default_factory=dict)

    def level(self, login: str | None) -> str | None:
        """What `login` may do (None: nothing; anonymous callers pull public repositories)."""
        if login == self.owner:
            return "admin"
        found = self.access.get(login or "")
        return found or (None if self.private else "pull")


Handler = Callable[[str, dict[str, str], dict[str, str], Any], tuple[int, Any]]


class StandinGitHub:
    """The forge's state, and the Starlette app that serves it."""

    def __init__(self, token_seconds: float | None = 8 * 3600) -> None:
        self.oauth = OAuthServer(CLIENT_ID, CLIENT_SECRET, token_seconds)
        self.description = Description(HERE / "github.openapi.json", "https://api.github.com")
        self.users: dict[str, dict[str, Any]] = {}
        self.repos: dict[int, StandinRepo] = {}
        self.orgs: dict[str, set[str]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self._ids = itertools.count(1000)
        self.app = Starlette(routes=[
            Route("/login/oauth/authorize", self.oauth.authorize_page, methods=["GET"]),
            Route("/login/oauth/authorize", self.oauth.authorize, methods=["POST"]),
            Route("/login/oauth/access_token", self.oauth.token, methods=["POST"]),
            Route("/api/v3/{path:path}", self.api, methods=["GET", "POST", "PATCH", "DELETE"]),
        ])  # fmt: skip
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/user"), self._user),
            ("GET", re.compile(r"/user/repos"), self._user_repos),
            ("GET", re.compile(r"/user/orgs"), self._user_orgs),
            ("GET", re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"), self._repo),
            ("POST", re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/hooks"), self._create_hook),
            (
                "GET",
                re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/hooks/(?P<hook>\d+)"),
                self._get_hook,
            ),
            (
                "DELETE",
                re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/hooks/(?P<hook>\d+)"),
                self._delete_hook,
            ),
            (
                "POST",
                re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/statuses/(?P<sha>[^/]+)"),
                self._status,
            ),
        ]

    @property
    def problems(self) -> list[str]:
        """Requests or answers not as GitHub documents them, and refused OAuth requests."""
        return self.description.problems + self.oauth.problems

    def add_user(self, login: str, email: str = "") -> None:
        """A person with an account."""
        self.users[login] = {
            "id": next(self._ids),
            "login": login,
            "name": login.title(),
            "email": email or None,
        }

    def add_repo(self, owner: str, name: str, clone_url: str, private: bool = False) -> StandinRepo:
        """A repository `owner` administers."""
        repo = StandinRepo(next(self._ids), owner, name, private, clone_url)
        self.repos[repo.id] = repo
        return repo

    def find(self, owner: str, name: str) -> StandinRepo | None:
        """The repository `owner/name`."""
        return next((r for r in self.repos.values() if (r.owner, r.name) == (owner, name)), None)

    def token_for(self, login: str) -> str:
        """An access token of `login` (as if they had signed in)."""
        return str(self.oauth.issue(login)["access_token"])

    async def api(self, request: Request) -> Response:
        """The REST API: checked against the description, answered, the answer checked too."""
        path = "/" + request.path_params["path"]
        method = request.method
        query = dict(request.query_params)
        headers = {key.lower(): value for key, value in request.headers.items()}
        body = await request.body()
        self.calls.append(f"{method} {path}")
        if not self.description.check_request(method, path, query, headers, body):
            return JSONResponse(
                {"message": "Invalid request", "documentation_url": "standin"}, status_code=400
            )
        login = self.oauth.who(headers.get("authorization", ""))
        if login is None:
            status, answer = (
                401,
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
            )
        else:
            status, answer = self._dispatch(method, path, login, query, json.loads(body) if body else None)
        if status != 401:  # GitHub answers any call with bad credentials so; few operations document it
            self.description.check_response(method, path, query, status, answer)
        return Response(status_code=status) if answer is None else JSONResponse(answer, status_code=status)

    def _dispatch(
        self, method: str, path: str, login: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        for verb, pattern, handler in self._routes:
            matched = pattern.fullmatch(path)
            if verb == method and matched:
                return handler(login, matched.groupdict(), query, body)
        return 404, _not_found()

    def _user(self, login: str, _path: dict[str, str], _query: dict[str, str], _body: Any) -> tuple[int, Any]:
        user = self.description.example("/user", "get")
        person = self.users[login]
        user |= {"id": person["id"], "login": login, "name": person["name"], "email": person["email"],
                 "avatar_url": f"https://avatars.example/{login}", "user_view_type": "private"}  # fmt: skip
        return 200, user

    def _user_repos(
        self, login: str, _path: dict[str, str], query: dict[str, str], _body: Any
    ) -> tuple[int, Any]:
        size, number = int(query.get("per_page", "30")), int(query.get("page", "1"))
        mine = sorted(
            (
                repo
                for repo in self.repos.values()
                if repo.level(login) and (repo.owner == login or login in repo.access)
            ),
            key=lambda repo: f"{repo.owner}/{repo.name}",
        )
        page = mine[(number - 1) * size : number * size]
        template = self.description.example("/user/repos", "get")[0]
        return 200, [self._repo_json(dict(template), repo, login) for repo in page]

    def _user_orgs(
        self, login: str, _path: dict[str, str], _query: dict[str, str], _body: Any
    ) -> tuple[int, Any]:
        template = self.description.example("/user/orgs", "get")[0]
        return 200, [
            template | {"login": org, "id": index}
            for index, org in enumerate(sorted(self.orgs.get(login, ())))
        ]

    def _repo(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> tuple[int, Any]:
        repo = self.find(path["owner"], path["repo"])
        if repo is None or repo.level(login) is None:
            return 404, _not_found()
        return 200, self._repo_json(self.description.example("/repos/{owner}/{repo}", "get"), repo, login)

    def _create_hook(
        self, login: str, path: dict[str, str], _query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        repo = self._administered(login, path)
        if repo is None:
            return 404, _not_found()
        hook_id = next(self._ids)
        repo.hooks[hook_id] = body
        return 201, self._hook_json(repo, hook_id, "/repos/{owner}/{repo}/hooks", "post", "201")

    def _get_hook(
        self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any
    ) -> tuple[int, Any]:
        repo = self._administered(login, path)
        if repo is None or int(path["hook"]) not in repo.hooks:
            return 404, _not_found()
        return 200, self._hook_json(
            repo, int(path["hook"]), "/repos/{owner}/{repo}/hooks/{hook_id}", "get", "200"
        )

    def _delete_hook(
        self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any
    ) -> tuple[int, Any]:
        repo = self._administered(login, path)
        if repo is None or repo.hooks.pop(int(path["hook"]), None) is None:
            return 404, _not_found()
        return 204, None

    def _status(self, login: str, path: dict[str, str], _query: dict[str, str], body: Any) -> tuple[int, Any]:
        repo = self.find(path["owner"], path["repo"])
        if repo is None or LEVELS.index(repo.level(login) or "pull") < LEVELS.index("push"):
            return 404, _not_found()
        self.statuses.append(
            {"repo": f"{repo.owner}/{repo.name}", "sha": path["sha"], "login": login, **body}
        )
        status = self.description.example("/repos/{owner}/{repo}/statuses/{sha}", "post", "201")
        return 201, status | {"state": body["state"], "context": body.get("context", "default")}

    def _administered(self, login: str, path: dict[str, str]) -> StandinRepo | None:
        repo = self.find(path["owner"], path["repo"])
        return repo if repo is not None and repo.level(login) == "admin" else None

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

    def _hook_json(
        self, repo: StandinRepo, hook_id: int, path: str, method: str, status: str
    ) -> dict[str, Any]:
        hook: dict[str, Any] = self.description.example(path, method, status)
        body = repo.hooks[hook_id]
        config = {key: value for key, value in body["config"].items() if key != "secret"} | {
            "secret": "********"
        }
        return hook | {"id": hook_id, "events": body["events"], "active": body["active"], "config": config}


def _not_found() -> dict[str, str]:
    return {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
