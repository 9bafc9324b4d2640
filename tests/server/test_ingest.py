"""Webhook deliveries recorded in groups: a burst is written together, each delivery once, each webhook
answered with its own row; a redelivery (also in one group) is not new; one bad row fails only its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from server.db.models import Delivery
from server.job_batch import QueuedJob, enqueue_many
from server.keys import QUEUE_NAME, TRIGGER_JOB, trigger_job_id
from server.services import Services
from tests.server.conftest import make_settings, opened
from tests.server.support import register_repo


@pytest.fixture
async def either(database_url: str, tmp_path: Path, redis_url: str) -> AsyncIterator[Services]:
    async with opened(make_settings(str(tmp_path), database_url), redis_url) as services:
        yield services


async def _count(hangar: Services) -> int:
    async with hangar.reading() as session:
        return int((await session.exec(select(func.count()).select_from(Delivery))).one())


async def test_a_burst_records_each_delivery_once_and_answers_each_webhook(either: Services) -> None:
    repo = await register_repo(either, "octo", "app", "/nowhere.git")
    names = [f"d-{i}" for i in range(60)] + [f"d-{i}" for i in range(0, 60, 6)]  # ten redelivered at once
    answers = await asyncio.gather(
        *(either.deliveries.record(repo.id or 0, name, "push", {"n": name}) for name in names)
    )
    assert await _count(either) == 60
    by_name: dict[str, list[bool]] = {}
    for name, answer in zip(names, answers, strict=True):
        by_name.setdefault(name, []).append(answer.new)
    assert all(news.count(True) == 1 for news in by_name.values()), "each delivery is new exactly once"
    ids = {name: {a.id for n, a in zip(names, answers, strict=True) if n == name} for name in by_name}
    assert all(len(found) == 1 for found in ids.values()), "a redelivery gets the same row"
    again = await either.deliveries.record(repo.id or 0, "d-3", "push", {})
    assert not again.new and again.id in ids["d-3"]


async def test_one_bad_row_fails_only_its_own_webhook(either: Services) -> None:
    repo = await register_repo(either, "octo", "app", "/nowhere.git")
    good = [either.deliveries.record(repo.id or 0, f"ok-{i}", "push", {}) for i in range(5)]
    bad = either.deliveries.record(repo.id or 0, "bad", "push", {"x": object()})  # not JSON
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert all(not isinstance(result, BaseException) and result.new for result in results[:5])
    assert isinstance(results[5], Exception)
    assert await _count(either) == 5


async def test_a_group_queues_each_trigger_once_as_arq_would(either: Services) -> None:
    repo = await register_repo(either, "octo", "app", "/nowhere.git")
    await either.jobs.delete(QUEUE_NAME)
    names = [f"q-{i}" for i in range(8)] + ["q-1", "q-2"]  # two redelivered in the same burst
    answers = await asyncio.gather(
        *(either.deliveries.record(repo.id or 0, name, "push", {}) for name in names)
    )
    assert all(not answer.queue_error for answer in answers)
    queued = {job.job_id for job in await either.jobs.queued_jobs(queue_name=QUEUE_NAME)}
    assert queued == {trigger_job_id(answer.id) for answer in answers}
    jobs = await either.jobs.queued_jobs(queue_name=QUEUE_NAME)
    assert {(job.function, job.args) for job in jobs} == {(TRIGGER_JOB, (a.id,)) for a in answers}
    assert await enqueue_many(
        either.jobs, QUEUE_NAME, [QueuedJob(TRIGGER_JOB, (1,), jobs[0].job_id or "")]
    ) == [False]
