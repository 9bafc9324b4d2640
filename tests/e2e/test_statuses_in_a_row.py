"""Many builds on one server, as people push: every commit gets `pending` first and its final state last, soon
after its build ends, and every build's email arrives once — one after another, two seconds apart and several
at once, with a restart in between, on the embedded SQLite and on PostgreSQL (issue 13: on SQLite, a deleted
outbox row's id came back and arq silently refused the job queued under it, so only the first build's
statuses were sent)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fresh_postgres
from tests.e2e.processes import Hangar, free_port, wait_until
from tests.e2e.test_push_to_build import mailing_hangar, push_and_hook, register, statuses_for
from tests.peers import RecordingForge, SmtpServer
from tests.server.support import PushedRepo

PASSING = """\
kind: pipeline
name: test
steps:
  - name: check
    image: busybox
    commands: ["echo build {n} passes"]
"""

FAILING = """\
kind: pipeline
name: test
steps:
  - name: check
    image: busybox
    commands: ["echo build {n} fails", "exit 1"]
"""

FINAL_STATUS_WITHIN = 20.0
"""Seconds from a build's end to its final commit status. Sent at once, it takes well under a second; the
worker's sweep of lost notifications only re-queues after 30 s, so a dropped job shows as a miss."""


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, services: dict[str, str]
) -> Iterator[tuple[str, dict[str, str]]]:
    """The database's name and `hangar up`'s environment for it: the embedded SQLite, or a fresh PostgreSQL
    database (dropped afterwards)."""
    if request.param == "sqlite":
        yield "sqlite", {}
        return
    with fresh_postgres(services["HANGAR_TEST_POSTGRES_URL"]) as url:
        yield "postgresql", {"HANGAR_DATABASE_URL": url}


async def test_every_build_reports_pending_then_its_end_and_mails_once(
    database: tuple[str, dict[str, str]],
    tmp_path: Path,
    docker_host: str,
    forge: RecordingForge,
    smtp_server: SmtpServer,
) -> None:
    name, env = database
    repo = PushedRepo(tmp_path / "git")
    port = free_port()
    pushed: list[tuple[int, str, str]] = []  # (build number, sha, expected status)

    async def push(hangar: Hangar) -> None:
        number = len(pushed) + 1
        passing = number % 2 == 1
        pipeline = (PASSING if passing else FAILING).format(n=number)
        sha = await asyncio.to_thread(push_and_hook, hangar, repo, {".ci.yml": pipeline}, f"change {number}")
        pushed.append((number, sha, "success" if passing else "failure"))

    with mailing_hangar(tmp_path / "data", smtp_server, env, port) as hangar:
        await asyncio.to_thread(register, hangar, repo, forge)
        for _ in range(10):  # one after another, each once the last has finished
            await push(hangar)
            await _finished(hangar, len(pushed))
    with mailing_hangar(tmp_path / "data", smtp_server, env, port) as hangar:  # restarted
        for _ in range(4):  # two seconds apart, whether or not the last has finished
            await push(hangar)
            await asyncio.sleep(2)
        for _ in range(4):  # several at once
            await push(hangar)
        builds = {number: await _finished(hangar, number) for number, _, _ in pushed}
        await _until(lambda: all(_final(forge, sha) for _, sha, _ in pushed), "every final status", hangar)
        await _until(lambda: len(smtp_server.inbox.messages) >= len(pushed), "every email", hangar)
        await asyncio.sleep(2)  # time for a duplicate to show up

    delays: list[float] = []
    for number, sha, expected in pushed:
        build = builds[number]
        assert build["status"] == expected, (number, build["status"], build["error"])
        states = statuses_for(forge, sha)
        assert states[0] == "pending" and states[-1] == expected, (number, states)
        delays.append(_final(forge, sha)[-1].at - build["finished"])
    print(f"{name}: final status {min(delays):.2f}-{max(delays):.2f} s after each build's end")
    late = {number: round(delay, 1) for (number, _, _), delay in zip(pushed, delays, strict=True)}
    assert max(delays) < FINAL_STATUS_WITHIN, f"final statuses late (build: seconds): {late}"

    subjects = [_subject(message.content) for message in smtp_server.inbox.messages]
    numbers = sorted(int(match.group(1)) for s in subjects if (match := re.search(r"#(\d+)", s)))
    assert numbers == [number for number, _, _ in pushed], subjects


def _final(forge: RecordingForge, sha: str) -> list[Any]:
    """The forge's requests that set the commit's final state."""
    return [
        r
        for r in forge.requests
        if r.path == f"/repos/octo/app/statuses/{sha}" and r.body["state"] in ("success", "failure", "error")
    ]


def _subject(content: bytes) -> str:
    return str(email.message_from_bytes(content, policy=email.policy.default)["Subject"])


async def _finished(hangar: Hangar, number: int) -> dict[str, Any]:
    return await asyncio.to_thread(hangar.wait_for_build, "octo/app", number)


async def _until(condition: Any, what: str, hangar: Hangar) -> None:
    await asyncio.to_thread(wait_until, condition, what, 90, hangar.output())
