"""The JSON shapes of the REST API: users, repositories, builds, stages, steps, log lines, secrets, runners.

Encrypted columns (webhook secret, forge token, clone password, secret values, token hashes) never appear:
a repository shows only whether each is set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipelines import BuildCause
from server.db.models import Build, Repo, Runner, Secret, Stage, Step, User

BUILD_STATE = ("number", "status", "error", "parent", "created", "started", "finished")
"""A build's fields beside its cause (every field of BuildCause, shown under its own name)."""
BUILD_FORMER_KEYS = {"link": "commit_link"}
"""Keys older clients read: the same value as the cause field named, under its former name."""
STAGE_FIELDS = ("number", "name", "status", "error", "runner", "started", "finished", "depends_on")
STEP_FIELDS = ("number", "name", "status", "exit_code", "error", "started", "finished", "log_lines")
REPO_FIELDS = ("owner", "name", "slug", "forge", "link", "default_branch", "private", "timeout", "counter")
REPO_SETTINGS = (
    "clone_url", "api_url", "clone_login", "email_recipients", "email_policy", "trusted", "config_path",
    "approval", "protected", "cache_auto", "created",
)  # fmt: skip


def user_view(user: User) -> dict[str, Any]:
    """The signed-in user."""
    return {"login": user.login, "email": user.email, "admin": user.admin}


def repo_view(repo: Repo, *, settings: bool) -> dict[str, Any]:
    """A repository; with `settings` (for administrators) also its forge, clone and notification settings."""
    view = {field: getattr(repo, field) for field in REPO_FIELDS}
    if settings:
        view |= {field: getattr(repo, field) for field in REPO_SETTINGS}
        view |= {
            "webhook_secret_set": bool(repo.webhook_secret),
            "api_token_set": bool(repo.api_token),
            "clone_password_set": bool(repo.clone_password),
        }
    return view


def build_view(build: Build) -> dict[str, Any]:
    """A build as the build list shows it: its number, state and cause."""
    view = {field: getattr(build, field) for field in (*BUILD_STATE, *BuildCause.model_fields)}
    return view | {key: view[field] for key, field in BUILD_FORMER_KEYS.items()}


def step_view(step: Step) -> dict[str, Any]:
    """A step of a stage."""
    return {field: getattr(step, field) for field in STEP_FIELDS}


def stage_view(stage: Stage, steps: Sequence[Step]) -> dict[str, Any]:
    """A stage with its steps."""
    view = {field: getattr(stage, field) for field in STAGE_FIELDS}
    view["steps"] = [step_view(step) for step in steps if step.stage_id == stage.id]
    return view


def build_detail_view(
    build: Build, stages: Sequence[Stage], steps: Sequence[Step], waiting: Mapping[int, str]
) -> dict[str, Any]:
    """A build with its stages and their steps; `waiting`: why a stage (by id) waits for its pipeline's
    concurrency limit ("" or absent when it does not)."""
    return build_view(build) | {
        "stages": [stage_view(stage, steps) | {"waiting": waiting.get(stage.id or 0, "")} for stage in stages]
    }


def line_view(position: int, seconds: float, text: str) -> dict[str, Any]:
    """One log line: its position in the step's log, seconds since the step started, its text."""
    return {"pos": position, "time": seconds, "out": text}


def secret_view(secret: Secret) -> dict[str, Any]:
    """A secret without its value."""
    return {"name": secret.name, "pull_request": secret.pull_request, "created": secret.created}


def runner_view(runner: Runner) -> dict[str, Any]:
    """A registered runner without its token."""
    return {"name": runner.name, "created": runner.created, "last_seen": runner.last_seen}
