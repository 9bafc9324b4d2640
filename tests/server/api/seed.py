"""Seeding the database through the store verbs: repositories, users, builds with stages, steps and logs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from server.db.models import Build, Repo, Stage, Step, User
from server.services import Services
from server.store.builds import create_build, find_step, list_stages, list_steps
from server.store.logs import append_lines
from server.store.repos import create_repo, next_build_number
from server.store.users import create_token, create_user

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


async def add_repo(hangar: Services, owner: str = "octo", name: str = "hello", **fields: object) -> Repo:
    """A registered repository."""
    async with hangar.transaction() as (session, _changes):
        repo = Repo(owner=owner, name=name, clone_url=f"https://example.com/{owner}/{name}.git")
        for key, value in fields.items():
            setattr(repo, key, value)
        return await create_repo(session, repo)


async def add_user(hangar: Services, login: str = "jane", admin: bool = False) -> dict[str, str]:
    """A user with an API token; the Authorization header carrying it."""
    token = f"token-of-{login}"
    async with hangar.transaction() as (session, _changes):
        user = await create_user(session, User(login=login, email=f"{login}@example.com", admin=admin))
        await create_token(session, user, token)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class StageSeed:
    """A stage to store: its name, state, steps as (name, status), and the stages it depends on."""

    name: str
    status: str = "pending"
    steps: Sequence[tuple[str, str]] = (("clone", "pending"), ("test", "pending"))
    depends_on: Sequence[str] = ()
    runner: str = ""


@dataclass
class Seeded:
    """A stored build with its stages and their steps (by stage and step number)."""

    build: Build
    stages: list[Stage] = field(default_factory=list)
    steps: dict[tuple[int, int], Step] = field(default_factory=dict)


async def add_build(
    hangar: Services,
    repo: Repo,
    status: str = "running",
    stages: Sequence[StageSeed] = (),
    *,
    branch: str = "main",
    finished: float | None = None,
    **fields: object,
) -> Seeded:
    """A build with the repository's next number.

    Its rows get random large ids: the test Redis may be shared with other test runs, whose fresh databases
    publish on `build:1`, `log:1` and so on.
    """
    base = random.randrange(10**8, 10**9)
    async with hangar.transaction() as (session, _changes):
        number = await next_build_number(session, repo.id or 0)
        values: dict[str, object] = {
            "id": base, "repo_id": repo.id or 0, "number": number, "status": status, "branch": branch,
            "ref": f"refs/heads/{branch}", "sha": SHA, "message": f"commit {number}", "author_login": "jane",
            "author_name": "Jane Doe", "author_email": "jane@example.com", "started": 1_700_000_000.0,
            "finished": finished,
        }  # fmt: skip
        build = Build.model_validate(values | fields)
        rows = []
        for index, seed in enumerate(stages):
            stage = Stage(
                id=base + index, build_id=0, repo_id=0, number=index + 1, name=seed.name, status=seed.status,
                depends_on=list(seed.depends_on), runner=seed.runner,
            )  # fmt: skip
            step_rows = [
                Step(id=base + 100 * index + number, stage_id=0, number=number, name=name, status=step_status)
                for number, (name, step_status) in enumerate(seed.steps, start=1)
            ]
            rows.append((stage, step_rows))
        await create_build(session, build, rows)
        stored = list(await list_stages(session, base))
        steps = await list_steps(session, [stage.id or 0 for stage in stored])
    by_stage = {stage.id: stage.number for stage in stored}
    return Seeded(build, stored, {(by_stage[step.stage_id], step.number): step for step in steps})


async def add_lines(hangar: Services, step: Step, texts: Sequence[str], first: int | None = None) -> None:
    """Store log lines of a step without publishing them (as if their live message were lost)."""
    async with hangar.transaction() as (session, _changes):
        fresh = await find_step(session, step.stage_id, step.number)
        assert fresh is not None
        start = fresh.log_lines if first is None else first
        lines = [(float(start + offset), text) for offset, text in enumerate(texts)]
        await append_lines(session, fresh, start, lines)
