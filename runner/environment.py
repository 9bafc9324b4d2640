"""A step's final environment: the Plan's variables, the stage's status so far, and its secrets."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pipelines.plan import StepKind, StepPlan

_STATUS_VARIABLES = ("DRONE_BUILD_STATUS", "DRONE_STAGE_STATUS", "CI_BUILD_STATUS")
REPORTS_VARIABLE = "HANGAR_REPORTS"
REPORTS_DIR = "/hangar/reports"
"""Every step's own empty folder (named by `HANGAR_REPORTS`): the test reports written there are collected."""


def step_environment(
    step: StepPlan, secrets: Mapping[str, str], failed_steps: Collection[str]
) -> dict[str, str]:
    """The step's container variables; status values are recomputed before each step, as Drone does."""
    env = dict(step.environment)
    if step.kind == StepKind.STEP:
        env.setdefault(REPORTS_VARIABLE, REPORTS_DIR)
    status = "failure" if failed_steps else "success"
    for name in _STATUS_VARIABLES:
        if name in env:
            env[name] = status
    if "DRONE_FAILED_STEPS" in env:
        env["DRONE_FAILED_STEPS"] = ",".join(failed_steps)
    for ref in step.secrets:
        if ref.secret in secrets:
            env[ref.env] = secrets[ref.secret]
    return env
