"""What notifications say about a build: a frozen summary, filled from the database."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.links import build_link
from pipelines.masking import Masker
from pipelines.status import Status
from server.crypto import Cipher
from server.db.models import Build, Repo
from server.store.builds import list_stages, list_steps
from server.store.logs import last_lines
from server.store.secrets import list_secrets

FAILING_LINES = 50
"""The failing step's last lines an email shows."""

_PULL_REQUEST_REF = re.compile(r"^refs/(?:pull|pull-requests|merge-requests)/(\d+)/")
_TAG_PREFIX = "refs/tags/"
_BRANCH_PREFIX = "refs/heads/"


def elapsed(started: float | None, finished: float | None) -> float | None:
    """Seconds between two unix times, or None when either is unknown (or the clock went backwards)."""
    if started is None or finished is None or finished < started:
        return None
    return finished - started


@dataclass(frozen=True, slots=True)
class StepSummary:
    """One step's outcome, as listed in notifications."""

    stage: str
    name: str
    status: Status
    exit_code: int | None
    started: float | None
    finished: float | None

    @property
    def path(self) -> str:
        """`stage/step`, the way the build page and the failing-step header name it."""
        return f"{self.stage}/{self.name}"

    @property
    def duration(self) -> float | None:
        """Seconds the step ran, None if it never ran or is still running."""
        return elapsed(self.started, self.finished)


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What notifications say about a build."""

    repo: str  # owner/name
    number: int
    status: Status
    event: str  # push | tag | pull_request
    ref: str
    branch: str
    sha: str
    message: str  # commit message
    author_name: str
    author_email: str
    author_login: str
    started: float | None  # unix seconds
    finished: float | None
    link: str  # the build page URL
    error: str  # the build's error message ("" if none)
    steps: tuple[StepSummary, ...]
    failing_step: str  # "stage/step" of the first failed step, "" if none
    failing_lines: tuple[str, ...]  # its last log lines, secrets masked

    @property
    def duration(self) -> float | None:
        """Seconds the build ran, None if it never started or has not finished."""
        return elapsed(self.started, self.finished)

    @property
    def short_sha(self) -> str:
        """The first 8 characters of the commit sha."""
        return self.sha[:8]

    @property
    def title(self) -> str:
        """The commit message's first line."""
        lines = self.message.strip().splitlines()
        return lines[0].strip() if lines else ""

    @property
    def ref_label(self) -> str:
        """What was built, as people say it: the branch, the tag name, or "PR #7"."""
        if self.event == "tag" or self.ref.startswith(_TAG_PREFIX):
            return self.ref.removeprefix(_TAG_PREFIX) or self.branch
        if self.event == "pull_request":
            match = _PULL_REQUEST_REF.match(self.ref)
            return f"PR #{match.group(1)}" if match else f"PR to {self.branch}"
        return self.branch or self.ref.removeprefix(_BRANCH_PREFIX)


async def summarise(
    session: AsyncSession, cipher: Cipher, server_url: str, repo: Repo, build: Build
) -> BuildSummary:
    """The build as notifications describe it, the failing step's last lines masked once more (by the runner's
    rule: a secret changed since the build ran, or written the way `set -x` traces it, shows as `******`)."""
    stages = {stage.id: stage for stage in await list_stages(session, build.id or 0)}
    steps = await list_steps(session, [stage_id or 0 for stage_id in stages])
    summaries: list[StepSummary] = []
    failing_step, failing_lines = "", tuple[str, ...]()
    for step in steps:
        stage = stages[step.stage_id]
        summary = StepSummary(
            stage.name, step.name, Status(step.status), step.exit_code, step.started, step.finished
        )
        summaries.append(summary)
        if not failing_step and Status(step.status).is_failed:
            failing_step = summary.path
            masker = Masker(
                cipher.decrypt(secret.value) for secret in await list_secrets(session, repo.id or 0)
            )
            last = await last_lines(session, step.id or 0, FAILING_LINES)
            failing_lines = tuple(masker.mask(line) for line in last)
    return BuildSummary(
        repo=repo.slug, number=build.number, status=Status(build.status), event=build.event, ref=build.ref,
        branch=build.branch, sha=build.sha, message=build.message, author_name=build.author_name,
        author_email=build.author_email, author_login=build.author_login, started=build.started,
        finished=build.finished, link=build_link(server_url, repo.slug, build.number), error=build.error,
        steps=tuple(summaries), failing_step=failing_step, failing_lines=failing_lines,
    )  # fmt: skip
