"""When a stage runs, from the outcomes of the stages it depends on (for `hangar exec` and the server)."""

from __future__ import annotations

from collections.abc import Collection

from pipelines.plan import RunPolicy
from pipelines.status import Status


def stage_should_run(policy: RunPolicy, dependencies: Collection[Status]) -> bool:
    """Whether a stage runs once the stages it depends on have ended, from its `trigger: status`."""
    failed = any(status.is_failed for status in dependencies)
    succeeded = all(status == Status.SUCCESS for status in dependencies)
    if policy == RunPolicy.ALWAYS:
        return True
    if policy == RunPolicy.ON_FAILURE:
        return failed
    return policy == RunPolicy.ON_SUCCESS and succeeded
