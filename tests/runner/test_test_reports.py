"""Test results of finished steps: report files read from the container, else the log's failures; bounded."""

from __future__ import annotations

from pathlib import Path

from pipelines.status import Status
from pipelines.testresults.model import Outcome, TestCounts, TestSource
from runner.executor import StageOptions, run_stage
from runner.test_reports import BATCH_CASES, MAX_REPORT_BYTES
from tests.runner.fake_engine import Behaviour, FakeEngine
from tests.runner.support import RecordingReporter, plan_of

FIXTURES = Path(__file__).parents[1] / "pipelines" / "testresults" / "fixtures"
PIPELINE = """
kind: pipeline
name: default
clone: {disable: true}
steps:
  - name: test
    image: python:3.11
    commands: [pytest]
    reports: ["build/test-results/**/*.xml"]
"""
WORKSPACE = "/drone/src"


async def run(behaviour: Behaviour, secrets: dict[str, str] | None = None):
    engine, reporter = FakeEngine({"test": behaviour}), RecordingReporter()
    options = StageOptions(secrets=secrets or {})
    report = await run_stage(engine, reporter, plan_of(PIPELINE), options=options)
    return reporter, report.step("test").status


async def test_a_report_matching_the_step_s_globs_is_read_and_sent_before_the_step_ends():
    report = (FIXTURES / "pytest.xml").read_bytes()
    behaviour = Behaviour(exit_code=1, written={f"{WORKSPACE}/build/test-results/unit/junit.xml": report})

    reporter, status = await run(behaviour)

    [batch] = reporter.tests["test"]
    assert status == Status.FAILURE
    assert batch.source == TestSource.REPORT
    assert batch.counts == TestCounts(passed=3, failed=2, skipped=1)
    assert [c.name for c in batch.cases if c.outcome == Outcome.FAILED] == ["test_login", "test_logout"]
    assert "[hangar] tests: 3 passed, 2 failed, 1 skipped (from 1 report file)" in reporter.text("test")


async def test_files_in_the_hangar_reports_folder_are_read_and_others_are_not():
    report = (FIXTURES / "jest.xml").read_bytes()
    written = {"/hangar/reports/jest.xml": report, f"{WORKSPACE}/elsewhere/junit.xml": report}

    reporter, _ = await run(Behaviour(written=written))

    [batch] = reporter.tests["test"]
    assert batch.counts == TestCounts(passed=3, failed=2, skipped=1)


async def test_an_oversized_or_malformed_report_is_refused_with_a_note_and_the_outcome_is_unchanged():
    huge = b"<testsuite>" + b" " * (MAX_REPORT_BYTES + 1) + b"</testsuite>"
    written = {"/hangar/reports/huge.xml": huge, "/hangar/reports/broken.xml": b"<testsuite><testcase"}

    reporter, status = await run(Behaviour(exit_code=0, written=written))

    assert status == Status.SUCCESS
    notes = [line for line in reporter.text("test") if line.startswith("[hangar] test report")]
    assert any("huge.xml is refused: 21.0 MB is over the limit of 20 MiB" in note for note in notes)
    assert any("broken.xml is refused: not well-formed XML" in note for note in notes)


async def test_without_report_files_the_failures_are_recognised_in_the_log():
    log = (FIXTURES / "pytest.log").read_bytes()

    reporter, _ = await run(Behaviour(output=[log], exit_code=1))

    [batch] = reporter.tests["test"]
    assert batch.source == TestSource.LOG
    assert [case.name for case in batch.cases] == ["test_login", "test_logout"]
    assert batch.counts == TestCounts(passed=3, failed=2, skipped=1)
    lines = reporter.text("test")
    assert lines[batch.cases[0].log_line or 0].startswith("____")


async def test_a_step_that_printed_no_tests_sends_no_results():
    reporter, _ = await run(Behaviour(output=[b"hello\n"]))

    assert reporter.tests["test"] == []


async def test_secrets_in_failure_messages_are_masked():
    report = b'<testsuite><testcase name="t"><failure message="token hunter22">hunter22</failure></testcase>'
    report += b"</testsuite>"

    reporter, _ = await run(Behaviour(written={"/hangar/reports/r.xml": report}), {"TOKEN": "hunter22"})

    [case] = reporter.tests["test"][0].cases
    assert (case.message, case.text) == ("token ******", "******")


async def test_many_cases_go_in_several_batches_the_last_with_the_counts():
    cases = "".join(f'<testcase name="t{i}"/>' for i in range(BATCH_CASES + 5))
    written = {"/hangar/reports/r.xml": f"<testsuite>{cases}</testsuite>".encode()}

    reporter, _ = await run(Behaviour(written=written))

    batches = reporter.tests["test"]
    shapes = [(b.first, len(b.cases), b.done) for b in batches]
    assert shapes == [(0, BATCH_CASES, False), (BATCH_CASES, 5, True)]
    assert batches[-1].counts == TestCounts(passed=BATCH_CASES + 5)
