"""step_environment: the Plan's variables, the stage's status so far, and the step's secrets."""

from __future__ import annotations

from pipelines.plan import StepPlan
from runner.environment import step_environment
from tests.runner.support import plan_of

PIPELINE = """
kind: pipeline
name: default
clone: {disable: true}
steps:
  - name: publish
    image: busybox
    commands: [echo publish]
    environment:
      PLAIN: hello
      TOKEN: {from_secret: registry_token}
      PASSWORD: {from_secret: db_password}
"""

STATUS = ("DRONE_BUILD_STATUS", "DRONE_STAGE_STATUS", "CI_BUILD_STATUS")


def publish() -> StepPlan:
    step = plan_of(PIPELINE).step("publish")
    assert step is not None
    return step


def test_without_failures_the_status_is_success() -> None:
    env = step_environment(publish(), {}, [])
    assert {name: env[name] for name in STATUS} == dict.fromkeys(STATUS, "success")
    assert env["DRONE_FAILED_STEPS"] == ""
    assert env["PLAIN"] == "hello"
    assert env["DRONE_STEP_NAME"] == "publish"


def test_after_failures_the_status_is_failure_and_the_failed_steps_are_listed() -> None:
    env = step_environment(publish(), {}, ["test", "lint"])
    assert {name: env[name] for name in STATUS} == dict.fromkeys(STATUS, "failure")
    assert env["DRONE_FAILED_STEPS"] == "test,lint"


def test_secrets_are_resolved_into_their_variables() -> None:
    env = step_environment(publish(), {"registry_token": "t0k3n", "db_password": "pw", "other": "x"}, [])
    assert env["TOKEN"] == "t0k3n"
    assert env["PASSWORD"] == "pw"
    assert "x" not in env.values()


def test_a_secret_not_provided_leaves_its_variable_unset_as_in_drone() -> None:
    env = step_environment(publish(), {"registry_token": "t0k3n"}, [])
    assert env["TOKEN"] == "t0k3n"
    assert "PASSWORD" not in env


def test_the_plan_is_not_changed_so_each_step_gets_the_status_of_its_own_time() -> None:
    step = publish()
    failed = step_environment(step, {"registry_token": "t0k3n"}, ["test"])
    later = step_environment(step, {}, [])
    assert failed["DRONE_BUILD_STATUS"] == "failure"
    assert later["DRONE_BUILD_STATUS"] == "success"
    assert "TOKEN" not in later
    assert step.environment["DRONE_BUILD_STATUS"] == "success"
    assert "TOKEN" not in step.environment


def test_status_variables_absent_from_the_plan_are_not_added() -> None:
    step = StepPlan(number=1, name="bare", image="busybox", environment={"ONLY": "this"})
    assert step_environment(step, {}, ["x"]) == {"ONLY": "this", "HANGAR_REPORTS": "/hangar/reports"}
