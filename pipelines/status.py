"""The states of builds, stages and steps, shared by server, runner and web UI."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Drone's status values."""

    PENDING = "pending"
    WAITING = "waiting_on_dependencies"
    BLOCKED = "blocked"
    RUNNING = "running"
    SUCCESS = "success"
    FAILURE = "failure"
    KILLED = "killed"
    ERROR = "error"
    SKIPPED = "skipped"
    DECLINED = "declined"

    @property
    def is_done(self) -> bool:
        """True once nothing more will happen to it."""
        return self in _DONE

    @property
    def is_failed(self) -> bool:
        """True for outcomes that make a build red."""
        return self in (Status.FAILURE, Status.KILLED, Status.ERROR)


_DONE = frozenset(
    {Status.SUCCESS, Status.FAILURE, Status.KILLED, Status.ERROR, Status.SKIPPED, Status.DECLINED}
)
