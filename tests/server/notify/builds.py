"""Build summaries for the notification tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from pipelines.status import Status
from server.notify.summary import BuildSummary, StepSummary

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
LINK = "https://ci.example.com/octo/hello/12"


def failing_lines(count: int = 50) -> tuple[str, ...]:
    """`count` numbered log lines, the last one an assertion with characters HTML must escape."""
    lines = [f"line {number}: collecting tests" for number in range(1, count)]
    return (*lines, "E   assert parse('<a href=\"x\">') == {'tag': 'a'} && done")


def failed_build(**changes: Any) -> BuildSummary:
    """Build #12 of octo/hello on main, failed in build/test after 74 seconds."""
    summary = BuildSummary(
        repo="octo/hello",
        number=12,
        status=Status.FAILURE,
        event="push",
        ref="refs/heads/main",
        branch="main",
        sha=SHA,
        message="Parse <script>alert('x')</script> tags\n\nA longer body that emails leave out.",
        author_name="Jane Doe",
        author_email="jane@example.com",
        author_login="jane",
        started=1_700_000_000.0,
        finished=1_700_000_074.0,
        link=LINK,
        error="",
        steps=(
            StepSummary("build", "compile", Status.SUCCESS, 0, 1_700_000_001.0, 1_700_000_020.0),
            StepSummary("build", "test", Status.FAILURE, 2, 1_700_000_020.0, 1_700_000_073.0),
            StepSummary("deploy", "publish", Status.SKIPPED, None, None, None),
        ),
        failing_step="build/test",
        failing_lines=failing_lines(),
    )
    return dataclasses.replace(summary, **changes)
