"""The build actions the API and the pages share: what they refuse, and what they change."""

from __future__ import annotations

import pytest

from pipelines.status import Status
from server.actions.builds import cancel, restart
from server.actions.errors import Conflict, NotFound
from server.services import Services
from server.store.builds import find_build_by_id, list_stages
from tests.server.api.seed import StageSeed, add_build, add_repo


async def test_cancelling_a_running_build_kills_it_and_a_finished_one_is_refused(hangar: Services) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "running", [StageSeed("test", "pending")])
    await cancel(hangar, seeded.build)
    async with hangar.reading() as session:
        build = await find_build_by_id(session, seeded.build.id or 0)
    assert build is not None and build.status == "killed"
    with pytest.raises(Conflict, match="already finished"):
        await cancel(hangar, build)


async def test_a_stage_restarts_only_once_finished_and_only_if_it_exists(hangar: Services) -> None:
    repo = await add_repo(hangar)
    stages = [StageSeed("test", "failure"), StageSeed("deploy", "running", depends_on=["test"])]
    seeded = await add_build(hangar, repo, "running", stages)
    with pytest.raises(NotFound, match="has no stage 3"):
        await restart(hangar, seeded.build, 3)
    with pytest.raises(Conflict, match="only a finished stage restarts"):
        await restart(hangar, seeded.build, 2)
    same = await restart(hangar, seeded.build, 1)
    assert same.number == seeded.build.number
    async with hangar.reading() as session:
        statuses = [stage.status for stage in await list_stages(session, seeded.build.id or 0)]
    assert statuses == [Status.PENDING, Status.WAITING], "the stage and the one depending on it run again"
