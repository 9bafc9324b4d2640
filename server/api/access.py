"""What a request may read: the repository, build and step its path names (404 when missing or hidden from
the caller), and a build with its stages and steps; for the API's and the pages' handlers alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request

from server.api.auth import current_user, permission
from server.api.common import int_param, repo_path, services
from server.api.views import build_detail_view
from server.concurrency import waiting_reason
from server.db.models import Build, Repo, Stage, Step, User
from server.forges.remote import Permission
from server.store.builds import find_build, find_step, list_stages, list_steps
from server.store.repos import find_repo
from server.testresults import build_tests, infrastructure_label

WHAT_NEEDS = {
    Permission.WRITE: "only those who may push to the repository may do this",
    Permission.ADMIN: "only the repository's administrators may do this",
}


async def readable_repo(request: Request, need: Permission = Permission.READ) -> tuple[Repo, User | None]:
    """The repository of the path and the caller; 404 when it does not exist or the caller may not see it,
    401 (anonymous) or 403 when the caller may see it but not do what needs `need`."""
    user = await current_user(request)
    if user is None and need > Permission.READ:  # before looking: the same answer whether it exists or not
        raise HTTPException(
            401, "sign in (Authorization: Bearer <token>) to do this", {"WWW-Authenticate": "Bearer"}
        )
    owner, name = repo_path(request)
    hangar = services(request)
    async with hangar.reading() as session:
        repo = await find_repo(session, owner, name)
    allowed = await permission(hangar, user, repo) if repo is not None else Permission.NONE
    if repo is None or allowed < Permission.READ:
        raise HTTPException(404, f"no repository {owner}/{name}")
    if allowed < need:
        raise HTTPException(403, WHAT_NEEDS.get(need, "you may not do this"))
    return repo, user


async def buildable_repo(request: Request) -> tuple[Repo, User]:
    """The repository of the path, for a caller who may build it (`readable_repo`'s refusals otherwise)."""
    repo, user = await readable_repo(request, Permission.WRITE)
    assert user is not None
    return repo, user


async def configurable_repo(request: Request) -> tuple[Repo, User]:
    """The repository of the path, for a caller who may configure it (else `readable_repo`'s refusals)."""
    repo, user = await readable_repo(request, Permission.ADMIN)
    assert user is not None
    return repo, user


async def readable_build(request: Request, need: Permission = Permission.READ) -> tuple[Repo, Build]:
    """The repository and build of the path; 404 when either is missing or hidden from the caller (and
    `readable_repo`'s refusals when the caller may not do what needs `need`)."""
    repo, _user = await readable_repo(request, need)
    number = int_param(request, "number")
    async with services(request).reading() as session:
        build = await find_build(session, repo.id or 0, number)
    if build is None:
        raise HTTPException(404, f"{repo.slug} has no build {number}")
    return repo, build


async def readable_step(request: Request) -> tuple[Repo, Build, Stage, Step]:
    """The build, stage and step of the path (`.../builds/{number}/logs/{stage}/{step}`); 404 when missing."""
    repo, build = await readable_build(request)
    stage_number, step_number = int_param(request, "stage"), int_param(request, "step")
    async with services(request).reading() as session:
        stage = next((s for s in await list_stages(session, build.id or 0) if s.number == stage_number), None)
        step = await find_step(session, stage.id or 0, step_number) if stage is not None else None
    if stage is None or step is None:
        raise HTTPException(404, f"build {build.number} has no step {stage_number}/{step_number}")
    return repo, build, stage, step


async def build_detail(session: AsyncSession, build: Build) -> dict[str, Any]:
    """The build with its stages and steps, as `GET .../builds/{number}` shows it."""
    stages = await list_stages(session, build.id or 0)
    steps = await list_steps(session, [stage.id or 0 for stage in stages])
    tests = await build_tests(session, build.id or 0, shown=0)
    return build_detail_view(build, stages, steps, await waiting_reasons(session, stages)) | {
        "tests": (tests.counts.model_dump() | {"total": tests.counts.total}) if tests else None,
        "infrastructure": await infrastructure_label(session, build, stages, steps),
    }


async def waiting_reasons(session: AsyncSession, stages: Sequence[Stage]) -> dict[int, str]:
    """Why each stage (by id) waits for its pipeline's concurrency limit ("" for those that do not)."""
    return {stage.id or 0: await waiting_reason(session, stage) for stage in stages}
