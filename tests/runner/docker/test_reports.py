"""Test reports collected from real finished containers before they are removed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pipelines.status import Status
from pipelines.testresults.model import TestCounts, TestSource
from runner.docker import DockerEngine
from runner.executor import run_stage
from tests.runner.support import RecordingReporter, plan_of

pytestmark = pytest.mark.usefixtures("docker_host")
REPORT = (
    '<testsuite name="s"><testcase name="a"/><testcase name="b"><failure message="boom">x</failure>'
    '</testcase><testcase name="c"><skipped/></testcase></testsuite>'
)


@pytest.fixture
async def engine() -> AsyncIterator[DockerEngine]:
    async with await DockerEngine.connect() as engine:
        yield engine


async def test_reports_in_the_step_s_folder_and_its_globs_are_read_after_it_ends(
    engine: DockerEngine,
) -> None:
    text = f"""
kind: pipeline
name: default
clone: {{disable: true}}
steps:
  - name: unit
    image: busybox
    commands:
      - mkdir -p out/results
      - echo '{REPORT}' > out/results/junit.xml
      - echo '{REPORT}' > "$HANGAR_REPORTS/again.xml"
      - exit 1
    reports: ["out/**/*.xml"]
  - name: other
    image: busybox
    commands: ["ls -A $HANGAR_REPORTS | wc -l"]
    when: {{status: [failure]}}
"""
    reporter = RecordingReporter()

    report = await run_stage(engine, reporter, plan_of(text))

    assert report.step("unit").status == Status.FAILURE
    [batch] = reporter.tests["unit"]
    assert batch.source == TestSource.REPORT
    assert batch.counts == TestCounts(passed=2, failed=2, skipped=2)  # the same report twice
    assert "[hangar] tests: 2 passed, 2 failed, 2 skipped (from 2 report files)" in reporter.text("unit")
    assert reporter.text("other")[-1].strip() == "0", "every step's folder starts empty"
