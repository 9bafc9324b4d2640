"""Drone's readiness and run-policy rules."""

from __future__ import annotations

from pipelines.plan import RunPolicy, StepPlan
from pipelines.report import StepReport
from pipelines.stage_rules import stage_should_run
from pipelines.status import Status
from runner.rules import dependencies_done, should_run, stage_order


def reports(**statuses: tuple[Status, bool]) -> dict[str, StepReport]:
    return {
        name: StepReport(number=i, name=name, status=status, detached=detached)
        for i, (name, (status, detached)) in enumerate(statuses.items())
    }


def test_a_step_waits_for_running_dependencies_but_not_for_a_started_detached_one() -> None:
    step = StepPlan(number=3, name="test", depends_on=["build", "db"])
    assert not dependencies_done(step, reports(build=(Status.RUNNING, False), db=(Status.RUNNING, True)))
    assert dependencies_done(step, reports(build=(Status.SUCCESS, False), db=(Status.RUNNING, True)))
    assert dependencies_done(step, reports(build=(Status.SKIPPED, False), db=(Status.FAILURE, True)))
    assert not dependencies_done(step, reports(build=(Status.SUCCESS, False), db=(Status.PENDING, True)))


def test_run_policies_follow_the_stage_status() -> None:
    policies = {policy: StepPlan(number=1, name=policy.value, run_policy=policy) for policy in RunPolicy}
    green = {policy for policy, step in policies.items() if should_run(step, [], skip_all=False)}
    red = {policy for policy, step in policies.items() if should_run(step, ["build"], skip_all=False)}
    assert green == {RunPolicy.ON_SUCCESS, RunPolicy.ALWAYS}
    assert red == {RunPolicy.ON_FAILURE, RunPolicy.ALWAYS}
    assert not any(should_run(step, [], skip_all=True) for step in policies.values())


def test_stages_come_after_their_dependencies_and_keep_file_order_otherwise() -> None:
    graph = {"second": ["first"], "lint": [], "first": [], "notify": ["second", "lint"]}
    assert stage_order(graph) == ["lint", "first", "second", "notify"]
    assert stage_order({"a": ["elsewhere"], "b": []}) == ["a", "b"]


def test_a_stage_runs_by_its_trigger_status_and_its_dependencies_outcomes() -> None:
    ok, failed, skipped = Status.SUCCESS, Status.FAILURE, Status.SKIPPED
    assert stage_should_run(RunPolicy.ON_SUCCESS, [ok, ok])
    assert not stage_should_run(RunPolicy.ON_SUCCESS, [ok, failed])
    assert not stage_should_run(RunPolicy.ON_SUCCESS, [skipped])
    assert stage_should_run(RunPolicy.ON_FAILURE, [ok, failed])
    assert not stage_should_run(RunPolicy.ON_FAILURE, [skipped])
    assert stage_should_run(RunPolicy.ALWAYS, [skipped])
