"""Benchmark: the build list API over 10,000 builds, on SQLite and on PostgreSQL.

Run: `.venv/bin/python -m bench.build_list [--builds 10000] [--requests 300]` (starts the test services if
they are not running; PostgreSQL gets a fresh database, dropped at the end). For each database, `hangar up
--no-runner` (real uvicorn) is started, `octo/app` registered, and the builds (one stage and two steps each,
on 20 branches, half on `main`) are inserted in bulk. Then, one request at a time over a kept-alive
connection, `--requests` of each: `GET /healthz` (the baseline: the same server; it only checks that the
database and Redis answer), the first page of `GET /api/repos/octo/app/builds`, a deep page (`?before=`
near the oldest builds), and a branch filter (`?branch=feature-7`, a branch with 1 build in 38).
Reported: p50/p95/p99 latency (goal p95 < 50 ms), each p95 as a ratio to the baseline's, and the server's
CPU milliseconds per request (from /proc: less sensitive than latency to other load on the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from bench.server_support import (
    NAME,
    OWNER,
    SLUG,
    BenchFailure,
    Site,
    console,
    cpu_times,
    fail_with_logs,
    hangar_site,
    percentile,
    ratio,
)
from server.db.models import Build, Repo, Stage, Step
from server.settings import Settings
from tests.conftest import fresh_postgres, running_services

BRANCHES = 20
GOAL_P95 = 0.050
SEED_BATCH = 2000
WARM_UP = 5


def branch_of(number: int) -> str:
    """Half the builds are on main, the rest spread over feature branches."""
    return "main" if number % 2 == 0 else f"feature-{number % (BRANCHES - 1)}"


def build_rows(repo_id: int, first_id: int, count: int) -> tuple[list[dict[str, Any]], ...]:
    """Rows of `count` finished builds numbered 1…count, each with one stage of two steps."""
    builds, stages, steps = [], [], []
    for number in range(1, count + 1):
        build_id = stage_id = first_id + number
        branch, at = branch_of(number), 1_700_000_000.0 + number * 60
        builds.append(
            Build(
                id=build_id, repo_id=repo_id, number=number, status="success", branch=branch,
                ref=f"refs/heads/{branch}", sha=f"{number:040x}", message=f"change {number}\n\nwhy",
                author_login="dev", author_name="Dev", author_email="dev@example.com",
                created=at, started=at + 1, finished=at + 30,
            ).model_dump()
        )  # fmt: skip
        stages.append(
            Stage(
                id=stage_id, build_id=build_id, repo_id=repo_id, number=1, name="test", status="success",
                created=at, started=at + 1, finished=at + 30,
            ).model_dump()
        )  # fmt: skip
        for step in (1, 2):
            steps.append(
                Step(
                    id=stage_id * 2 + step, stage_id=stage_id, number=step, name=("clone", "test")[step - 1],
                    status="success", exit_code=0, started=at + step, finished=at + 10 * step, log_lines=20,
                ).model_dump()
            )  # fmt: skip
    return builds, stages, steps


async def seed_builds(database_url: str, data: Path, count: int) -> None:
    """Insert `count` builds of octo/app in bulk (the server must have migrated the database)."""
    engine = create_async_engine(Settings(data=data, database_url=database_url).sqlalchemy_url)
    try:
        async with engine.begin() as connection:
            query = select(col(Repo.id)).where(col(Repo.owner) == OWNER, col(Repo.name) == NAME)
            repo_id = int((await connection.execute(query)).scalar_one() or 0)
            first_id = 10**7
            for table, rows in zip((Build, Stage, Step), build_rows(repo_id, first_id, count), strict=True):
                for start in range(0, len(rows), SEED_BATCH):
                    await connection.execute(insert(table), rows[start : start + SEED_BATCH])
            await connection.execute(update(Repo).where(col(Repo.id) == repo_id).values(counter=count))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def seeded_site(folder: Path, count: int, database_url: str = "") -> Iterator[Site]:
    """`hangar up --no-runner` on that database (empty: SQLite), `octo/app` with `count` builds."""
    env = {"HANGAR_DATABASE_URL": database_url} if database_url else {}
    with hangar_site(folder, "--no-runner", env=env) as site:
        asyncio.run(seed_builds(database_url, site.hangar.data, count))
        yield site


def list_pages(site: Site, branch: str = "", limit: int = 100) -> list[int]:
    """Every build number of the list, page by page (`?before=` the last one seen)."""
    numbers: list[int] = []
    while True:
        params = {"limit": str(limit)} | ({"branch": branch} if branch else {})
        params |= {"before": str(numbers[-1])} if numbers else {}
        page = site.api.get(f"/api/repos/{SLUG}/builds", params=params)
        page.raise_for_status()
        numbers += [build["number"] for build in page.json()]
        if len(page.json()) < limit:
            return numbers


def latencies(send: Callable[[], httpx.Response], requests: int) -> list[float]:
    """Seconds of each of `requests` requests, one at a time (after a few to warm up)."""
    for _ in range(WARM_UP):
        send().raise_for_status()
    seconds = []
    for _ in range(requests):
        start = time.perf_counter()
        answer = send()
        seconds.append(time.perf_counter() - start)
        answer.raise_for_status()
    return seconds


@dataclass
class Figures:
    """Latencies of each request kind, and the server's CPU seconds per request of that kind, by name."""

    database: str
    seconds: dict[str, list[float]]
    cpu: dict[str, float]


def measure(site: Site, count: int, requests: int, database: str) -> Figures:
    """Time the baseline and the three list requests."""
    api, path = site.api, f"/api/repos/{SLUG}/builds"
    kinds: dict[str, Callable[[], httpx.Response]] = {
        "GET /healthz (baseline)": lambda: api.get("/healthz"),
        "first page (25)": lambda: api.get(path),
        f"deep page (?before={count // 50})": lambda: api.get(path, params={"before": str(count // 50)}),
        "branch filter (?branch=feature-7)": lambda: api.get(path, params={"branch": "feature-7"}),
    }
    figures = Figures(database, {}, {})
    for name, send in kinds.items():
        before = cpu_times(site.hangar.process.pid).own
        figures.seconds[name] = latencies(send, requests)
        figures.cpu[name] = (cpu_times(site.hangar.process.pid).own - before) / (requests + WARM_UP)
    return figures


def table(figures: Figures, count: int) -> Table:
    """p50/p95/p99 per request kind, p95 against the baseline's, the server's CPU per request."""
    result = Table(title=f"{figures.database}: {count:,} builds, one request at a time")
    for column in ("request", "p50", "p95", "p99", "p95 / baseline", "server CPU / request"):
        result.add_column(column, justify="left" if column == "request" else "right")
    baseline = percentile(next(iter(figures.seconds.values())), 0.95)
    for name, seconds in figures.seconds.items():
        p95 = percentile(seconds, 0.95)
        mark = (
            "" if name.startswith("GET /healthz") else (" ✓" if p95 < GOAL_P95 else " [red]✗ goal 50 ms[/]")
        )
        result.add_row(
            name,
            *(f"{percentile(seconds, q) * 1000:.1f} ms" for q in (0.5, 0.95, 0.99)),
            ratio(p95, baseline) + mark,
            f"{figures.cpu[name] * 1000:.2f} ms",
        )
    return result


def run(folder: Path, count: int, requests: int, database: str, url: str) -> Figures:
    """Seed, check the paging once, measure."""
    with console.status(f"{database}: seeding {count:,} builds…"), seeded_site(folder, count, url) as site:
        if sorted(list_pages(site)) != list(range(1, count + 1)):
            raise site.failure("paging through the list did not give every build exactly once")
        with console.status(f"{database}: {requests} requests of each kind…"):
            return measure(site, count, requests, database)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--builds", type=int, default=10_000, help="builds in the database (default 10000)")
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind (default 300)")
    args = parser.parse_args()
    results = []
    with running_services() as services:
        try:
            with tempfile.TemporaryDirectory(prefix="hangar-bench-") as folder:
                results.append(run(Path(folder) / "sqlite", args.builds, args.requests, "SQLite", ""))
                with fresh_postgres(services["HANGAR_TEST_POSTGRES_URL"], "hangar_bench") as url:
                    results.append(
                        run(Path(folder) / "postgres", args.builds, args.requests, "PostgreSQL", url)
                    )
        except BenchFailure as failure:
            fail_with_logs(failure)
    for figures in results:
        console.print(table(figures, args.builds))


if __name__ == "__main__":
    main()
