"""When a step may start and whether it runs: Drone's DAG and run-policy rules, as pure functions."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pipelines.plan import RunPolicy, StepPlan
from pipelines.report import StepReport
from pipelines.status import Status


def dependencies_done(step: StepPlan, reports: Mapping[str, StepReport]) -> bool:
    """True when every dependency has ended (or was skipped), or is a detached step that has started."""
    for name in step.depends_on:
        report = reports.get(name)
        if report is None:
            continue
        if not (report.status.is_done or (report.detached and report.status == Status.RUNNING)):
            return False
    return True


def should_run(step: StepPlan, failed: Collection[str], *, skip_all: bool) -> bool:
    """Whether a step that is ready runs or is skipped, from its `when: status` and the stage so far."""
    if skip_all:
        return False
    if step.run_policy == RunPolicy.ALWAYS:
        return True
    if step.run_policy == RunPolicy.ON_FAILURE:
        return bool(failed)
    return step.run_policy == RunPolicy.ON_SUCCESS and not failed
