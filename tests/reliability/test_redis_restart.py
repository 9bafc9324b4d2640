"""Redis restarted (kill -9, back empty: no persistence) in the middle of a build, with builds waiting and a
webhook arriving while it is down: no build is lost or stuck, every log line is stored once, and a live log
stream opened before the restart still delivers every line."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.processes import Hangar, hangar_parts, hangar_runner, wait_until
from tests.reliability.outages import LogReader, redis_server
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

LINES = 50
COUNTING = f"""\
kind: pipeline
name: count
steps:
  - name: count
    image: busybox
    commands:
      - for i in $(seq 1 {LINES}); do echo "line $i"; sleep 0.2; done
"""
WAITING_BUILDS = 3
"""Builds pushed after the first, before the restart: they wait for the runner (capacity 1)."""


def push(hangar: Hangar, repo: PushedRepo, number: int) -> tuple[bytes, dict[str, str]]:
    """Commit and push change `number`; the webhook GitHub would send for it (not sent yet)."""
    before, sha = repo.push({".ci.yml": COUNTING, "change.txt": str(number)}, f"change {number}")
    body = github_push("octo", "app", before, sha, f"change {number}")
    return body, github_headers(body)


def deliver(hangar: Hangar, hook: tuple[bytes, dict[str, str]]) -> int:
    """Send the webhook; the HTTP status the server answered (599 when it did not answer at all)."""
    body, headers = hook
    try:
        return httpx.post(
            f"{hangar.url}/hook", content=body, headers=headers, trust_env=False, timeout=30
        ).status_code
    except httpx.HTTPError:
        return 599


def build(api: httpx.Client, number: int) -> dict[str, Any] | None:
    """The build as the API shows it, or None when there is no such build (yet)."""
    answer = api.get(f"/api/repos/octo/app/builds/{number}")
    return answer.json() if answer.status_code == 200 else None


def stored_lines(api: httpx.Client, number: int) -> list[dict[str, Any]]:
    """The log of build `number`'s counting step (step 2: step 1 is the clone)."""
    answer = api.get(f"/api/repos/octo/app/builds/{number}/logs/1/2")
    return list(answer.json()) if answer.status_code == 200 else []


def counted(lines: list[dict[str, Any]]) -> list[str]:
    """The `line N` lines the step printed, in the order stored."""
    return [line["out"] for line in lines if line["out"].startswith("line ")]


def test_a_redis_restart_mid_build_loses_no_build_and_no_line(tmp_path: Path, docker_host: str) -> None:
    repo = PushedRepo(tmp_path / "git")
    with (
        redis_server(tmp_path / "redis") as redis,
        hangar_parts(tmp_path / "data", {"HANGAR_REDIS_URL": redis.url}) as hangar,
        hangar_runner(hangar.url, "steady", tmp_path / "runner.log"),
        hangar.api() as api,
        contextlib.ExitStack() as cleanup,
    ):
        body = {"owner": "octo", "name": "app", "clone_url": str(repo.bare), "webhook_secret": WEBHOOK_SECRET}
        assert api.post("/api/repos", json=body).status_code == 201
        assert deliver(hangar, push(hangar, repo, 1)) == 202
        wait_until(lambda: len(counted(stored_lines(api, 1))) >= 5, "build 1 printing", 120, hangar.output())
        stream = LogReader(f"{hangar.url}/api/repos/octo/app/builds/1/logs/1/2/stream")
        stream.start()
        cleanup.callback(stream.stop)
        for number in range(2, 2 + WAITING_BUILDS):
            assert deliver(hangar, push(hangar, repo, number)) == 202
        last_waiting = 1 + WAITING_BUILDS
        wait_until(lambda: build(api, last_waiting) is not None, "the waiting builds", 60, hangar.output())
        waiting = [build(api, number) for number in range(2, 2 + WAITING_BUILDS)]
        assert all(b is not None and b["status"] == "pending" for b in waiting), waiting

        first = build(api, 1)
        assert first is not None and first["status"] == "running", "build 1 still runs when Redis goes"
        redis.kill()
        during = push(hangar, repo, last_waiting + 1)
        answered_during = deliver(hangar, during)
        redis.start()
        restarted = time.monotonic()
        assert answered_during in (202, 503), (
            f"accepted, or refused asking for a redelivery: {answered_during}"
        )
        redelivered = None
        if answered_during != 202:  # a forge redelivers a webhook its receiver failed
            redelivered = deliver(hangar, during)
            assert redelivered in (200, 202), redelivered
        assert hangar.process.poll() is None, "the server survived the outage"

        pushed = last_waiting + 1
        finished: dict[int, dict[str, Any]] = {}

        def all_finished() -> bool:
            for number in range(1, pushed + 1):
                if number not in finished and (current := build(api, number)) and current["finished"]:
                    finished[number] = current
            return len(finished) == pushed

        with contextlib.suppress(AssertionError):  # what did not finish is counted below
            wait_until(all_finished, "every build to finish", 240)
        recovered = time.monotonic() - restarted
        stream.join(30)
        logs = {number: stored_lines(api, number) for number in finished}
        lost = [number for number in range(1, pushed + 1) if build(api, number) is None]
        output = hangar.output()

    stuck = pushed - len(finished) - len(lost)
    expected = [f"line {i}" for i in range(1, LINES + 1)]
    lines_lost = sum(len(set(expected) - set(counted(lines))) for lines in logs.values())
    duplicated = sum(len(counted(lines)) - len(set(counted(lines))) for lines in logs.values())
    print(
        f"\nRedis restart: {pushed} builds pushed, {len(lost)} lost, {stuck} stuck, {lines_lost} lines lost, "
        f"{duplicated} lines stored twice; all builds finished {recovered:.1f}s after the restart; "
        f"webhook during the outage answered {answered_during}"
        + (f" (redelivered: {redelivered})" if redelivered else "")
        + f"; live log stream: {len(stream.positions)} lines, {stream.reconnects} reconnects"
    )
    assert not lost, f"builds never created: {lost}\n{output[-5000:]}"
    assert stuck == 0, (
        f"builds never finished: {sorted(set(range(1, pushed + 1)) - set(finished))}\n{output[-5000:]}"
    )
    assert all(b["status"] == "success" for b in finished.values()), {
        n: b["status"] for n, b in finished.items()
    }
    for number, lines in logs.items():
        assert counted(lines) == expected, f"build {number}: {counted(lines)}"
        assert [line["pos"] for line in lines] == list(range(len(lines))), f"build {number}: positions"
    assert stream.done is not None, f"the live log never ended: {stream.errors}"
    assert stream.positions == list(range(len(logs[1]))), "every line once, in order, on the live stream"
    assert [text for text in stream.texts if text.startswith("line ")] == expected
