"""A stand-in GitLab: OAuth2 under `/oauth`, the REST API under `/api/v4`. Requests and answers are checked
against GitLab's REST API documentation (docs.gitlab.com/api: users, projects, groups, project hooks, commit
statuses) written down in `documented.py`'s way; an OAuth token must come as `Authorization: Bearer` (GitLab
refuses one in `PRIVATE-TOKEN`)."""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict

from tests.server.forges.standin.documented import check, check_query
from tests.server.forges.standin.forge import Answer, Handler, StandinForge, StandinRepo

PROJECT = r"/projects/(?P<project>[^/]+)"
ACCESS = {"pull": 20, "triage": 20, "push": 30, "maintain": 40, "admin": 40}
"""GitHub's levels as GitLab's access levels (Reporter, Developer, Maintainer; an owner is 50)."""


class AddProjectHook(BaseModel):
    """POST /projects/:id/hooks."""

    model_config = ConfigDict(extra="forbid", strict=True)
    url: str
    token: str = ""
    push_events: bool = True
    tag_push_events: bool = False
    merge_requests_events: bool = False
    enable_ssl_verification: bool = True
    name: str = ""


class SetCommitStatus(BaseModel):
    """POST /projects/:id/statuses/:sha."""

    model_config = ConfigDict(extra="forbid", strict=True)
    state: Literal["pending", "running", "success", "failed", "canceled", "skipped"]
    ref: str = ""
    name: str = ""
    context: str = ""
    target_url: str = ""
    description: str = ""
    coverage: float = 0.0
    pipeline_id: int = 0


class Namespace(BaseModel):
    full_path: str
    path: str
    kind: str


class Access(BaseModel):
    access_level: int


class Permissions(BaseModel):
    project_access: Access | None
    group_access: Access | None


class Project(BaseModel):
    id: int
    path: str
    path_with_namespace: str
    namespace: Namespace
    http_url_to_repo: str
    web_url: str
    visibility: Literal["private", "internal", "public"]
    default_branch: str
    permissions: Permissions


class User(BaseModel):
    id: int
    username: str
    name: str
    email: str
    avatar_url: str


class Group(BaseModel):
    id: int
    full_path: str


class ProjectHook(BaseModel):
    id: int
    url: str
    project_id: int
    push_events: bool
    tag_push_events: bool
    merge_requests_events: bool


class CommitStatus(BaseModel):
    id: int
    status: str
    name: str


ANSWERS: dict[str, type[BaseModel]] = {"user": User, "project": Project, "group": Group, "hook": ProjectHook,
                                       "status": CommitStatus}  # fmt: skip


class StandinGitLab(StandinForge):
    """GitLab: projects in namespaces, members with access levels, project hooks with a secret token."""

    kind = "gitlab"
    title = "GitLab"
    api_prefix = "/api/v4"
    authorize_path = "/oauth/authorize"
    token_path = "/oauth/token"

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The operations Hangar calls."""
        return [
            ("GET", r"/user", self._user),
            ("GET", r"/projects", self._projects),
            ("GET", r"/groups", self._groups),
            ("GET", PROJECT, self._project),
            ("POST", PROJECT + r"/hooks", self._create_hook),
            ("GET", PROJECT + r"/hooks/(?P<hook>\d+)", self._get_hook),
            ("DELETE", PROJECT + r"/hooks/(?P<hook>\d+)", self._delete_hook),
            ("POST", PROJECT + r"/statuses/(?P<sha>[^/]+)", self._status),
        ]

    def check_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> bool:
        """An OAuth token as `Authorization: Bearer`, documented query parameters and request bodies."""
        where = f"request {method} {path}"
        if not headers.get("authorization", "").lower().startswith("bearer ") or "private-token" in headers:
            self.api_problems.append(f"{where}: an OAuth token must come as Authorization: Bearer")
            return False
        allowed = {"page", "per_page", "membership", "simple", "order_by", "sort", "min_access_level"}
        if not check_query(self.api_problems, where, query, allowed):
            return False
        if method == "POST" and path.endswith("/hooks"):
            return check(self.api_problems, where, AddProjectHook, json.loads(body or b"null"))
        if method == "POST" and "/statuses/" in path:
            return check(self.api_problems, where, SetCommitStatus, json.loads(body or b"null"))
        return True

    def check_response(self, method: str, path: str, query: dict[str, str], status: int, answer: Any) -> None:
        """Each answer object as documented (lists item by item)."""
        kind = _answer_kind(method, path, status)
        for item in (answer if isinstance(answer, list) else [answer]) if kind else []:
            check(self.api_problems, f"answer {status} to {method} {path}", ANSWERS[kind], item)

    def hook_target(self, hook: dict[str, Any]) -> tuple[str, str]:
        """GitLab's hook: its `url`, and the `token` it sends as `X-Gitlab-Token`."""
        return hook["url"], hook["token"]

    def hook_events(self, hook: dict[str, Any]) -> set[str]:
        """GitLab sends JSON always; pushes, tag pushes and merge requests by their flags."""
        flags = {"push": "push_events", "tag": "tag_push_events", "pull_request": "merge_requests_events"}
        return {event for event, flag in flags.items() if hook.get(flag, flag == "push_events")}

    def _user(self, login: str, _path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        person = self.users[login]
        avatar = f"https://avatars.example/{login}"
        return 200, {"id": person["id"], "username": login, "name": person["name"],
                     "email": person["email"] or "", "avatar_url": avatar}  # fmt: skip

    def _projects(self, login: str, _path: dict[str, str], query: dict[str, str], _body: Any) -> Answer:
        member_only = query.get("membership") == "true"
        projects = [repo for repo in self.visible(login, member_only) if repo.allows(login, "pull")]
        return 200, [
            self._project_json(repo, login) for repo in self.page_of(projects, query, "per_page", 20)
        ]

    def _groups(self, login: str, _path: dict[str, str], query: dict[str, str], _body: Any) -> Answer:
        names = self.page_of(sorted(self.orgs.get(login, ())), query, "per_page", 20)
        return 200, [
            {"id": index, "full_path": name, "path": name, "name": name} for index, name in enumerate(names)
        ]

    def _project(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self._find(path["project"])
        if repo is None or not repo.allows(login, "pull"):
            return 404, {"message": "404 Project Not Found"}
        return 200, self._project_json(repo, login)

    def _create_hook(self, login: str, path: dict[str, str], _query: dict[str, str], body: Any) -> Answer:
        repo = self._find(path["project"])
        if repo is None or not repo.allows(login, "admin"):
            return 404, {"message": "404 Project Not Found"}
        hook_id = self.new_id()
        repo.hooks[hook_id] = body
        return 201, self._hook_json(repo, hook_id)

    def _get_hook(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self._find(path["project"])
        if repo is None or not repo.allows(login, "admin") or int(path["hook"]) not in repo.hooks:
            return 404, {"message": "404 Not found"}
        return 200, self._hook_json(repo, int(path["hook"]))

    def _delete_hook(self, login: str, path: dict[str, str], _query: dict[str, str], _body: Any) -> Answer:
        repo = self._find(path["project"])
        if repo is None or not repo.allows(login, "admin") or repo.hooks.pop(int(path["hook"]), None) is None:
            return 404, {"message": "404 Not found"}
        return 204, None

    def _status(self, login: str, path: dict[str, str], _query: dict[str, str], body: Any) -> Answer:
        repo = self._find(path["project"])
        if repo is None or not repo.allows(login, "push"):
            return 404, {"message": "404 Project Not Found"}
        self.record_status(repo, path["sha"], login, body)
        return 201, {"id": self.new_id(), "status": body["state"], "name": body.get("name", "default")}

    def _find(self, project: str) -> StandinRepo | None:
        """A project by id or by its URL-encoded path (`group%2Fproject`)."""
        if project.isdigit():
            return self.repos.get(int(project))
        owner, _, name = unquote(project).rpartition("/")
        return self.find(owner, name)

    def _project_json(self, repo: StandinRepo, login: str) -> dict[str, Any]:
        level = repo.level(login)
        access = {"access_level": 50 if login == repo.owner else ACCESS[level]} if level and login in (
            repo.owner, *repo.access) else None  # fmt: skip
        return {
            "id": repo.id, "path": repo.name, "path_with_namespace": f"{repo.owner}/{repo.name}",
            "namespace": {"full_path": repo.owner, "path": repo.owner, "kind": "user"},
            "http_url_to_repo": repo.clone_url, "web_url": f"https://gitlab.example/{repo.owner}/{repo.name}",
            "visibility": "private" if repo.private else "public", "default_branch": repo.default_branch,
            "permissions": {"project_access": access, "group_access": None},
        }  # fmt: skip

    def _hook_json(self, repo: StandinRepo, hook_id: int) -> dict[str, Any]:
        body = repo.hooks[hook_id]
        flags = {name: body.get(name, name == "push_events") for name in
                 ("push_events", "tag_push_events", "merge_requests_events")}  # fmt: skip
        return {"id": hook_id, "url": body["url"], "project_id": repo.id, **flags}


def _answer_kind(method: str, path: str, status: int) -> str:
    if status >= 300:
        return ""
    if path == "/user":
        return "user"
    if path == "/groups":
        return "group"
    if "/statuses/" in path:
        return "status"
    if "/hooks" in path:
        return "hook" if method != "DELETE" else ""
    return "project"
