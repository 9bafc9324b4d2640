"""What the runner does when the server answers badly: refused lines, a proxy's 403, a report failing for
ever, a lost accept, a lease refused once the stage has ended."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.status import Status
from runner import remote
from runner.engine import StageSpec
from tests.runner.daemon.standin import StandIn
from tests.runner.daemon.support import GatedEngine, one_step, running_daemon
from tests.runner.fake_engine import Behaviour
from tests.runner.support import plan_of

Endpoint = Callable[[Request], Awaitable[Response]]


def replace_route(standin: StandIn, suffix: str, endpoint: Endpoint) -> None:
    """Answer the stand-in's route ending in `suffix` with `endpoint` instead."""
    routes = standin.app.router.routes
    index = next(
        i for i, route in enumerate(routes) if isinstance(route, Route) and route.path.endswith(suffix)
    )
    old = routes[index]
    assert isinstance(old, Route)
    routes[index] = Route(old.path, endpoint, methods=list(old.methods or ()))


def refusing(original: Endpoint, marker: bytes, status: int) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if marker in await request.body():
            return Response(status_code=status)
        return await original(request)

    return endpoint


async def test_a_line_the_server_refuses_becomes_a_note_and_the_lines_after_it_keep_their_place(
    standin: StandIn,
) -> None:
    standin.max_body = 40_000  # a proxy's limit on bodies, under one long line
    stage = standin.add(plan_of(one_step()))
    output = [b"before\n", b"x" * 50_000 + b"\n", b"".join(b"after %d\n" % i for i in range(200))]
    engine = GatedEngine({"build": Behaviour(output=output)})
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.final is not None)
    lines = stage.lines(stage.plan.steps[0].number)
    assert lines[0] == "before" and lines[1].startswith("[hangar] this line was not delivered")
    assert lines[2:] == [f"after {i}" for i in range(200)]


async def test_a_proxy_refusing_one_report_with_403_does_not_stop_the_runner(standin: StandIn) -> None:
    replace_route(standin, "/logs", refusing(standin._logs, b"/etc/passwd", 403))
    replace_route(standin, "/reports", refusing(standin._reports, b"/etc/passwd", 403))
    first, second = standin.add(plan_of(one_step("a"))), standin.add(plan_of(one_step("b")))
    engine = GatedEngine({"a": Behaviour(output=[b"cat /etc/passwd\n"]), "b": Behaviour(output=[b"fine\n"])})
    async with running_daemon(standin, engine, capacity=2) as (_daemon, task):
        await standin.wait_for(lambda: first.final is not None and second.final is not None)
        assert not task.done(), "the runner goes on"
    assert first.final is not None and first.final.status == Status.SUCCESS
    assert second.lines(second.plan.steps[0].number) == ["fine"]


async def test_a_report_the_server_fails_for_ever_is_given_up_so_the_stage_still_ends(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "MAX_ANSWERED_FAILURES", 3)
    replace_route(standin, "/logs", refusing(standin._logs, b"boom", 500))
    replace_route(standin, "/reports", refusing(standin._reports, b"boom", 500))
    stage = standin.add(plan_of(one_step()))
    engine = GatedEngine({"build": Behaviour(output=[b"boom\n"])})
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.final is not None, 30)
    assert stage.final is not None and stage.final.status == Status.SUCCESS


async def test_an_accept_whose_answer_is_lost_is_asked_again_until_the_server_answers(
    standin: StandIn,
) -> None:
    original = standin._accept
    loop = asyncio.get_running_loop()
    away_until: list[float] = []

    async def accept(request: Request) -> Response:
        if not away_until:
            await original(request)  # stored: the stage is this runner's now, but the answer is lost
            away_until.append(loop.time() + 4.0)
            return Response(status_code=503)
        if loop.time() < away_until[0]:
            return Response(status_code=503)
        return await original(request)

    replace_route(standin, "/accept", accept)
    stage = standin.add(plan_of(one_step()))
    async with running_daemon(standin, GatedEngine()):
        await standin.wait_for(lambda: stage.final is not None, 30)
    assert stage.final is not None and stage.final.status == Status.SUCCESS


class SlowTeardown(GatedEngine):
    """Removing the stage takes a while: lease renewals fall after the final report was delivered."""

    async def destroy(self, stage: StageSpec) -> None:
        await asyncio.sleep(1.0)
        await super().destroy(stage)


async def test_a_lease_refused_after_the_final_report_was_delivered_is_no_lost_stage(
    standin: StandIn,
) -> None:
    stage = standin.add(plan_of(one_step()), lease_seconds=0.8)
    events: list[tuple[str, object]] = []
    async with running_daemon(standin, SlowTeardown()) as (daemon, _task):
        daemon.listener.finished = lambda offer, report, delivered: events.append(("finished", delivered))  # type: ignore[method-assign]
        daemon.listener.warning = lambda text: events.append(("warning", text))  # type: ignore[method-assign]
        await standin.wait_for(lambda: any(kind == "finished" for kind, _ in events), 20)
    assert stage.final is not None and stage.final.status == Status.SUCCESS
    assert ("finished", True) in events
    assert not [text for kind, text in events if kind == "warning" and "lost" in str(text)]
