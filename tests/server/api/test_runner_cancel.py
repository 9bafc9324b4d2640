"""A cancel reaches the runner: in the answer to its reports, and at once in a watch opened after it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from pipelines.report import StepReport
from pipelines.status import Status
from server.app import create_app
from server.db.models import Build
from server.progress import cancel_build
from server.services import Services
from tests.server.support import PushedRepo, register_repo, send_push
from tests.server.test_flow import PIPELINE, RUNNER, run_jobs, take_stage

HELLO = StepReport(number=2, name="hello", status=Status.RUNNING, started=1.0).model_dump(mode="json")


@dataclass
class Taken:
    """A stage taken by the scripted runner, on one of the databases."""

    hangar: Services
    client: httpx.AsyncClient
    stage_id: int


@pytest.fixture
async def taken(hangar_each_db: Services, redis_url: str, tmp_path: Path) -> AsyncIterator[Taken]:
    """A pushed build's first stage, taken (over SQLite, then over PostgreSQL)."""
    repo = PushedRepo(tmp_path / "git")
    await register_repo(hangar_each_db, "octo", "app", str(repo.bare))
    app = create_app(hangar_each_db.settings, redis_url, hangar_each_db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hangar.test"
    ) as client:
        before, sha = repo.push({".ci.yml": PIPELINE})
        await send_push(client, "octo", "app", before, sha, "cancel")
        await run_jobs(hangar_each_db, redis_url)
        yield Taken(hangar_each_db, client, (await take_stage(client))["stage_id"])


async def cancel_the_build(hangar: Services) -> None:
    async with hangar.transaction() as (session, changes):
        build = (await session.exec(select(Build))).one()
        await cancel_build(session, changes, build)


async def test_a_reports_answer_says_the_stage_was_cancelled_and_nothing_else_otherwise(taken: Taken) -> None:
    client, url = taken.client, f"/api/runner/stages/{taken.stage_id}/reports"
    logs = {"logs": {"step": 2, "first": 0, "lines": [[0.1, "hello"]]}}
    answer = await client.post(url, json={"items": [{"step": HELLO}, logs]}, headers=RUNNER)
    assert answer.json() == {"acks": [None, {"next": 1}]}, "the answer an older runner knows"
    await cancel_the_build(taken.hangar)
    logs = {"logs": {"step": 2, "first": 1, "lines": [[0.2, "still running"]]}}
    answer = await client.post(url, json={"items": [logs]}, headers=RUNNER)
    assert answer.json() == {"acks": [{"next": 2}], "cancel": True}
    killed = {"number": 1, "name": "test", "status": "killed", "started": 1.0, "finished": 2.0}
    answer = await client.post(url, json={"items": [{"stage": killed}]}, headers=RUNNER)
    assert answer.json() == {"acks": [None]}, "the stage is over: nothing left to cancel"


async def test_a_watch_opened_after_the_cancel_answers_at_once(taken: Taken) -> None:
    taken.hangar.settings.poll_seconds = 600  # were it to wait for a wake-up, the test would time out
    await cancel_the_build(taken.hangar)  # while the runner's watch is not open yet (it opens late)
    watch = taken.client.get(f"/api/runner/stages/{taken.stage_id}/watch", headers=RUNNER)
    answer = await asyncio.wait_for(watch, 30)
    assert answer.status_code == 200 and answer.json()["cancel"] is True
