"""What notifications say about a build: a frozen summary, filled from the database."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.links import artifact_link, build_link
from pipelines.masking import Masker
from pipelines.status import Status
from server.crypto import Cipher
from server.db.models import Build, Repo, TestResult
from server.store.artifacts import list_artifacts
from server.store.builds import list_stages, list_steps
from server.store.logs import last_lines
from server.store.secrets import list_secrets
from server.testresults import BuildTests, build_tests, infrastructure_label
from server.triage import new_since_green

FAILING_LINES = 50
"""The failing step's last lines an email shows."""
MESSAGE_LINES = 3
"""The first lines of a failing test's message an email shows."""

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
class FailingTest:
    """A failing test as an email names it."""

    name: str
    classname: str
    where: str  # file:line, "" when unknown
    message: tuple[str, ...]  # the first lines of its message


@dataclass(frozen=True, slots=True)
class ArtifactSummary:
    """A file the build kept, as an email links to it."""

    path: str
    size: int
    link: str


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
    tests: str = ""  # "38 passed, 2 failed, 0 skipped" ("" without test results)
    failing_tests: tuple[FailingTest, ...] = ()
    tests_failed: str = ""  # "2 of 40 tests failed" ("" when none failed)
    infrastructure: str = ""  # why a failed build failed outside its code ("" for a code failure)
    new_lines: bool = False  # the failing lines are those new since the branch's last green build
    artifacts: tuple[ArtifactSummary, ...] = ()  # the files its steps kept, with download links

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
    rule: a secret changed since the build ran, or written the way `set -x` traces it, shows as `******`).

    When the branch's last green build ran the same step, the lines that are new since then are quoted
    instead of the last ones, if there are fewer of them."""
    stage_rows = await list_stages(session, build.id or 0)
    stages = {stage.id: stage for stage in stage_rows}
    steps = await list_steps(session, [stage_id or 0 for stage_id in stages])
    masker = Masker(cipher.decrypt(secret.value) for secret in await list_secrets(session, repo.id or 0))
    summaries: list[StepSummary] = []
    failing_step, failing_lines, new_lines = "", tuple[str, ...](), False
    for step in steps:
        stage = stages[step.stage_id]
        summary = StepSummary(
            stage.name, step.name, Status(step.status), step.exit_code, step.started, step.finished
        )
        summaries.append(summary)
        if not failing_step and Status(step.status).is_failed:
            failing_step = summary.path
            last = await last_lines(session, step.id or 0, FAILING_LINES)
            since = await new_since_green(session, build, stage, step)
            fresh = since[1] if since is not None else []
            if 0 < len(fresh) < len(last):
                last, new_lines = [text for _position, text in fresh], True
            failing_lines = tuple(masker.mask(line) for line in last)
    tests = await build_tests(session, build.id or 0)
    failing_tests = tuple(_failing_test(masker, result) for result in tests.failing) if tests else ()
    return BuildSummary(
        repo=repo.slug, number=build.number, status=Status(build.status), event=build.event, ref=build.ref,
        branch=build.branch, sha=build.sha, message=build.message, author_name=build.author_name,
        author_email=build.author_email, author_login=build.author_login, started=build.started,
        finished=build.finished, link=build_link(server_url, repo.slug, build.number), error=build.error,
        steps=tuple(summaries), failing_step=failing_step, failing_lines=failing_lines,
        tests=tests.counts.describe() if tests else "", failing_tests=failing_tests,
        tests_failed=_tests_failed(tests),
        infrastructure=await infrastructure_label(session, build, stage_rows, steps), new_lines=new_lines,
        artifacts=tuple(
            ArtifactSummary(a.path, a.size, artifact_link(server_url, repo.slug, build.number, a.path))
            for a in await list_artifacts(session, build.id or 0)
        ),
    )  # fmt: skip


def _tests_failed(tests: BuildTests | None) -> str:
    """`2 of 40 tests failed`, "" when none did."""
    if tests is None or not tests.counts.failing:
        return ""
    return tests.describe_failures(limit=1000).partition(":")[0]


def _failing_test(masker: Masker, result: TestResult) -> FailingTest:
    """A failing test with the first lines of its message (masked once more)."""
    where = f"{result.file}:{result.line}" if result.file and result.line else result.file
    lines = [masker.mask(line.rstrip()) for line in result.message.strip().splitlines() if line.strip()]
    return FailingTest(result.name, result.classname, where, tuple(lines[:MESSAGE_LINES]))
