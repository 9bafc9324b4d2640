"""What every stand-in forge shares: people, repositories with collaborators, organisations, webhooks and
commit statuses; OAuth2; a REST API whose every request is checked before it is answered and whose every
answer is checked before it leaves (`problems` lists what was not as the forge documents it)."""

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

CLIENT_ID = "standin-client-id"
CLIENT_SECRET = "standin-client-secret"
LEVELS = ("pull", "triage", "push", "maintain", "admin")
"""Access levels, weakest first (GitHub's names; GitLab's levels map onto them)."""


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
        """What `login` may do (None: nothing; anyone pulls a public repository)."""
        if login == self.owner:
            return "admin"
        found = self.access.get(login or "")
        return found or (None if self.private else "pull")

    def allows(self, login: str | None, level: str) -> bool:
        """Whether `login` may do what needs `level`."""
        held = self.level(login)
        return held is not None and LEVELS.index(held) >= LEVELS.index(level)


GITHUB_SHAPED = (
    ("GET", r"/user", "_user"),
    ("GET", r"/user/repos", "_user_repos"),
    ("GET", r"/user/orgs", "_user_orgs"),
    ("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)", "_repo"),
    ("POST", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/hooks", "_create_hook"),
    ("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/hooks/(?P<hook>\d+)", "_get_hook"),
    ("DELETE", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/hooks/(?P<hook>\d+)", "_delete_hook"),
    ("POST", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/statuses/(?P<sha>[^/]+)", "_status"),
)
"""The operations Hangar calls on GitHub, and on Gitea, whose paths are GitHub's: method, path, handler."""
Answer = tuple[int, Any]
Handler = Callable[[str, dict[str, str], dict[str, str], Any], Answer]


class StandinForge:
    """The forge's state and the Starlette app serving its OAuth endpoints and REST API."""

    kind = "github"
    title = "GitHub"
    api_prefix = "/api/v3"
    authorize_path = "/login/oauth/authorize"
    token_path = "/login/oauth/access_token"

    def __init__(self, token_seconds: float | None = 8 * 3600) -> None:
        self.oauth = OAuthServer(CLIENT_ID, CLIENT_SECRET, token_seconds)
        self.users: dict[str, dict[str, Any]] = {}
        self.repos: dict[int, StandinRepo] = {}
        self.orgs: dict[str, set[str]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.api_problems: list[str] = []
        self.url = ""
        self._ids = itertools.count(1000)
        self.app = Starlette(routes=[
            Route(self.authorize_path, self.oauth.authorize_page, methods=["GET"]),
            Route(self.authorize_path, self.oauth.authorize, methods=["POST"]),
            Route(self.token_path, self.oauth.token, methods=["POST"]),
            Route(self.api_prefix + "/{path:path}", self.api, methods=["GET", "POST", "PATCH", "DELETE"]),
        ])  # fmt: skip

    @property
    def problems(self) -> list[str]:
        """Requests or answers not as the forge documents them, and refused OAuth requests."""
        return self.api_problems + self.oauth.problems

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The API's operations: method, path pattern (named groups) and handler."""
        raise NotImplementedError

    def check_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> bool:
        """Whether the request is as documented (its problem kept in `api_problems` otherwise)."""
        raise NotImplementedError

    def check_response(self, method: str, path: str, query: dict[str, str], status: int, answer: Any) -> None:
        """Keep the problem when the answer is not as documented."""
        raise NotImplementedError

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

    def visible(self, login: str, member_only: bool = True) -> list[StandinRepo]:
        """The repositories `login` owns or collaborates on, by slug."""
        mine = [r for r in self.repos.values() if r.level(login) and (r.owner == login or login in r.access)]
        return sorted(mine if member_only else self.repos.values(), key=lambda r: f"{r.owner}/{r.name}")

    def new_id(self) -> int:
        """A fresh id."""
        return next(self._ids)

    async def api(self, request: Request) -> Response:
        """The REST API: the request checked, answered, the answer checked."""
        raw = request.scope.get("raw_path") or request.url.path.encode()
        path = raw.decode().split("?")[0].removeprefix(self.api_prefix)  # GitLab's `group%2Fproject` kept
        method = request.method
        query = dict(request.query_params)
        headers = {key.lower(): value for key, value in request.headers.items()}
        body = await request.body()
        self.calls.append(f"{method} {path}")
        if not self.check_request(method, path, query, headers, body):
            return JSONResponse({"message": "invalid request"}, status_code=400)
        login = self.oauth.who(headers.get("authorization", ""))
        if login is None:  # any operation answers bad credentials so (few describe it)
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        status, answer = self._dispatch(method, path, login, query, json.loads(body) if body else None)
        self.check_response(method, path, query, status, answer)
        return Response(status_code=status) if answer is None else JSONResponse(answer, status_code=status)

    def _dispatch(self, method: str, path: str, login: str, query: dict[str, str], body: Any) -> Answer:
        for verb, pattern, handler in self.routes():
            matched = re.fullmatch(pattern, path)
            if verb == method and matched:
                return handler(login, matched.groupdict(), query, body)
        return 404, {"message": "404 Not Found"}

    def page_of(self, items: list[Any], query: dict[str, str], size_name: str, default: int) -> list[Any]:
        """The page of `items` the query asks for."""
        size, number = int(query.get(size_name, str(default))), int(query.get("page", "1"))
        return items[(number - 1) * size : number * size]

    def record_status(self, repo: StandinRepo, sha: str, login: str, body: dict[str, Any]) -> None:
        """Keep a commit status sent by `login` (`context`: GitHub's and Gitea's name, GitLab's `name`)."""
        context = body.get("context") or body.get("name")
        self.statuses.append(
            {"repo": f"{repo.owner}/{repo.name}", "sha": sha, "login": login, **body, "context": context}
        )

    def hook_target(self, hook: dict[str, Any]) -> tuple[str, str]:
        """Where a webhook made through the API posts, and the secret it signs with."""
        return hook["config"]["url"], hook["config"]["secret"]

    def hook_events(self, hook: dict[str, Any]) -> set[str]:
        """What a webhook made through the API is sent for, in Hangar's words (`push`, `tag`, `pull_request`);
        empty unless its body is JSON."""
        if hook["config"].get("content_type") != "json":
            return set()
        events = set(hook["events"])
        return events | ({"tag"} if "push" in events else set())
