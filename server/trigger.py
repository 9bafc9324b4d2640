"""Trigger: from a recorded hook (or a restart) to a build with its stages, or an `error` build saying why."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines import BuildCause, BuildContext, ConfigError, cause_of
from pipelines import Repo as WireRepo
from pipelines import plan as wire
from pipelines.compiler import Compilation, SkippedStage
from pipelines.configuration import Configuration, compile_configuration
from pipelines.errors import errors_in
from pipelines.status import Status
from server.accounts.tokens import fresh_owner_token
from server.approval import approval_needed
from server.changes import Changes
from server.config_source import read_configuration
from server.db.models import Build, Repo, Stage, Step
from server.forges import Hook
from server.mirror import Credentials, Mirror, MirrorError
from server.progress import initial_status, mark_build_error
from server.scheduler import stage_secrets_allowed
from server.services import Services
from server.store.builds import build_to_compile, find_build_by_id, has_stages, update_build
from server.store.deliveries import delivery_to_build, mark_built
from server.store.new_rows import insert_build, insert_stage
from server.store.repos import find_repo_by_id, next_build_number
from server.store.secrets import list_secrets

_log = logging.getLogger("hangar.trigger")


class FetchFailed(Exception):
    """The commit could not be fetched this time; the job is retried before the build ends in `error`."""


async def trigger_delivery(hangar: Services, delivery_id: int, *, last_try: bool = True) -> int | None:
    """Build a recorded hook (once: a retried job continues the same build); the build's id."""
    async with hangar.transaction() as (session, changes):
        delivery = await delivery_to_build(session, delivery_id)
        if delivery is None:
            return None
        repo = delivery.repo
        build = await find_build_by_id(session, delivery.build_id) if delivery.build_id else None
        if build is not None:  # a retried job: the build was made before, maybe even compiled
            made = None
        else:
            build = await new_build(session, changes, repo, Hook.model_validate(delivery.hook).cause)
            await mark_built(session, delivery_id, build.id or 0)
            made = (build, repo, await _secret_names(session, repo, build))
    if made is None:
        await compile_build(hangar, build.id or 0, last_try=last_try)
    else:  # just made here: nothing to read again (the commit's transaction checks it is still to compile)
        await _compile(hangar, *made, last_try=last_try)
    return build.id


async def restart_build(hangar: Services, build: Build) -> Build:
    """A new build of the same commit and event (Drone's restart), compiled again from the pipeline file."""
    async with hangar.transaction() as (session, changes):
        repo = await find_repo_by_id(session, build.repo_id)
        assert repo is not None
        restarted = await new_build(session, changes, repo, cause_of(build), parent=build.number)
    await compile_build(hangar, restarted.id or 0)
    return restarted


async def new_build(
    session: AsyncSession, changes: Changes, repo: Repo, cause: BuildCause, parent: int = 0
) -> Build:
    """A pending build of `cause` with the repository's next number."""
    number = await next_build_number(session, repo.id or 0)
    build = Build(repo_id=repo.id or 0, number=number, parent=parent, **cause.model_dump())
    await insert_build(session, build)
    changes.build(build)
    return build


async def compile_build(hangar: Services, build_id: int, *, last_try: bool = True) -> None:
    """Fetch the commit, compile its pipeline file, and store the stages (or end the build with the error).

    A failed fetch raises FetchFailed unless this is the last try; any other failure ends the build in
    `error` with the reason, so no build stays pending for ever.
    """
    async with hangar.reading() as session:
        build = await find_build_by_id(session, build_id)
        repo = await find_repo_by_id(session, build.repo_id) if build else None
        if build is None or repo is None or build.finished is not None or await has_stages(session, build_id):
            return
        secrets = await _secret_names(session, repo, build)
    await _compile(hangar, build, repo, secrets, last_try=last_try)


async def _secret_names(session: AsyncSession, repo: Repo, build: Build) -> list[str]:
    """The names of the repository's secrets the build may have (what the compiler is told)."""
    return [
        secret.name
        for secret in await list_secrets(session, repo.id or 0)
        if stage_secrets_allowed(build, secret.pull_request)
    ]


async def _compile(hangar: Services, build: Build, repo: Repo, secrets: list[str], *, last_try: bool) -> None:
    """Compile the pipeline file of `build` (read, not finished, without stages) and store its stages."""
    build_id = build.id or 0
    repo = await fresh_owner_token(hangar, repo)  # switched on from the forge: its owner's token clones it
    try:
        configuration, changed = await asyncio.to_thread(_read_commit, hangar, repo, build)
        context = build_context(hangar, repo, build, changed, secrets)
        config_format = "woodpecker" if configuration.woodpecker else "drone"
        context = context.model_copy(
            update={"config_files": configuration.names, "config_format": config_format}
        )
        compilation = compile_configuration(configuration, context)
    except MirrorError as exc:
        if not last_try:
            raise FetchFailed(str(exc)) from None
        await _fail(hangar, build_id, str(exc))
        return
    except ConfigError as exc:
        await _fail(hangar, build_id, _error_text(exc))
        return
    except Exception as exc:
        _log.exception("build %s could not be compiled", build_id)
        await _fail(hangar, build_id, f"internal error while reading the pipeline: {exc}")
        return
    async with hangar.transaction() as (session, changes):
        current = await build_to_compile(session, build_id)
        if current is None:
            return  # ended meanwhile, or compiled by another (the sweep of stranded builds and a late retry)
        current.context = context.model_dump(mode="json")
        blocked = approval_needed(repo, current, configuration.text, hangar.cipher)
        await store_stages(session, changes, current, compilation, blocked=blocked)


async def store_stages(
    session: AsyncSession, changes: Changes, build: Build, compilation: Compilation, blocked: str = ""
) -> None:
    """The build's stages and steps from its Plans; a build with none is `skipped`, saying why. A build
    that needs approval (`blocked`: why) is stored `blocked`, and no runner is told of it."""
    names = [plan.stage.name for plan in compilation.plans]
    stages: list[tuple[Stage, list[Step]]] = []
    for plan in compilation.plans:
        status = Status.BLOCKED if blocked else initial_status(plan.stage.depends_on, names)
        stage = Stage(
            build_id=build.id or 0, repo_id=build.repo_id, number=plan.stage.number, name=plan.stage.name,
            status=status, os=plan.stage.platform.os, arch=plan.stage.platform.arch, labels=plan.stage.labels,
            depends_on=[name for name in plan.stage.depends_on if name in names],
            run_policy=plan.stage.run_policy, plan=plan.model_dump(mode="json"),
            concurrency_limit=plan.stage.concurrency_limit,
        )  # fmt: skip
        steps = [Step(stage_id=0, number=step.number, name=step.name) for step in plan.steps]
        stages.append((stage, steps))
    if compilation.workflows and stages:
        first = len(stages) + 1
        stages += [(_skipped_stage(build, first + i, s), []) for i, s in enumerate(compilation.skipped)]
    if not stages:
        reasons = "; ".join(f"{skipped.name}: {skipped.reason}" for skipped in compilation.skipped)
        build.status, build.error = (
            Status.SKIPPED,
            f"no pipeline runs for this event ({reasons or 'none defined'})",
        )
        build.started = build.finished = time.time()
        await update_build(session, build)
        changes.build(build)
        return
    for stage, steps in stages:
        stage.build_id = build.id or 0
        await insert_stage(session, stage, steps)
        changes.stage(stage)
        if stage.status == Status.PENDING:
            changes.stage_ready(stage)
    if blocked:
        build.status, build.error = Status.BLOCKED, blocked
    await update_build(session, build)
    changes.build(build)
    changes.commit_status(build)


def _skipped_stage(build: Build, number: int, skipped: SkippedStage) -> Stage:
    """A workflow this build leaves out, shown with the reason (its Plan runs nothing, should it restart)."""
    workspace = wire.Workspace(base="/", full="/")
    plan = wire.Plan(
        stage=wire.Stage(number=number, name=skipped.name),
        workspace=workspace,
        clone=wire.ClonePlan(disable=True),
    )
    return Stage(
        build_id=build.id or 0, repo_id=build.repo_id, number=number, name=skipped.name,
        status=Status.SKIPPED, error=skipped.reason, plan=plan.model_dump(mode="json"),
    )  # fmt: skip


def build_context(
    hangar: Services, repo: Repo, build: Build, changed: list[str] | None, secrets: list[str]
) -> BuildContext:
    """What the compiler knows about the build."""
    wire_repo = WireRepo(
        owner=repo.owner, name=repo.name, link=repo.link, remote_url=repo.clone_url,
        default_branch=repo.default_branch, private=repo.private,
    )  # fmt: skip
    return BuildContext(
        **cause_of(build).model_dump(), repo=wire_repo, number=build.number, parent=build.parent,
        created=int(build.created), started=int(time.time()), server_url=hangar.settings.url,
        changed_files=changed, secrets=secrets, trusted=repo.trusted,
    )  # fmt: skip


async def _fail(hangar: Services, build_id: int, reason: str) -> None:
    async with hangar.transaction() as (session, changes):
        build = await find_build_by_id(session, build_id, lock=True)
        if build is not None:
            await mark_build_error(session, changes, build, reason)


def mirror_of(hangar: Services, repo: Repo) -> Mirror:
    """The repository's git mirror in the data folder, fetching with its clone credentials."""
    credentials = Credentials(repo.clone_login, hangar.cipher.decrypt(repo.clone_password))
    return Mirror(hangar.settings.data / "mirrors" / f"{repo.id}.git", repo.clone_url, credentials)


def _read_commit(hangar: Services, repo: Repo, build: Build) -> tuple[Configuration, list[str] | None]:
    mirror = mirror_of(hangar, repo)
    base = (
        f"refs/heads/{build.target_branch}" if build.event == "pull_request" and build.target_branch else ""
    )
    mirror.fetch(build.ref, build.sha, *([base] if base else []))
    drone_context = build_context(hangar, repo, build, None, [])  # what Jsonnet and Starlark see
    configuration = read_configuration(mirror, build.sha, repo.config_path, drone_context)
    changed = mirror.changed_files(base, build.sha, merge_base=True) if base else None
    return configuration, changed or mirror.changed_files(build.before, build.sha)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ConfigError):
        return "\n".join(problem.format() for problem in errors_in(exc.problems))
    return str(exc)
