"""The runner API client: what each answer of the server means to a runner."""

from __future__ import annotations

import re
import socket

import pytest

from pipelines.report import StepReport
from pipelines.runner_api import RunnerInfo
from pipelines.status import Status
from runner.client import RunnerClient, ServerUnavailable, StageLost, Unauthorized
from runner.remote import RemoteReporter
from tests.runner.daemon.standin import TOKEN, StandIn
from tests.runner.daemon.support import RUNNER, one_step
from tests.runner.support import plan_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_offers_and_accepts(standin: StandIn) -> None:
    async with RunnerClient(standin.url, TOKEN, RUNNER) as client:
        assert await client.request(RunnerInfo()) is None  # nothing came during the long-poll
        stage = standin.add(plan_of(one_step()))
        offer = await client.request(RunnerInfo(labels={"gpu": "yes"}))
        assert offer is not None and offer.stage_id == stage.stage_id
        assert await client.accept(offer.stage_id, offer.version + 1) is None  # taken at another version
        assignment = await client.accept(offer.stage_id, offer.version)
        assert assignment is not None and assignment.plan == stage.plan
        assert await client.accept(offer.stage_id, offer.version) is None  # already taken
    assert standin.infos[-1].labels == {"gpu": "yes"}
    assert {r.runner for r in standin.received} == {RUNNER}


async def test_a_refused_token_names_the_server(standin: StandIn) -> None:
    async with RunnerClient(standin.url, "wrong", RUNNER) as client:
        message = f"the server {standin.url} refused runner 'test-runner'"
        with pytest.raises(Unauthorized, match=re.escape(message)):
            await client.request(RunnerInfo())


async def test_an_unreachable_or_failing_server_is_worth_retrying(standin: StandIn) -> None:
    async with RunnerClient(f"http://127.0.0.1:{free_port()}", TOKEN, RUNNER) as client:
        with pytest.raises(ServerUnavailable, match=r"cannot reach http://127\.0\.0\.1"):
            await client.request(RunnerInfo())
    standin.unavailable = True
    async with RunnerClient(standin.url, TOKEN, RUNNER) as client:
        with pytest.raises(ServerUnavailable, match="answered 503"):
            await client.renew(1)


async def test_reports_on_a_stage_held_by_another_runner_lose_it(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    stage.state, stage.runner = "running", "another-runner"
    async with RunnerClient(standin.url, TOKEN, RUNNER) as client:
        with pytest.raises(StageLost):
            await client.renew(stage.stage_id)
        reporter = RemoteReporter(client, stage.stage_id)
        try:
            await reporter.step_updated(StepReport(number=1, name="build", status=Status.RUNNING))
            assert not await reporter.flush(30)
        finally:
            await reporter.close()
    assert reporter.lost.is_set() and isinstance(reporter.error, StageLost)
    assert stage.steps == []
