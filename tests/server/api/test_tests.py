"""Test results through the store and the REST API (both databases): a build's tests failed first, paged
and searched, retries stored once, a test's history, and flaky tests across a restart of one commit."""

from __future__ import annotations

from pipelines.runner_api import TestBatch
from pipelines.testresults.model import Outcome, TestCase, TestCounts, TestSource, case_key
from server.db.models import Repo
from server.services import Services
from server.store.builds import find_build_by_id, find_step
from server.store.tests import store_tests
from tests.server.api.conftest import RecordingClient
from tests.server.api.seed import Seeded, StageSeed, add_build, add_repo

BUILDS = "/api/repos/octo/hello/builds"


def cases(failing: set[int], total: int = 40) -> list[TestCase]:
    """`total` tests of one module, those numbered in `failing` failed."""
    return [
        TestCase(
            suite="pytest",
            classname="tests.test_shop",
            name=f"test_{number:02d}",
            outcome=Outcome.FAILED if number in failing else Outcome.PASSED,
            duration=0.01 * number,
            message=f"AssertionError: test {number} broke" if number in failing else "",
            text="assert 1 == 2" if number in failing else "",
        )
        for number in range(total)
    ]


async def store(hangar: Services, seeded: Seeded, batch: TestBatch) -> int:
    async with hangar.transaction() as (session, _changes):
        build = await find_build_by_id(session, seeded.build.id or 0)
        step = await find_step(session, seeded.stages[0].id or 0, 2)
        assert build is not None and step is not None
        return await store_tests(session, build, step, batch)


async def finished_build(hangar: Services, repo: Repo, status: str = "failure") -> Seeded:
    stage = StageSeed("default", status, (("clone", "success"), ("test", status)))
    return await add_build(hangar, repo, status, [stage], finished=1_700_000_100.0)


async def test_a_build_s_tests_are_listed_failed_first_with_counts(
    api_each_db: RecordingClient, hangar_each_db: Services
) -> None:
    repo = await add_repo(hangar_each_db)
    seeded = await finished_build(hangar_each_db, repo)
    all_cases = cases({7, 21, 33})
    counts = TestCounts(passed=37, failed=3)
    await store(hangar_each_db, seeded, TestBatch(step=2, first=0, cases=all_cases[:25], done=False))
    await store(hangar_each_db, seeded, TestBatch(step=2, cases=all_cases[:25], done=False))  # a retry
    await store(hangar_each_db, seeded, TestBatch(step=2, first=25, cases=all_cases[25:], counts=counts))

    answer = (await api_each_db.get(f"{BUILDS}/{seeded.build.number}/tests")).json()
    detail = (await api_each_db.get(f"{BUILDS}/{seeded.build.number}")).json()

    assert answer["counts"] == {"passed": 37, "failed": 3, "errors": 0, "skipped": 0, "total": 40}
    assert answer["matching"] == 40
    assert [t["name"] for t in answer["tests"][:4]] == ["test_07", "test_21", "test_33", "test_00"]
    assert answer["tests"][0]["message"] == "AssertionError: test 7 broke"
    assert answer["suites"] == [{"suite": "pytest", "counts": answer["counts"]}]
    assert detail["tests"]["failed"] == 3
    assert detail["infrastructure"] == ""


async def test_tests_are_filtered_by_outcome_searched_and_paged(
    api_each_db: RecordingClient, hangar_each_db: Services
) -> None:
    repo = await add_repo(hangar_each_db)
    seeded = await finished_build(hangar_each_db, repo)
    await store(hangar_each_db, seeded, TestBatch(step=2, cases=cases({7, 21, 33})))
    url = f"{BUILDS}/{seeded.build.number}/tests"

    failed = (await api_each_db.get(url, params={"outcome": "failed"})).json()
    found = (await api_each_db.get(url, params={"q": "TEST_2"})).json()
    page = (await api_each_db.get(url, params={"limit": 5, "offset": 5})).json()
    wrong = await api_each_db.get(url, params={"outcome": "bad"})

    assert [t["name"] for t in failed["tests"]] == ["test_07", "test_21", "test_33"]
    assert found["matching"] == 10
    assert len(page["tests"]) == 5 and page["offset"] == 5
    assert wrong.status_code == 400


async def test_a_test_that_failed_then_passed_on_the_same_commit_is_flaky_in_both_and_in_the_history(
    api_each_db: RecordingClient, hangar_each_db: Services
) -> None:
    repo = await add_repo(hangar_each_db)
    first = await finished_build(hangar_each_db, repo)
    restart = await finished_build(hangar_each_db, repo, "success")
    await store(hangar_each_db, first, TestBatch(step=2, cases=cases({7})))
    await store(hangar_each_db, restart, TestBatch(step=2, cases=cases(set())))
    key = case_key("tests.test_shop", "test_07")

    history = (await api_each_db.get(f"/api/repos/octo/hello/tests/{key}")).json()
    flaky = (await api_each_db.get("/api/repos/octo/hello/tests")).json()
    failed = {"outcome": "failed"}
    before = (await api_each_db.get(f"{BUILDS}/{first.build.number}/tests", params=failed)).json()
    steady_key = case_key("tests.test_shop", "test_08")
    steady = (await api_each_db.get(f"/api/repos/octo/hello/tests/{steady_key}")).json()

    assert [(h["build"], h["outcome"], h["flaky"]) for h in history["history"]] == [
        (restart.build.number, "passed", True),
        (first.build.number, "failed", True),
    ]
    assert history["flaky"] is True
    assert flaky["flaky"] == [{"key": key, "classname": "tests.test_shop", "name": "test_07", "builds": 2}]
    assert before["tests"][0]["flaky"] is True
    assert steady["flaky"] is False


async def test_failures_recognised_in_a_log_without_counts_say_so(
    api_each_db: RecordingClient, hangar_each_db: Services
) -> None:
    repo = await add_repo(hangar_each_db)
    seeded = await finished_build(hangar_each_db, repo)
    failing = [case for case in cases({1, 2}) if case.outcome.is_failed]
    await store(hangar_each_db, seeded, TestBatch(step=2, cases=failing, source=TestSource.LOG))

    answer = (await api_each_db.get(f"{BUILDS}/{seeded.build.number}/tests")).json()

    assert answer["counted"] is False
    assert answer["counts"]["failed"] == 2
