"""A stand-in Gitea (and Forgejo): OAuth2 under `/login/oauth`, the REST API under `/api/v1`. Requests and
answers are checked against Gitea's API documentation (its swagger, /api/swagger: `CreateHookOption`,
`CreateStatusOption`, `Repository`, `User`, `Organization`, `Hook`, `CommitStatus`), written down in
`documented.py`'s way: unknown or mistyped fields are problems."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tests.server.forges.standin.documented import check, check_query
from tests.server.forges.standin.forge import (
    GITHUB_SHAPED,
    LEVELS,
    Answer,
    Handler,
    StandinForge,
    StandinRepo,
)


class CreateHookOption(BaseModel):
    """POST /repos/{owner}/{repo}/hooks."""

    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal[
        "dingtalk",
        "discord",
        "gitea",
        "gogs",
        "msteams",
        "slack",
        "telegram",
        "feishu",
        "wechatwork",
        "packagist",
    ]
    config: dict[str, str]
    events: list[str] = []
    branch_filter: str = ""
    active: bool = False
    authorization_header: str = ""


class CreateStatusOption(BaseModel):
    """POST /repos/{owner}/{repo}/statuses/{sha}."""

    model_config = ConfigDict(extra="forbid", strict=True)
    state: Literal["pending", "success", "error", "failure", "warning"]
    target_url: str = ""
    description: str = ""
    context: str = ""


class Owner(BaseModel):
    id: int
    login: str


class Permission(BaseModel):
    admin: bool
    push: bool
    pull: bool


class Repository(BaseModel):
    """The documented fields Hangar reads of a `Repository`."""

    id: int
    owner: Owner
    name: str
    full_name: str
    private: bool
    clone_url: str
    html_url: str
    default_branch: str
    permissions: Permission


class User(BaseModel):
    id: int
    login: str
    full_name: str
    email: str
    avatar_url: str


class Organization(BaseModel):
    id: int
    name: str


class Hook(BaseModel):
    id: int
    type: str
    config: dict[str, str]
    events: list[str]
    active: bool


class CommitStatus(BaseModel):
    id: int
    status: str
    context: str


ANSWERS: dict[str, type[BaseModel]] = {"user": User, "repo": Repository, "org": Organization, "hook": Hook,
                                       "status": CommitStatus}  # fmt: skip


class StandinGitea(StandinForge):
    """Gitea: the same OAuth paths as GitHub, its own API shapes."""

    kind = "gitea"
    title = "Gitea"
    api_prefix = "/api/v1"

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The operations Hangar calls."""
        return [(method, path, getattr(self, handler)) for method, path, handler in GITHUB_SHAPED]

    def check_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> bool:
        """Gitea's `Authorization: token|bearer …`, documented query parameters and request bodies."""
        where = f"request {method} {path}"
        scheme = headers.get("authorization", "").partition(" ")[0].lower()
        if scheme not in ("token", "bearer"):
            self.api_problems.append(f"{where}: no token in Authorization")
            return False
        if not check_query(self.api_problems, where, query, {"page", "limit"}):
            return False
        if method == "POST" and path.endswith("/hooks"):
            return check(self.api_problems, where, CreateHookOption, _json(body))
        if method == "POST" and "/statuses/" in path:
            return check(self.api_problems, where, CreateStatusOption, _json(body))
        return True

    def check_response(self, method: str, path: str, query: dict[str, str], status: int, answer: Any) -> None:
        """Each answer object as documented (lists item by item)."""
        kind = _answer_kind(method, path, status)
        for item in (answer if isinstance(answer, list) else [answer]) if kind else []:
            check(self.api_problems, f"answer {status} to {method} {path}", ANSWERS[kind], item)

    def _user(self, login: str, _path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        person = self.users[login]
        avatar = f"https://avatars.example/{login}"
        return 200, {"id": person["id"], "login": login, "full_name": person["name"],
                     "email": person["email"] or "", "avatar_url": avatar}  # fmt: skip

    def _user_repos(self, login: str, _path: dict[str, str], query: dict[str, str], _body: Any) -> Answer:
        return 200, [
            self._repo_json(repo, login) for repo in self.page_of(self.visible(login), query, "limit", 30)
        ]

    def _user_orgs(self, login: str, _path: dict[str, str], query: dict[str, str], _body: Any) -> Answer:
        names = self.page_of(sorted(self.orgs.get(login, ())), query, "limit", 30)
        return 200, [{"id": index, "name": name, "username": name} for index, name in enumerate(names)]

    def _repo(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self.find(path["owner"], path["repo"])
        if repo is None or not repo.allows(login, "pull"):
            return 404, {"message": "The target couldn't be found."}
        return 200, self._repo_json(repo, login)

    def _create_hook(self, login: str, path: dict[str, str], _query: dict[str, str], body: Any) -> Answer:
        repo = self._administered(login, path)
        if repo is None:
            return 404, {"message": "The target couldn't be found."}
        hook_id = self.new_id()
        repo.hooks[hook_id] = body
        return 201, self._hook_json(repo, hook_id)

    def _get_hook(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self._administered(login, path)
        if repo is None or int(path["hook"]) not in repo.hooks:
            return 404, {"message": "The target couldn't be found."}
        return 200, self._hook_json(repo, int(path["hook"]))

    def _delete_hook(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self._administered(login, path)
        if repo is None or repo.hooks.pop(int(path["hook"]), None) is None:
            return 404, {"message": "The target couldn't be found."}
        return 204, None

    def _status(self, login: str, path: dict[str, str], _query: dict[str, str], body: Any) -> Answer:
        repo = self.find(path["owner"], path["repo"])
        if repo is None or not repo.allows(login, "push"):
            return 404, {"message": "The target couldn't be found."}
        self.record_status(repo, path["sha"], login, body)
        return 201, {"id": self.new_id(), "status": body["state"], "context": body.get("context", "")}

    def _administered(self, login: str, path: dict[str, str]) -> StandinRepo | None:
        repo = self.find(path["owner"], path["repo"])
        return repo if repo is not None and repo.allows(login, "admin") else None

    def _repo_json(self, repo: StandinRepo, login: str) -> dict[str, Any]:
        level = LEVELS.index(repo.level(login) or "pull")
        owner = {"id": self.users.get(repo.owner, {}).get("id", 1), "login": repo.owner}
        return {
            "id": repo.id, "owner": owner, "name": repo.name, "full_name": f"{repo.owner}/{repo.name}",
            "private": repo.private, "clone_url": repo.clone_url,
            "html_url": f"https://gitea.example/{repo.owner}/{repo.name}",
            "default_branch": repo.default_branch,
            "permissions": {"admin": level >= 4, "push": level >= 2, "pull": True},
        }  # fmt: skip

    def _hook_json(self, repo: StandinRepo, hook_id: int) -> dict[str, Any]:
        body = repo.hooks[hook_id]
        config = {key: value for key, value in body["config"].items() if key != "secret"}
        return {"id": hook_id, "type": body["type"], "config": config, "events": body["events"],
                "active": body["active"]}  # fmt: skip


def _json(body: bytes) -> Any:
    import json

    return json.loads(body or b"null")


def _answer_kind(method: str, path: str, status: int) -> str:
    if status >= 300:
        return ""
    if path == "/user":
        return "user"
    if path == "/user/orgs":
        return "org"
    if "/statuses/" in path:
        return "status"
    if "/hooks" in path:
        return "hook" if method != "DELETE" else ""
    return "repo"
