"""Commit statuses and emails survive a Redis that loses its jobs: each is written to the outbox with the
change that causes it, and the worker's sweep queues again what Redis lost (in process, real Redis)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import Job, JobStatus
from sqlmodel import select, update

from pipelines.report import StageReport, StepReport
from pipelines.status import Status
from server.db.models import Outbox
from server.jobs import reap_leases, send_commit_status
from server.keys import QUEUE_NAME
from server.services import Services
from server.settings import Settings, SmtpSettings
from tests.peers import RecordingForge, SmtpServer
from tests.server.conftest import make_settings
from tests.server.support import PushedRepo, register_repo, send_push
from tests.server.test_flow import PIPELINE, RUNNER, run_jobs, take_stage

RECIPIENT = "team@example.com"


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer) -> Settings:
    """Settings that send email to the test SMTP server."""
    return make_settings(
        str(tmp_path), sqlite_url, smtp=SmtpSettings(host="127.0.0.1", port=smtp_server.port)
    )


@pytest.fixture
async def notifying(
    tmp_path: Path, hangar: Services, forge: RecordingForge
) -> AsyncIterator[tuple[str, str]]:
    """octo/app, sending its statuses to the recording forge and always email; the pipeline's commit (before,
    sha), pushed."""
    repo = PushedRepo(tmp_path / "git")
    fields = {"api_url": forge.url, "api_token": "forge-token", "email_policy": "always"}
    await register_repo(hangar, "octo", "app", str(repo.bare), email_recipients=[RECIPIENT], **fields)
    yield repo.push({".ci.yml": PIPELINE}, "first")


async def finished_build(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, before: str, sha: str
) -> None:
    """Push `sha`, trigger its build (sending its `pending` status), run it and report it successful."""
    assert (await send_push(client, "octo", "app", before, sha, "first")).status_code == 202
    await run_jobs(hangar, redis_url)
    stage = await take_stage(client)
    done = StageReport(
        number=1, name="test", status=Status.SUCCESS, started=1.0, finished=2.0,
        steps=[StepReport(number=n, name=s, status=Status.SUCCESS, exit_code=0)
               for n, s in ((1, "clone"), (2, "hello"), (3, "world"))],
    )  # fmt: skip
    stage_url = f"/api/runner/stages/{stage['stage_id']}"
    answer = await client.post(stage_url, content=done.model_dump_json(), headers=RUNNER)
    assert answer.status_code == 204, answer.text


async def outbox(hangar: Services) -> list[tuple[str, str]]:
    """(kind, status) of every outbox row, oldest first."""
    async with hangar.reading() as session:
        rows = await session.exec(select(Outbox).order_by(Outbox.id))  # type: ignore[arg-type]
        return [(row.kind, row.status) for row in rows]


async def age_outbox(hangar: Services, seconds: float) -> None:
    """Make every outbox row `seconds` older, as if that time had passed."""
    async with hangar.transaction() as (session, _changes):
        await session.exec(update(Outbox).values(created=Outbox.created - seconds))


def states(forge: RecordingForge, sha: str) -> list[str]:
    """The commit states the forge received for `sha`, in order."""
    return [str(r.body["state"]) for r in forge.requests if r.path == f"/repos/octo/app/statuses/{sha}"]


async def test_a_finished_builds_status_and_email_are_in_the_outbox_until_their_jobs_send_them(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, notifying: tuple[str, str],
    forge: RecordingForge, smtp_server: SmtpServer,
) -> None:  # fmt: skip
    before, sha = notifying
    await finished_build(client, hangar, redis_url, before, sha)
    assert await outbox(hangar) == [("status", "running"), ("status", "success"), ("email", "")]
    assert states(forge, sha) == ["pending"]

    await run_jobs(hangar, redis_url)
    assert states(forge, sha)[-1] == "success" and states(forge, sha).count("success") == 1
    assert len(smtp_server.inbox.messages) == 1 and RECIPIENT in smtp_server.inbox.messages[0].rcpt_tos
    assert await outbox(hangar) == [], "done: forgotten"


async def test_jobs_lost_with_redis_are_queued_again_by_the_sweep_and_delivered_once(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, notifying: tuple[str, str],
    forge: RecordingForge, smtp_server: SmtpServer,
) -> None:  # fmt: skip
    before, sha = notifying
    await finished_build(client, hangar, redis_url, before, sha)
    await hangar.redis.flushdb()  # Redis restarted without persistence: the queued jobs are gone
    await run_jobs(hangar, redis_url)
    assert states(forge, sha) == ["pending"] and smtp_server.inbox.messages == [], "nothing left to run"

    await reap_leases({"hangar": hangar})
    await run_jobs(hangar, redis_url)
    assert states(forge, sha) == ["pending"], "rows younger than the sweep's threshold wait"
    await age_outbox(hangar, 60)
    await reap_leases({"hangar": hangar})
    assert await outbox(hangar) == [("status", "success"), ("email", "")], "the running status is obsolete"
    await reap_leases({"hangar": hangar})  # again before the jobs ran: the same job ids, queued once
    await run_jobs(hangar, redis_url)

    assert states(forge, sha) == ["pending", "success"]
    assert len(smtp_server.inbox.messages) == 1
    assert await outbox(hangar) == []
    await reap_leases({"hangar": hangar})
    await run_jobs(hangar, redis_url)
    assert states(forge, sha) == ["pending", "success"] and len(smtp_server.inbox.messages) == 1


async def test_an_older_status_never_overwrites_a_newer_one_even_after_a_flush(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, notifying: tuple[str, str],
    forge: RecordingForge, http: httpx.AsyncClient,
) -> None:  # fmt: skip
    before, sha = notifying
    await finished_build(client, hangar, redis_url, before, sha)
    async with hangar.reading() as session:
        query = select(Outbox).where(Outbox.kind == "status").order_by(Outbox.id)  # type: ignore[arg-type]
        rows = list(await session.exec(query))
    running, success = rows
    ctx: dict[str, Any] = {"hangar": hangar, "http": http, "settings": hangar.settings, "job_try": 1}
    assert (
        await send_commit_status(ctx, success.build_id, success.status, success.sequence, success.id)
        == "sent"
    )
    await hangar.redis.flushdb()  # what Redis knew of the order is gone; the `running` job was in flight
    late = await send_commit_status(ctx, running.build_id, running.status, running.sequence, running.id)

    assert late == "stale"
    assert states(forge, sha) == ["pending", "success"]
    await age_outbox(hangar, 60)
    await reap_leases({"hangar": hangar})
    await run_jobs(hangar, redis_url)
    assert states(forge, sha) == ["pending", "success"], "the sweep sends no older status either"


async def test_a_job_id_held_by_a_finished_jobs_result_is_queued_again_not_refused(
    hangar: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """arq refuses a job id while the result of a finished job of that id is kept (60 s): work queued under it
    is queued over that result, and a job still waiting keeps its id, saying so in the log."""
    caplog.set_level(logging.INFO, logger="hangar.services")
    job_id = f"outbox:test-{uuid.uuid4().hex}"
    await hangar.jobs.set(result_key_prefix + job_id, b"an earlier job's result", ex=60)
    assert await hangar.enqueue("send_build_email", 1, None, job_id=job_id, wake=False)
    assert await Job(job_id, hangar.jobs, _queue_name=QUEUE_NAME).status() == JobStatus.queued
    assert "held a finished job's result" in caplog.text
    assert not await hangar.enqueue("send_build_email", 1, None, job_id=job_id, wake=False)
    assert f"job {job_id} is queued" in caplog.text
    await hangar.jobs.zrem(QUEUE_NAME, job_id)
    await hangar.jobs.delete(job_key_prefix + job_id)
