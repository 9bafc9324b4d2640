"""Test reports collected from real finished containers before they are removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiodocker.containers import DockerContainer

from pipelines.status import Status
from pipelines.testresults.model import TestCounts, TestSource
from runner.docker import DockerEngine
from runner.engine import Exit
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


async def test_a_step_s_reports_are_read_without_asking_the_engine_about_it_once_it_ended(
    engine: DockerEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its volumes' folders were learnt while it was made: the next step starts without that round trip."""
    ended: set[str] = set()
    asked_after_end: list[str] = []
    show, wait = DockerContainer.show, engine.wait

    async def recorded_show(container: DockerContainer, **kwargs: Any) -> Any:
        if container.id in ended:
            asked_after_end.append(container.id)
        return await show(container, **kwargs)

    async def recorded_wait(handle: str) -> Exit:
        exit_state = await wait(handle)
        ended.add(handle)
        return exit_state

    monkeypatch.setattr(DockerContainer, "show", recorded_show)
    monkeypatch.setattr(engine, "wait", recorded_wait)
    text = f"""
kind: pipeline
name: default
clone: {{disable: true}}
steps:
  - name: first
    image: busybox
    commands:
      - echo '{REPORT}' > "$HANGAR_REPORTS/a.xml"
  - name: second
    image: busybox
    commands:
      - echo '{REPORT}' > "$HANGAR_REPORTS/b.xml"
"""
    reporter = RecordingReporter()

    report = await run_stage(engine, reporter, plan_of(text))

    assert report.status == Status.SUCCESS
    for step in ("first", "second"):
        [batch] = reporter.tests[step]
        assert batch.counts == TestCounts(passed=1, failed=1, skipped=1)
    assert len(ended) == 2
    assert asked_after_end == []
