"""Notifications name the failing tests: the email lists them before the log lines, the commit status says
`3 of 40 tests failed: …`; an infrastructure failure is in the subject; the email quotes the lines new since
the branch's last green build when they are fewer than the last lines."""

from __future__ import annotations

import dataclasses

import httpx

from pipelines.runner_api import TestBatch
from pipelines.status import Status
from pipelines.testresults.model import TestCounts
from server.notify.commit_status import MAX_DESCRIPTION, build_status_request
from server.notify.email import compose, subject
from server.notify.summary import BuildSummary, summarise
from server.services import Services
from server.store.builds import update_step
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo
from tests.server.api.test_tests import cases
from tests.server.notify.builds import failed_build
from tests.server.web.test_tests_page import store


def plain_text(summary: BuildSummary) -> str:
    """The email's plain-text part."""
    body = compose(summary, "ci@example.com", ["jane@example.com"]).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


FAILING = StageSeed("test", "failure", (("clone", "success"), ("test", "failure")))
THREE_OF_40 = TestCounts(passed=37, failed=3)
PASSING = StageSeed("test", "success", (("clone", "success"), ("test", "success")))


async def test_the_email_names_the_failing_tests_with_their_messages_before_the_log_lines(
    hangar: Services,
) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_100.0)
    await store(hangar, seeded, TestBatch(step=2, cases=cases({7, 21, 33}), counts=THREE_OF_40))
    await add_lines(hangar, seeded.steps[1, 2], ["collected 40 items", "3 failed, 37 passed in 1.2s"])

    async with hangar.reading() as session:
        summary = await summarise(session, hangar.cipher, "https://ci.example.com/", repo, seeded.build)
    text = plain_text(summary)

    assert summary.tests == "37 passed, 3 failed, 0 skipped"
    assert [test.name for test in summary.failing_tests] == ["test_07", "test_21", "test_33"]
    assert "Failing tests (3 of 40 tests failed):" in text
    assert "  x test_21" in text and "      AssertionError: test 21 broke" in text
    assert text.index("x test_33") < text.index("Last 2 lines of test/test:")


async def test_the_commit_status_says_which_tests_failed_within_the_forge_s_limit(hangar: Services) -> None:
    repo = await add_repo(hangar, api_url="https://forge.example/api/v3", forge="github")
    seeded = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_100.0)
    await store(hangar, seeded, TestBatch(step=2, cases=cases({7, 21, 33}), counts=THREE_OF_40))
    many = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_200.0)
    thirty = TestCounts(passed=10, failed=30)
    await store(hangar, many, TestBatch(step=2, cases=cases(set(range(30))), counts=thirty))

    async with hangar.reading() as session:
        request = await build_status_request(session, hangar.cipher, "", seeded.build.id or 0, Status.FAILURE)
        crowded = await build_status_request(session, hangar.cipher, "", many.build.id or 0, Status.FAILURE)
    assert isinstance(request, httpx.Request) and isinstance(crowded, httpx.Request)
    description = httpx.Response(200, content=request.content).json()["description"]
    cut = httpx.Response(200, content=crowded.content).json()["description"]

    assert description == "3 of 40 tests failed: test_07, test_21, test_33"
    assert len(cut) <= MAX_DESCRIPTION
    assert cut.startswith("30 of 40 tests failed: test_00, ") and cut.endswith(", …")


async def test_an_infrastructure_failure_is_in_the_subject_and_told_apart_from_a_failing_test(
    hangar: Services,
) -> None:
    repo = await add_repo(hangar)
    errored = StageSeed("test", "error", (("clone", "success"), ("test", "error")))
    seeded = await add_build(hangar, repo, "error", [errored], finished=1_700_000_100.0)
    async with hangar.transaction() as (session, _changes):
        step = seeded.steps[1, 2]
        step.error = "could not pull image nope/missing:1: manifest unknown"
        await update_step(session, step)

    async with hangar.reading() as session:
        summary = await summarise(session, hangar.cipher, "https://ci.example.com/", repo, seeded.build)

    number = seeded.build.number
    assert subject(summary) == f"[octo/hello] main #{number} error (infrastructure: image not found)"
    assert subject(failed_build()) == "[octo/hello] main #12 failure"
    text = plain_text(summary)
    assert "Infrastructure failure: image not found" in text


async def test_the_email_quotes_the_lines_new_since_the_last_green_build(hangar: Services) -> None:
    repo = await add_repo(hangar)
    green = await add_build(hangar, repo, "success", [PASSING], finished=1_700_000_100.0)
    red = await add_build(hangar, repo, "failure", [FAILING], finished=1_700_000_200.0)
    common = [f"step {n} done in 0.{n}s at 02:05:{n:02d}" for n in range(60)]
    await add_lines(hangar, green.steps[1, 2], common)
    broken = [line.replace("0.", "1.") for line in common]
    broken.insert(30, "ImportError: cannot import name 'pay' from 'shop'")
    await add_lines(hangar, red.steps[1, 2], broken)

    async with hangar.reading() as session:
        summary = await summarise(session, hangar.cipher, "https://ci.example.com/", repo, red.build)
    text = plain_text(summary)

    assert summary.failing_lines == ("ImportError: cannot import name 'pay' from 'shop'",)
    assert "Lines of test/test new since the last green build:" in text
    assert dataclasses.replace(summary, new_lines=False).failing_lines == summary.failing_lines
