"""Benchmark: what one 1-step build costs the server, counted (not timed, so a busy machine does not move it):
SQL statements and transactions, HTTP requests by route, arq jobs queued and run, Redis round trips, by phase.

Run: `.venv/bin/python -m bench.server_counts [--builds N] [--burst]` (starts the test services if they are
not running). The server and its worker run in this process (as `hangar up` runs them: SQLite in a temporary
folder, uvicorn, the arq worker; the test Redis), the real `hangar runner` (4 slots) beside it. After a
warm-up build, N commits are built one after the other (each hook sent once the last build has finished and
its jobs have run), or with `--burst` their N webhooks are sent at once; the counts over those N builds are
divided by N. Background work (the runner's idle long-poll, the worker's crons and polls, the heartbeat) is
counted in its own phase. ORM rows: objects SQLAlchemy made from rows read (tens of microseconds each).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from rich.table import Table

from bench.server_support import NAME, OWNER, PIPELINE, SLUG, console
from server.app import create_app
from server.db.migrate import upgrade_async
from server.jobs import create_worker
from server.services import open_services
from server.settings import Settings
from tests.conftest import running_services
from tests.e2e.processes import ADMIN_TOKEN, RUNNER_SECRET, free_port, hangar_runner
from tests.server.counting import OTHER, CountedApp, Counts, counting
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

SLOTS = 4
SETTLE_SECONDS = 1.0
"""After a build has finished: time for the runner's last requests and the jobs it queued."""


async def wait_finished(api: httpx.AsyncClient, number: int, timeout: float = 120) -> None:
    """Poll build `number` until it has finished (it must succeed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = await api.get(f"/api/repos/{SLUG}/builds/{number}")
        if answer.status_code == 200 and answer.json()["finished"]:
            assert answer.json()["status"] == "success", answer.json()
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"build #{number} did not finish")


async def build_all(api: httpx.AsyncClient, repo: PushedRepo, numbers: list[int]) -> None:
    """Push a commit per build number, send their hooks at once, wait until every build has finished."""
    hooks = []
    for number in numbers:
        before, sha = repo.push({".ci.yml": PIPELINE, "change.txt": str(number)}, str(number))
        hooks.append(github_push(OWNER, NAME, before, sha, str(number)))
    sent = [api.post("/hook", content=hook, headers=github_headers(hook)) for hook in hooks]
    assert all(answer.status_code == 202 for answer in await asyncio.gather(*sent))
    for number in numbers:
        await wait_finished(api, number)
    await asyncio.sleep(SETTLE_SECONDS)


async def measure(folder: Path, builds: int, burst: bool) -> Counts:
    """The counts over `builds` builds, one at a time or all at once (the bench's own polls taken off)."""
    port = free_port()
    settings = Settings(
        data=folder / "data", url=f"http://127.0.0.1:{port}", port=port, admin_token=ADMIN_TOKEN,
        runner_secret=RUNNER_SECRET,
    )  # fmt: skip
    settings.data.mkdir(parents=True)
    redis_url = os.environ["HANGAR_TEST_REDIS_URL"]
    await upgrade_async(settings.sqlalchemy_url)
    hangar = await open_services(settings, redis_url)
    await hangar.redis.flushdb()
    counts = Counts()
    app = CountedApp(create_app(settings, redis_url, hangar, freeze_start_up=True), counts)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", http="httptools"))
    worker = create_worker(settings, redis_url, hangar, handle_signals=False)
    serving = asyncio.create_task(server.serve())
    working = asyncio.create_task(worker.async_run())
    repo = PushedRepo(folder / "git")
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=settings.url, headers=headers, trust_env=False) as api:
            body = {
                "owner": OWNER, "name": NAME, "clone_url": str(repo.bare), "forge": "github",
                "webhook_secret": WEBHOOK_SECRET, "email_policy": "never",
            }  # fmt: skip
            assert (await api.post("/api/repos", json=body)).status_code == 201
            with (
                counting(hangar, worker, counts),
                hangar_runner(settings.url, "count-runner", folder / "runner.log", SLOTS),
            ):
                await build_all(api, repo, [1])  # the warm-up
                start = counts.copy()
                numbers = list(range(2, builds + 2))
                for group in [numbers] if burst else [[number] for number in numbers]:
                    await build_all(api, repo, group)
                return (counts.copy() - start).without(f"GET /api/repos/{SLUG}/builds/{{n}}")
    finally:
        server.should_exit = True
        await serving
        working.cancel()
        await asyncio.gather(working, return_exceptions=True)
        await worker.close()
        await hangar.redis.flushdb()
        await hangar.close()


def table(counts: Counts, builds: int, burst: bool) -> Table:
    """Per build, by phase: statements (of which transactions), requests, jobs queued, Redis round trips."""
    how = "their webhooks sent at once" if burst else "one at a time"
    result = Table(title=f"per build (mean of {builds} 1-step builds, {how}); SQL without PRAGMA")
    columns = (
        "phase",
        "SQL",
        "SELECT",
        "write",
        "BEGIN",
        "PRAGMA",
        "ORM rows",
        "requests",
        "jobs queued",
        "Redis",
    )
    for column in columns:
        result.add_column(column, justify="left" if column == "phase" else "right")
    writes = ("INSERT", "UPDATE", "DELETE")
    for phase in [*counts.phases(), "total"]:
        which = None if phase == "total" else phase
        statements = counts.sql(which) - counts.sql(which, "PRAGMA")
        requests = sum(n for each, n in counts.requests.items() if which in (None, each))
        queued = sum(n for (each, _), n in counts.queued.items() if which in (None, each))
        redis = sum(n for each, n in counts.redis.items() if which in (None, each))
        rows = sum(n for each, n in counts.rows.items() if which in (None, each))
        row = [
            statements, counts.sql(which, "SELECT"), sum(counts.sql(which, kind) for kind in writes),
            counts.sql(which, "BEGIN"), counts.sql(which, "PRAGMA"), rows, requests, queued, redis,
        ]  # fmt: skip
        result.add_row(phase, *(f"{value / builds:.1f}" for value in row))
    return result


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--builds", type=int, default=5, help="builds counted (default 5)")
    parser.add_argument("--burst", action="store_true", help="send their webhooks at once")
    args = parser.parse_args()
    console.width = max(console.width, 130)
    with running_services(), tempfile.TemporaryDirectory(prefix="hangar-counts-") as folder:
        counts = asyncio.run(measure(Path(folder), args.builds, args.burst))
    console.print(table(counts, args.builds, args.burst))
    kinds = sorted({kind for _, kind in counts.statements})
    by_kind = ", ".join(f"{kind} {counts.sql(kind=kind) / args.builds:.1f}" for kind in kinds)
    console.print(f"statements by kind: {by_kind}")
    console.print(f"(the bench's own polls of the build are left out; '{OTHER}' is background work)")


if __name__ == "__main__":
    main()
