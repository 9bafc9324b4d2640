"""What a transaction changed, published once it commits (live events, runner wake-ups, notifications)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from pipelines.status import Status
from server.db.models import Build, Outbox, Stage, Step
from server.keys import EVENTS_CHANNEL, build_channel, log_channel


def build_view(build: Build) -> dict[str, Any]:
    """The fields of a build that live views show."""
    return {
        "type": "build", "id": build.id, "number": build.number, "status": build.status, "error": build.error,
        "started": build.started, "finished": build.finished,
    }  # fmt: skip


def stage_view(stage: Stage) -> dict[str, Any]:
    """The fields of a stage that live views show."""
    return {
        "type": "stage", "id": stage.id, "number": stage.number, "name": stage.name, "status": stage.status,
        "error": stage.error, "runner": stage.runner, "started": stage.started, "finished": stage.finished,
    }  # fmt: skip


def step_view(step: Step, stage_number: int) -> dict[str, Any]:
    """The fields of a step that live views show."""
    return {
        "type": "step", "id": step.id, "stage": stage_number, "number": step.number, "name": step.name,
        "status": step.status, "exit_code": step.exit_code, "error": step.error, "started": step.started,
        "finished": step.finished,
    }  # fmt: skip


@dataclass
class Changes:
    """Collected during a transaction; `server.services.Services.publish` sends them after the commit."""

    messages: list[tuple[str, str]] = field(default_factory=list)
    wake_runners: bool = False
    """Wake every runner's long-poll: a stage may have become ready (which one is not said)."""
    ready_for: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    """The os, arch and labels of the stages that became ready: only the runners that may take one wake."""
    cancelled_stages: set[int] = field(default_factory=set)
    statuses: list[tuple[int, int, str, int]] = field(default_factory=list)
    """(build id, repo id, status, sequence) of commit statuses to send (created, started, finished)."""
    stage_statuses: list[tuple[int, int, int, str, int]] = field(default_factory=list)
    """(build id, repo id, stage number, status, sequence) of stages whose state changed: a Woodpecker
    build's workflows each have their own commit status."""
    finished_builds: dict[int, int] = field(default_factory=dict)
    """Builds that just finished (email): build id -> repo id."""
    outbox: list[Outbox] = field(default_factory=list)
    """The notifications recorded at the commit (for repositories that notify): their jobs are queued."""

    def build(self, build: Build) -> None:
        """A build's state changed."""
        self._send(build.id, build_view(build))
        self._send_all(build)

    def commit_status(self, build: Build) -> None:
        """The forge should show the build's new status on its commit."""
        self.statuses.append((build.id or 0, build.repo_id, build.status, time.time_ns()))

    def stage(self, stage: Stage) -> None:
        """A stage's state changed."""
        self._send(stage.build_id, stage_view(stage))
        self.stage_statuses.append(
            (stage.build_id, stage.repo_id, stage.number, stage.status, time.time_ns())
        )

    def stage_ready(self, stage: Stage) -> None:
        """A stage became pending: the runners that may take it are woken."""
        wanted = (stage.os, stage.arch, dict(stage.labels))
        if wanted not in self.ready_for:
            self.ready_for.append(wanted)

    def step(self, step: Step, stage: Stage) -> None:
        """A step's state changed; once it ended, its log's live viewers are told too (their stream ends)."""
        self._send(stage.build_id, step_view(step, stage.number))
        if Status(step.status).is_done:
            ended = {"first": step.log_lines, "lines": [], "status": step.status}
            self.messages.append((log_channel(step.id), json.dumps(ended)))

    def _send(self, build_id: int | None, view: dict[str, Any]) -> None:
        self.messages.append((build_channel(build_id), json.dumps(view)))

    def _send_all(self, build: Build) -> None:
        view = build_view(build) | {"repo_id": build.repo_id}
        self.messages.append((EVENTS_CHANNEL, json.dumps(view)))
