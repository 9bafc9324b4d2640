"""Load, CI-sized: a burst of webhooks, a step printing megabytes to live viewers, a long build list; and
the defects they found (a lagging viewer holding every live batch, memory kept after reading long logs,
writers starving on SQLite's busy handler).

The full-size versions with their baselines are in bench/ (big_log, build_list, webhook_ingest); these
check what a user would notice (no build lost or doubled, no log line lost, no build listed twice), and
print figures without asserting on them.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.big_log import run_big_log
from bench.build_list import branch_of, list_pages, seeded_site
from bench.server_burst import send_hooks
from bench.server_support import NAME, OWNER, hangar_site
from server.api import streams
from server.services import Services
from server.store.builds import find_step, update_step
from tests.conftest import ROOT
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo
from tests.server.support import github_headers, github_push

BURST = int(os.environ.get("HANGAR_LOAD_BURST", "60"))
"""Webhooks in the burst: 60 in CI, 200 in `scripts/reliability`."""
DUPLICATES = 5
CAPACITY = 4
LOG_MEGABYTES = 8
LIST_BUILDS = 2000
WRITERS = 20
NO_CLONE = """\
kind: pipeline
name: load
clone: {disable: true}
steps:
  - name: hi
    image: busybox
    commands: [echo hi]
"""


def test_a_burst_of_webhooks_makes_one_build_each_and_they_all_succeed(
    tmp_path: Path, docker_host: str
) -> None:
    with hangar_site(tmp_path, "--capacity", str(CAPACITY)) as site:
        commits = site.push_many([f"burst {index}" for index in range(BURST)], NO_CLONE)
        hooks = []
        for index, (before, sha) in enumerate(commits):
            body = github_push(OWNER, NAME, before, sha, f"burst {index}")
            hooks.append((body, github_headers(body)))
        redelivered = [hooks[index * (BURST // DUPLICATES)] for index in range(DUPLICATES)]
        sent = time.monotonic()
        answers = asyncio.run(send_hooks(site.hangar.url, hooks + redelivered))
        accepted = time.monotonic() - sent
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            builds = site.builds()
            if len(builds) >= BURST and all(build["finished"] for build in builds):
                break
            time.sleep(1)
        took = time.monotonic() - sent
        builds = site.builds()
    codes = [answer.status_code for answer in answers]
    assert codes.count(202) == BURST, codes
    assert codes.count(200) == DUPLICATES and all(
        "duplicate" in answer.json() for answer in answers if answer.status_code == 200
    )
    assert sorted(build["number"] for build in builds) == list(range(1, BURST + 1))
    assert sorted(build["sha"] for build in builds) == sorted(sha for _before, sha in commits)
    assert {build["status"] for build in builds} == {"success"}, [
        (build["number"], build["status"], build["error"]) for build in builds if build["status"] != "success"
    ]
    print(
        f"\n{BURST} webhooks (+{DUPLICATES} redeliveries) accepted in {accepted:.2f}s "
        f"({len(answers) / accepted:.0f} hooks/s); all {BURST} builds done after {took:.1f}s "
        f"({BURST / took:.2f} builds/s on {CAPACITY} slots)"
    )


def test_a_step_printing_megabytes_reaches_the_store_and_every_live_viewer_whole(
    tmp_path: Path, docker_host: str
) -> None:
    result = run_big_log(tmp_path, megabytes=LOG_MEGABYTES, viewers=3)
    assert result.problems() == []
    assert all(viewer.done == {"status": "success", "exit_code": 0} for viewer in result.viewers)
    rate = result.lines / result.step_seconds
    print(
        f"\n{LOG_MEGABYTES} MB ({result.lines:,} lines) to 3 live viewers: step {result.step_seconds:.1f}s "
        f"({rate:,.0f} lines/s), webhook → finished {result.wall_seconds:.1f}s, "
        f"hangar up's RSS {result.server_idle_mib:.0f} MiB before, {result.server_peak_mib:.0f} MiB at peak"
    )


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_paging_the_build_list_gives_every_build_once(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_server") if database == "postgres" else ""
    with seeded_site(tmp_path, LIST_BUILDS, url) as site:
        everything = list_pages(site, limit=100)
        odd_pages = list_pages(site, limit=37)
        on_branch = list_pages(site, branch="feature-7", limit=10)
    assert everything == list(range(LIST_BUILDS, 0, -1))
    assert odd_pages == everything
    assert on_branch == [number for number in everything if branch_of(number) == "feature-7"]
    assert on_branch


async def test_a_viewer_that_falls_behind_holds_few_live_batches_and_still_gets_every_line(
    hangar: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "POLL_SECONDS", 0.2)
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "running", [StageSeed("test", "running", [("unit", "running")])])
    step, batches, size = seeded.steps[(1, 1)], 60, 100
    viewer = streams.follow_log(hangar, step.id or 0, 0)
    first_chunk = asyncio.ensure_future(anext(viewer))  # subscribes, finds no line yet, waits for live ones
    await asyncio.sleep(0.3)
    for batch in range(batches):  # the runner goes on while the viewer's connection does not read
        lines = [(float(n), f"line {n}") for n in range(batch * size, (batch + 1) * size)]
        await add_lines(hangar, step, [text for _, text in lines])
        await hangar.broker.publish(f"log:{step.id}", json.dumps({"first": batch * size, "lines": lines}))
    chunks = [await first_chunk]
    await asyncio.sleep(0.5)  # every message has reached the broker's listeners
    held = [queue.qsize() for queue in hangar.broker._listeners[f"log:{step.id}"]]
    async with hangar.transaction() as (session, _changes):
        stored = await find_step(session, step.stage_id, step.number)
        assert stored is not None
        stored.status, stored.exit_code = "success", 0
        await update_step(session, stored)
    chunks += [chunk async for chunk in viewer]
    text = "".join(chunk if isinstance(chunk, str) else bytes(chunk).decode() for chunk in chunks)
    ids = [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]
    assert ids == list(range(batches * size)), "every line once and in order, the dropped ones read back"
    assert held and max(held) <= streams.LIVE_BATCHES, f"a viewer behind held {held} live batches"


MALLINFO = """
import ctypes, sys
from server.memory import keep_memory_compact
if sys.argv[1] == "pinned":
    assert keep_memory_compact()
fields = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
Info = type("Info", (ctypes.Structure,), {"_fields_": [(name, ctypes.c_size_t) for name in fields]})
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
for _ in range(3):  # a page of a long log read and dropped, again and again
    before = libc.mallinfo2().hblkhd
    chunk = bytearray(400_000)
    print(libc.mallinfo2().hblkhd - before >= 400_000, flush=True)  # in a mapping of its own
    del chunk
"""


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="glibc's malloc only")
def test_the_server_hands_large_buffers_back_to_the_system_when_freed() -> None:
    def mapped(mode: str) -> list[str]:
        run = [sys.executable, "-c", MALLINFO, mode]
        return subprocess.run(run, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()

    assert mapped("default") == ["True", "False", "False"], "glibc keeps freed buffers in its heap by default"
    assert mapped("pinned") == ["True", "True", "True"], "each one is unmapped (returned) when freed"


async def test_concurrent_writes_on_sqlite_take_their_turn_in_order(hangar: Services) -> None:
    entered: list[int] = []

    async def write(index: int) -> None:
        await asyncio.sleep(index * 0.005)  # they arrive one after the other…
        async with hangar.transaction():
            entered.append(index)
            await asyncio.sleep(0.02)  # …while the one before still writes

    await asyncio.gather(*(write(index) for index in range(WRITERS)))
    assert entered == list(range(WRITERS)), "first come, first served: no webhook starves behind later ones"


async def test_each_sqlite_connection_keeps_a_small_page_cache(hangar: Services) -> None:
    async with hangar.reading() as session:
        kib = -(await session.exec(text("PRAGMA cache_size"))).one()[0]  # type: ignore[call-overload]
    assert kib <= 256, "up to 15 pooled connections each caching long logs' pages would grow the server"
