"""The build page with a 200,000-line log, in headless Chromium against `hangar up`: time to the first log
line painted and the page's JS heap after scrolling to the end, against a baseline measured in the same run:
the same log as one plain HTML page (every line in the DOM, as a viewer without virtualization shows it).

Run: `python -m bench.webui_log [--lines 200000] [--runs 3]` (needs Debian's chromium and the services:
`eval "$(scripts/services up)"`; no Docker is used: the log is stored directly in the database).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import statistics
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page
from rich.console import Console
from rich.table import Table

from server.db.engine import WRITE_OPTION, create_engine, session_factory
from server.db.migrate import upgrade_async
from server.db.models import Build, Repo, Stage, Step
from server.settings import Settings
from server.store.builds import create_build
from server.store.logs import append_lines
from server.store.repos import create_repo
from tests.browser import open_browser
from tests.e2e.processes import hangar_up

console = Console(highlight=False)
CHUNK = 1000
SCROLL_STEPS = 40
LOADED = """() => new Promise(done => {
    const poll = () => {
        const entry = performance.getEntriesByType("navigation")[0];
        if (entry && entry.loadEventEnd > 0) done(entry.loadEventEnd); else setTimeout(poll, 5);
    };
    poll();
})"""
"""When the page had loaded (its `load` event ended; ms since navigation)."""
FIRST_LINE_PAINTED = """() => new Promise(done => {
    new PerformanceObserver((list, observer) => {
        const line = list.getEntries().find(entry => entry.identifier === "first-log-line");
        if (line) { observer.disconnect(); done(line.renderTime || line.loadTime); }
    }).observe({type: "element", buffered: true});
    const poll = () => {
        const stats = window.hangarLogStats;
        if (stats && stats.firstLinePaintedAt) done(stats.firstLinePaintedAt); else setTimeout(poll, 5);
    };
    poll();
})"""
"""When the page's first log line was painted (ms since navigation): the server's first page of lines in the
HTML (Element Timing API), or the log viewer's first drawn lines, whichever comes first."""


def log_line(number: int) -> str:
    """A realistic line: a timestamp, a logger, some colour."""
    return (
        f"2026-11-26 09:{number // 3600 % 60:02d}:{number % 60:02d} INFO [worker-{number % 8}] "
        f"processed item {number:07d} in {number % 97} ms \x1b[32mok\x1b[0m"
    )


async def seed(data: Path, lines: dict[str, int]) -> None:
    """A repository `bench/log` whose build N has one step with `lines[N]` lines, stored in `data`."""
    settings = Settings(data=data)
    data.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings.sqlalchemy_url)
    engine = create_engine(settings.sqlalchemy_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await session.connection(execution_options={WRITE_OPTION: True})
            repo = await create_repo(session, Repo(owner="bench", name="log", clone_url="file:///none"))
            for number, (name, count) in enumerate(lines.items(), start=1):
                build = Build(
                    repo_id=repo.id or 0, number=number, status="success", event="push",
                    ref="refs/heads/main", branch="main", sha="0" * 40, message=name,
                    started=1.0, finished=2.0,
                )  # fmt: skip
                stage = Stage(build_id=0, repo_id=0, number=1, name="bench", status="success")
                step = Step(stage_id=0, number=1, name=name, status="success", started=1.0, finished=2.0)
                await create_build(session, build, [(stage, [step])])
                for first in range(0, count, CHUNK):
                    batch = [(first + i) * 0.001 for i in range(min(CHUNK, count - first))]
                    texts = [(seconds, log_line(first + i)) for i, seconds in enumerate(batch)]
                    await append_lines(session, step, first, texts)
            repo.counter = len(lines)
    finally:
        await engine.dispose()


async def heap(page: Page) -> dict[str, float]:
    """The page's JS heap after a garbage collection (MiB) and its DOM element count."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("HeapProfiler.collectGarbage")
    usage: dict[str, Any] = await cdp.send("Runtime.getHeapUsage")
    await cdp.detach()
    elements = await page.evaluate("() => document.getElementsByTagName('*').length")
    return {"heap": usage["usedSize"] / 2**20, "elements": float(elements)}


async def hangar_page(browser: Browser, url: str, total: int) -> dict[str, float]:
    """Open the build page; first line painted (ms from navigation), then scroll to the end and weigh."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(url)
    painted = await page.evaluate(FIRST_LINE_PAINTED)
    loaded = await page.evaluate(LOADED)
    body = page.locator(".log-body")
    for step in range(1, SCROLL_STEPS + 1):  # through the whole log, as a reader dragging the scrollbar
        await body.evaluate(f"b => {{ b.scrollTop = b.scrollHeight * {step} / {SCROLL_STEPS}; }}")
        await page.wait_for_timeout(25)
    await page.wait_for_function(
        f"() => document.querySelector('#log').hangarLog.loadedLineText({total - 1}) !== null"
    )
    await page.get_by_text(f"processed item {total - 1:07d}", exact=False).first.wait_for()
    weight = await heap(page)
    await page.close()
    return {"painted": painted, "loaded": loaded} | weight


async def plain_page(browser: Browser, path: Path, total: int) -> dict[str, float]:
    """The baseline: the same lines as one HTML page; first contentful paint, then scrolled to the end."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(600_000)  # a million plain lines take minutes
    await page.goto(path.as_uri())
    painted = await page.evaluate(
        "() => new Promise(done => new PerformanceObserver((list, observer) => {"
        " observer.disconnect(); done(list.getEntries()[0].startTime); })"
        ".observe({type: 'paint', buffered: true}))"
    )
    loaded = await page.evaluate(LOADED)
    await page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    await page.get_by_text(f"processed item {total - 1:07d}", exact=False).first.wait_for()
    weight = await heap(page)
    await page.close()
    return {"painted": painted, "loaded": loaded} | weight


def write_plain(path: Path, total: int) -> None:
    """The baseline page: every line a row, as a naive viewer would render them."""
    with path.open("w") as out:
        out.write("<!doctype html><meta charset=utf-8><title>plain log</title><body><pre>")
        for number in range(total):
            out.write(f'<div id="L{number + 1}">{number + 1} {html.escape(log_line(number))}</div>')
        out.write("</pre></body>")


async def main(total: int, runs: int) -> None:
    """Seed, start `hangar up`, measure both pages `runs` times, print the medians and ratios."""
    with tempfile.TemporaryDirectory(prefix="hangar-bench-") as folder:
        data, plain = Path(folder) / "data", Path(folder) / "plain.html"
        console.print(f"seeding a {total:,}-line log and a 100-line log…")
        await seed(data, {"big": total, "small": 100})
        write_plain(plain, total)
        results: dict[str, list[dict[str, float]]] = {"hangar": [], "small": [], "plain": []}
        with hangar_up(data, "--no-runner") as hangar:
            async with open_browser() as browser:
                for run in range(1, runs + 1):
                    console.print(f"run {run}/{runs}…")
                    results["hangar"].append(await hangar_page(browser, f"{hangar.url}/bench/log/1", total))
                    results["small"].append(await hangar_page(browser, f"{hangar.url}/bench/log/2", 100))
                    results["plain"].append(await plain_page(browser, plain, total))
    report(results, total)


def report(results: dict[str, list[dict[str, float]]], total: int) -> None:
    """Medians, and Hangar's figures as ratios of the baseline's."""

    def median(name: str, field: str) -> float:
        return statistics.median(run[field] for run in results[name])

    table = Table(title=f"build page with a {total:,}-line log (median of {len(results['hangar'])} runs)")
    for column in (
        "page",
        "first line painted",
        "page loaded",
        "JS heap after scrolling to the end",
        "DOM elements",
    ):
        table.add_column(column)
    rows = (
        ("Hangar, 200k lines" if total == 200_000 else f"Hangar, {total:,} lines", "hangar"),
        ("Hangar, 100 lines", "small"),
        ("baseline: plain HTML, every line in the DOM", "plain"),
    )
    for label, name in rows:
        table.add_row(
            label,
            f"{median(name, 'painted'):.0f} ms",
            f"{median(name, 'loaded'):.0f} ms",
            f"{median(name, 'heap'):.1f} MiB",
            f"{median(name, 'elements'):,.0f}",
        )
    console.print(table)
    first_line = median("hangar", "painted") / median("plain", "painted")
    loaded = median("hangar", "loaded") / median("plain", "loaded")
    console.print(
        f"ratios vs the plain page: first line {first_line:.2f}×, loaded {loaded:.3f}×, "
        f"heap {median('hangar', 'heap') / median('plain', 'heap'):.3f}×, "
        f"DOM elements {median('hangar', 'elements') / median('plain', 'elements'):.3f}×"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.lines, arguments.runs))
