"""Live streams over a real server: log lines once and in order, resuming, build events, disconnects."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from pipelines.runner_api import RUNNER_HEADER
from server import live_hints
from server.api import streams
from server.services import Services
from server.store.builds import find_build_by_id, find_stage, find_step, update_build, update_step
from tests.server.api.conftest import Event, EventReader
from tests.server.api.seed import Seeded, StageSeed, add_build, add_lines, add_repo
from tests.server.conftest import RUNNER_SECRET

BUILD = "/api/repos/octo/hello/builds/1"
RUNNER = {"Authorization": f"Bearer {RUNNER_SECRET}", RUNNER_HEADER: "r1"}


async def running_build(hangar: Services) -> Seeded:
    """Build 1 of octo/hello: stage `test` held by runner r1, its step 2 (`unit`) running."""
    repo = await add_repo(hangar)
    stages = [StageSeed("test", "running", [("clone", "success"), ("unit", "running")], runner="r1")]
    return await add_build(hangar, repo, "running", stages)


async def send_lines(live: httpx.AsyncClient, seeded: Seeded, first: int, count: int) -> None:
    """Post log lines of step 2 as runner r1 does (the runner API stores and publishes them)."""
    lines = [[float(n), f"line {n}"] for n in range(first, first + count)]
    answer = await live.post(
        f"/api/runner/stages/{seeded.stages[0].id}/logs",
        json={"step": 2, "first": first, "lines": lines},
        headers=RUNNER,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"next": first + count}


async def finish_step(live: httpx.AsyncClient, seeded: Seeded) -> None:
    """Report step 2 successful, as runner r1 does."""
    report = {
        "number": 2,
        "name": "unit",
        "status": "success",
        "exit_code": 0,
        "started": 1.0,
        "finished": 9.0,
    }
    answer = await live.post(f"/api/runner/stages/{seeded.stages[0].id}/steps", json=report, headers=RUNNER)
    assert answer.status_code == 204, answer.text


def positions(events: list[Event]) -> list[int]:
    """The line positions of `line` events, checking each event's id and data agree."""
    found = []
    for event in events:
        assert event.name == "line", event
        line = event.json()
        assert event.id == str(line["pos"])
        assert line == {"pos": line["pos"], "time": float(line["pos"]), "out": f"line {line['pos']}"}
        found.append(line["pos"])
    return found


async def test_a_log_stream_sends_stored_then_live_lines_once_in_order_then_done(
    live: httpx.AsyncClient, hangar: Services
) -> None:
    seeded = await running_build(hangar)
    step = seeded.steps[1, 2]
    await add_lines(hangar, step, [f"line {n}" for n in range(3)])

    async with live.stream("GET", f"{BUILD}/logs/1/2/stream") as response:
        events = EventReader(response)
        assert positions(await events.take(3)) == [0, 1, 2]

        await send_lines(live, seeded, 3, 2)
        assert positions(await events.take(2)) == [3, 4]

        await add_lines(hangar, step, ["line 5", "line 6"])  # stored, but their message was lost
        await send_lines(live, seeded, 7, 1)
        assert positions(await events.take(3)) == [5, 6, 7]

        await add_lines(hangar, step, ["line 8"])
        stale = {"first": 0, "lines": [[0.0, "line 0"], [1.0, "line 1"]]}
        overlapping = {"first": 6, "lines": [[6.0, "line 6"], [7.0, "line 7"], [8.0, "line 8"]]}
        for message in (stale, overlapping):
            await hangar.broker.publish(f"log:{step.id}", json.dumps(message))
        await send_lines(live, seeded, 9, 1)
        assert positions(await events.take(2)) == [8, 9]

        await finish_step(live, seeded)
        done = await events.next()
        assert done is not None
        assert (done.name, done.json()) == ("done", {"status": "success", "exit_code": 0})
        assert await events.next() is None


async def test_a_log_stream_resumes_after_the_last_event_id(
    live: httpx.AsyncClient, hangar: Services
) -> None:
    seeded = await running_build(hangar)
    await add_lines(hangar, seeded.steps[1, 2], [f"line {n}" for n in range(6)])
    await finish_step(live, seeded)

    async def stream(**options: object) -> list[Event]:
        async with live.stream("GET", f"{BUILD}/logs/1/2/stream", **options) as response:  # type: ignore[arg-type]
            events = EventReader(response)
            received = []
            while (event := await events.next()) is not None:
                received.append(event)
            return received

    resumed = await stream(headers={"Last-Event-ID": "3"})
    assert positions(resumed[:-1]) == [4, 5]
    assert resumed[-1].name == "done"
    from_start = await stream(params={"start": 2})
    assert positions(from_start[:-1]) == [2, 3, 4, 5]
    everything = await stream()
    assert positions(everything[:-1]) == list(range(6))
    assert (await live.get(f"{BUILD}/logs/1/2/stream", headers={"Last-Event-ID": "x"})).status_code == 400


async def test_a_closed_log_stream_stops_listening(
    live: httpx.AsyncClient, hangar: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "KEEP_ALIVE_SECONDS", 0.2)
    seeded = await running_build(hangar)
    step = seeded.steps[1, 2]
    await add_lines(hangar, step, ["line 0"])
    channel = f"log:{step.id}"
    async with live.stream("GET", f"{BUILD}/logs/1/2/stream") as response:
        lines = response.aiter_lines()
        async with asyncio.timeout(30):
            while await anext(lines) != ": keep-alive":
                pass
        assert channel in hangar.broker._listeners
    async with asyncio.timeout(30):
        while channel in hangar.broker._listeners:
            await asyncio.sleep(0.05)


async def test_build_events_start_with_a_snapshot_and_end_with_the_build(
    live: httpx.AsyncClient, hangar: Services
) -> None:
    seeded = await running_build(hangar)
    async with live.stream("GET", f"{BUILD}/events") as response:
        events = EventReader(response)
        snapshot = await events.next()
        assert snapshot is not None
        assert snapshot.name == "snapshot"
        assert snapshot.json()["status"] == "running"
        assert [step["status"] for step in snapshot.json()["stages"][0]["steps"]] == ["success", "running"]

        async with hangar.transaction() as (session, changes):
            step = await find_step(session, seeded.stages[0].id or 0, 2)
            stage = await find_stage(session, seeded.stages[0].id or 0)
            assert step is not None and stage is not None
            step.status, step.exit_code, step.finished = "failure", 1, 5.0
            await update_step(session, step)
            changes.step(step, stage)
        event = await events.next()
        assert event is not None
        assert event.name == "step"
        assert {key: event.json()[key] for key in ("stage", "number", "name", "status", "exit_code")} == {
            "stage": 1, "number": 2, "name": "unit", "status": "failure", "exit_code": 1,
        }  # fmt: skip

        await finish_build(hangar, seeded, "failure")
        event = await events.next()
        assert event is not None
        assert (event.name, event.json()["status"]) == ("build", "failure")
        assert await events.next() is None


async def finish_build(hangar: Services, seeded: Seeded, status: str) -> None:
    """End the build as the server does, publishing its event."""
    async with hangar.transaction() as (session, changes):
        build = await find_build_by_id(session, seeded.build.id or 0)
        assert build is not None
        build.status, build.finished = status, 10.0
        await update_build(session, build)
        changes.build(build)


async def test_build_events_of_a_finished_build_end_after_the_snapshot(
    live: httpx.AsyncClient, hangar: Services
) -> None:
    seeded = await running_build(hangar)
    await finish_build(hangar, seeded, "success")
    async with live.stream("GET", f"{BUILD}/events") as response:
        events = EventReader(response)
        snapshot = await events.next()
        assert snapshot is not None
        assert (snapshot.name, snapshot.json()["status"]) == ("snapshot", "success")
        assert await events.next() is None


async def test_streams_of_missing_steps_and_builds_are_not_found(
    live: httpx.AsyncClient, hangar: Services
) -> None:
    await running_build(hangar)
    for path in (
        f"{BUILD}/logs/1/3/stream",
        f"{BUILD}/logs/2/1/stream",
        "/api/repos/octo/hello/builds/2/events",
    ):
        assert (await live.get(path)).status_code == 404, path


async def test_a_log_stream_ends_when_its_step_ends_without_waiting_for_its_guard_poll(
    live: httpx.AsyncClient, hangar: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "POLL_SECONDS", 3600.0)  # only the step's own message can end the stream
    seeded = await running_build(hangar)
    async with live.stream("GET", f"{BUILD}/logs/1/2/stream") as response:
        events = EventReader(response)
        await send_lines(live, seeded, 0, 2)
        assert positions(await events.take(2)) == [0, 1]
        await finish_step(live, seeded)
        done = await events.next(timeout=20)
        assert done is not None and done.name == "done"


def test_rendered_lines_are_the_line_events_from_any_position_in_writes_of_bounded_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from server.api.views import line_view

    monkeypatch.setattr(streams, "WRITE_BYTES", 100)
    lines: list[tuple[float, str]] = [
        (0.5, "plain"),
        (1e-05, 'quote " back \\ nul \u0000 é ☃'),
        (float("nan"), "not a time"),
        (3.0, ""),
    ]
    rendered = streams.render(7, lines)
    assert rendered.first == 7 and rendered.end == 11
    for position in range(7, 11):
        writes = list(rendered.since(position))
        assert all(len(write) <= 100 for write in writes)
        expected = "".join(
            streams.sse("line", json.dumps(line_view(at, seconds, text)), at)
            for at, (seconds, text) in enumerate(lines[position - 7 :], position)
        )
        assert b"".join(writes).decode() == expected


def test_a_live_message_published_by_this_process_renders_as_the_same_message_decoded() -> None:
    lines = [(0.5, "plain"), (0.5, 'quote " é ☃'), (1.25, "")]
    message = json.dumps({"first": 40, "lines": lines, "stage": 1, "step": 2})
    streams._rendered.cache_clear()
    decoded = streams._rendered(message)
    streams._rendered.cache_clear()
    live_hints.published(message, 40, lines)
    known = streams._rendered(message)
    streams._rendered.cache_clear()
    assert decoded is not None and known is not None
    assert (known.first, known.count, known.events) == (40, decoded.count, decoded.events)
    assert live_hints.take_published(message) is None, "taken once: every viewer shares the rendered lines"
    for first in range(5):  # the hints of messages nobody rendered are bounded
        live_hints.published(f"message {first}", first, lines)
    assert live_hints.remembered() == live_hints.PUBLISHED_HINTS


def test_a_viewer_joining_within_a_batch_gets_the_events_from_its_line_on_not_a_longer_number() -> None:
    lines = [(0.25, f"line {position}") for position in range(1, 130)]
    rendered = streams.render(1, lines)
    for position in (1, 12, 13, 99, 100, 120, 129, 130):
        events = b"".join(rendered.since(position)).decode()
        expected = [f"id: {at}" for at in range(position, 130)]
        assert [part for part in events.split("\n") if part.startswith("id: ")] == expected
