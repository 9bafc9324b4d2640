"""Drone's rules as pure functions: when a step may start, whether it runs, and what its exit means."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pipelines.plan import RunPolicy, StepPlan
from pipelines.report import StepReport
from pipelines.status import Status
from runner.engine import Exit

SKIP_REMAINING_EXIT_CODE = 78
ERROR_EXIT_CODE = 255
OUT_OF_MEMORY = "out of memory: the container was killed by the kernel"


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


def exit_outcome(exit_state: Exit, *, stopped: bool, ended_by_teardown: bool) -> tuple[Status, str]:
    """A container's exit as a step status and error: 0 and 78 succeed, a stop we asked for is `killed`.

    A detached step still running when the stage ends is stopped by the teardown, and counts as success.
    """
    if ended_by_teardown:
        return Status.SUCCESS, ""
    if stopped:
        return Status.KILLED, ""
    if exit_state.code in (0, SKIP_REMAINING_EXIT_CODE):
        return Status.SUCCESS, ""
    return Status.FAILURE, OUT_OF_MEMORY if exit_state.oom_killed else ""


def stage_outcome(failed: Collection[Status], *, aborted: bool, errored: bool) -> Status:
    """The stage's status from its failed steps (those that may not fail) and how it ended."""
    if errored:
        return Status.ERROR
    if aborted:
        return Status.KILLED
    if Status.ERROR in failed:
        return Status.ERROR
    return Status.FAILURE if failed else Status.SUCCESS


def stage_order(names: Mapping[str, Collection[str]]) -> list[str]:
    """Stages in an order where each comes after those it depends on (file order otherwise kept)."""
    ordered: list[str] = []
    placed: set[str] = set()
    pending = list(names)
    while pending:
        ready = [n for n in pending if all(d in placed or d not in names for d in names[n])] or pending[:1]
        ordered.append(ready[0])
        placed.add(ready[0])
        pending.remove(ready[0])
    return ordered
