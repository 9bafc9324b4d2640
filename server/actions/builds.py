"""Actions on a build: restart it (a new build of the same commit) or one of its stages, cancel it."""

from __future__ import annotations

from pipelines.status import Status
from server.actions.errors import Conflict, NotFound
from server.db.models import Build
from server.progress import cancel_build, restart_stages
from server.services import Services
from server.store.builds import find_build_by_id, list_stages
from server.trigger import restart_build


async def restart(hangar: Services, build: Build, stage_number: int | None = None) -> Build:
    """Restart the build (the new build), or only its stage `stage_number` and its dependents (the build)."""
    if stage_number is None:
        restarted = await restart_build(hangar, build)
        async with hangar.reading() as session:
            fresh = await find_build_by_id(session, restarted.id or 0)
        assert fresh is not None
        return fresh
    async with hangar.transaction() as (session, changes):
        locked = await find_build_by_id(session, build.id or 0, lock=True)
        assert locked is not None
        stage = next((s for s in await list_stages(session, build.id or 0) if s.number == stage_number), None)
        if stage is None:
            raise NotFound(f"build {build.number} has no stage {stage_number}")
        if not Status(stage.status).is_done:
            raise Conflict(f"stage {stage.name!r} is {stage.status}: only a finished stage restarts")
        await restart_stages(session, changes, locked, stage_number)
    return locked


async def cancel(hangar: Services, build: Build) -> None:
    """Cancel a running build: pending stages are skipped, running ones told to stop; refused if finished."""
    async with hangar.transaction() as (session, changes):
        locked = await find_build_by_id(session, build.id or 0, lock=True)
        assert locked is not None
        if locked.finished is not None:
            raise Conflict(f"build {locked.number} already finished ({locked.status}): nothing to cancel")
        await cancel_build(session, changes, locked)
