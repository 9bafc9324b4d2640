"""Builds that are not pushes: a custom build of a branch (Drone's `POST .../builds`), a promotion or a
rollback of a build to a target, and a cron's build of its branch's head."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines import BuildCause, cause_of
from server.actions.errors import ActionError, NotFound
from server.db.models import Build, Cron, Repo
from server.mirror import Commit, MirrorError
from server.services import Services
from server.store.builds import find_build_by_id
from server.trigger import compile_build, mirror_of, new_build

PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
RESERVED_PREFIXES = ("DRONE_", "CI_", "HANGAR_", "PLUGIN_")
"""A parameter may not pose as one of the variables Hangar sets itself."""
DEPLOY_EVENTS = ("promote", "rollback")
Claim = Callable[[AsyncSession], Awaitable[bool]]
"""A condition taken in the transaction that makes a build (a cron's compare-and-set on its due time)."""


def check_parameters(parameters: dict[str, str]) -> dict[str, str]:
    """The parameters, if each name is a plain environment variable name Hangar does not set itself."""
    for name in parameters:
        if not PARAMETER_NAME.match(name):
            raise ActionError(f"parameter {name!r} is not a variable name (letters, digits and _)")
        if name.upper().startswith(RESERVED_PREFIXES) or name.upper() in ("CI", "DRONE", "HANGAR"):
            raise ActionError(f"parameter {name!r} would hide one of Hangar's own variables")
    return parameters


async def start_custom(
    hangar: Services,
    repo: Repo,
    sender: str,
    branch: str = "",
    sha: str = "",
    parameters: dict[str, str] | None = None,
) -> Build:
    """Build a branch's head (or one of its commits) with event `custom` and the given parameters."""
    params = check_parameters(parameters or {})
    cause = await _branch_cause(hangar, repo, branch, sha, event="custom", sender=sender, parameters=params)
    return await _started(_start(hangar, repo, cause))


async def deploy(
    hangar: Services,
    repo: Repo,
    build: Build,
    sender: str,
    target: str,
    parameters: dict[str, str] | None = None,
    event: str = "promote",
) -> Build:
    """Promote (or roll back) a build to `target`: a new build of its commit with that event and target,
    its parent the build."""
    if event not in DEPLOY_EVENTS:
        raise ActionError(f"{event!r} is not a deployment event ({' or '.join(DEPLOY_EVENTS)})")
    target = target.strip()
    if not target:
        raise ActionError(f"a {event} needs a target, e.g. ?target=production")
    params = check_parameters(parameters or {})
    cause = cause_of(build).model_copy(
        update={"event": event, "deploy_to": target, "parameters": params, "sender": sender, "cron": ""}
    )
    return await _started(_start(hangar, repo, cause, parent=build.number))


async def start_cron(hangar: Services, repo: Repo, cron: Cron, claim: Claim | None = None) -> Build | None:
    """Build the head of the cron's branch with event `cron`, named after it; with `claim`, only if it holds
    in the transaction that makes the build (None otherwise): a worker that dies after claiming a due time
    has made its build too, and one that dies before has claimed nothing (the next tick fires it)."""
    cause = await _branch_cause(hangar, repo, cron.branch, "", event="cron", sender=cron.name, cron=cron.name)
    return await _start(hangar, repo, cause, claim=claim)


async def _branch_cause(hangar: Services, repo: Repo, branch: str, sha: str, **more: object) -> BuildCause:
    """A build of a branch's head (or of `sha` on it; "": the default branch), as its commit describes it."""
    branch = branch or repo.default_branch
    commit = await _commit(hangar, repo, branch, sha)
    return BuildCause.model_validate(
        {
            "ref": f"refs/heads/{branch}", "sha": commit.sha, "branch": branch, "target_branch": branch,
            "message": commit.message, "author_name": commit.author_name, "author_email": commit.author_email,
        }
        | more
    )  # fmt: skip


async def _started(start: Awaitable[Build | None]) -> Build:
    """The build a start without a claim made (it always makes one)."""
    build = await start
    assert build is not None
    return build


async def _start(
    hangar: Services, repo: Repo, cause: BuildCause, parent: int = 0, claim: Claim | None = None
) -> Build | None:
    async with hangar.transaction() as (session, changes):
        if claim is not None and not await claim(session):
            return None
        build = await new_build(session, changes, repo, cause, parent=parent)
    await compile_build(hangar, build.id or 0)
    async with hangar.reading() as session:
        fresh = await find_build_by_id(session, build.id or 0)
    assert fresh is not None
    return fresh


async def _commit(hangar: Services, repo: Repo, branch: str, sha: str) -> Commit:
    """The branch's head (or `sha`, fetched with it), read from the repository's mirror."""
    mirror = mirror_of(hangar, repo)

    def read() -> Commit:
        if not sha:
            return mirror.head(branch)
        mirror.fetch(f"refs/heads/{branch}", sha)
        return mirror.commit(sha)

    try:
        return await asyncio.to_thread(read)
    except MirrorError as exc:
        raise NotFound(str(exc)) from None
