"""What people see of test results: the build page's failing tests first and counts, the Tests view with
search and suites, an infrastructure failure's label, the repository's flakiest tests."""

from __future__ import annotations

import httpx

from pipelines.runner_api import TestBatch
from pipelines.testresults.model import TestCounts
from server.services import Services
from server.store.builds import find_build_by_id, find_step, update_step
from server.store.tests import store_tests
from tests.server.api.seed import Seeded, StageSeed, add_build, add_lines, add_repo
from tests.server.api.test_tests import cases

FAILING = StageSeed("backend", "failure", steps=(("clone", "success"), ("test", "failure")))


async def store(hangar: Services, seeded: Seeded, batch: TestBatch) -> None:
    async with hangar.transaction() as (session, _changes):
        build = await find_build_by_id(session, seeded.build.id or 0)
        step = await find_step(session, seeded.stages[0].id or 0, 2)
        assert build is not None and step is not None
        await store_tests(session, build, step, batch)


async def test_the_build_page_lists_the_failing_tests_first_with_their_messages_and_counts(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_100.0)
    counts = TestCounts(passed=37, failed=3)
    await store(hangar, seeded, TestBatch(step=2, cases=cases({7, 21, 33}), counts=counts))

    html = (await client.get(f"/octo/hello/{seeded.build.number}")).text

    assert "37 passed, 3 failed, 0 skipped" in html
    names = [name for name in ("test_07", "test_21", "test_33") if name in html]
    assert names == ["test_07", "test_21", "test_33"]
    assert html.index("test_07") < html.index("test_21") < html.index("test_33")
    assert "AssertionError: test 21 broke" in html
    assert "test_08" not in html  # passing tests are on the Tests view
    assert "Infrastructure failure" not in html


async def test_the_tests_view_searches_filters_and_counts_suites(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_100.0)
    await store(hangar, seeded, TestBatch(step=2, cases=cases({7, 21, 33})))
    url = f"/octo/hello/{seeded.build.number}/tests"

    everything = (await client.get(url)).text
    searched = (await client.get(url, params={"q": "test_2"})).text
    failed = (await client.get(url, params={"outcome": "failed"})).text

    assert everything.index("test_33") < everything.index("test_00")  # failed first
    assert "40 tests." in everything and "<td>pytest</td><td>37</td><td>3</td><td>0</td>" in everything
    assert "10 tests match." in searched and "test_07" not in searched
    assert "3 tests match." in failed


async def test_an_infrastructure_failure_is_labelled_on_the_build_page(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    oom = StageSeed("backend", "failure", steps=(("clone", "success"), ("test", "failure")))
    seeded = await add_build(hangar, repo, "failure", [oom], finished=1_700_000_100.0)
    async with hangar.transaction() as (session, _changes):
        step = seeded.steps[(1, 2)]
        step.error, step.exit_code = "out of memory: the container was killed by the kernel", 137
        await update_step(session, step)

    html = (await client.get(f"/octo/hello/{seeded.build.number}")).text

    assert "Infrastructure failure:</strong> out of memory" in html


async def test_the_repository_page_lists_its_flakiest_tests(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    first = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_100.0)
    passing = StageSeed("backend", "success", steps=(("clone", "success"), ("test", "success")))
    restart = await add_build(hangar, repo, "success", [passing], finished=1_700_000_200.0)
    await store(hangar, first, TestBatch(step=2, cases=cases({7})))
    await store(hangar, restart, TestBatch(step=2, cases=cases(set())))

    html = (await client.get("/octo/hello")).text

    assert "Flakiest tests on main" in html
    assert "<strong>test_07</strong>" in html and "flaky in 2 builds" in html


async def test_a_failed_step_shows_first_the_lines_new_since_the_last_green_build(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    passing = StageSeed("backend", "success", steps=(("clone", "success"), ("test", "success")))
    green = await add_build(hangar, repo, "success", [passing], finished=1_700_000_100.0)
    red = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_200.0)
    lines = [f"2026-12-07T02:{n:02d}:00Z step {n} took 0.{n}s" for n in range(30)]
    await add_lines(hangar, green.steps[1, 2], lines)
    broken = [line.replace("2026-12-07", "2026-12-09") for line in lines]
    broken.insert(12, "fatal: the schema has no column 'email'")
    await add_lines(hangar, red.steps[1, 2], broken)

    html = (await client.get(f"/octo/hello/{red.build.number}")).text

    news = html[html.index('id="new-lines"') : html.index("</section>", html.index('id="new-lines"'))]
    assert f"#{green.build.number}" in news
    assert "the schema has no column" in news and "step 3 took" not in news
    assert html.index('id="new-lines"') < html.index('id="log"')
