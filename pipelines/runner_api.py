"""The runner API's wire models: what a runner and the server say to each other over HTTP.

Every route is under `/api/runner`, authenticated by `Authorization: Bearer <runner token or shared secret>`
and named by `X-Hangar-Runner: <runner name>`:

| verb and path | body | answer |
|---|---|---|
| `POST /stages/request` (long-poll) | `RunnerInfo` | 200 `StageOffer` (`TakenStage`: see below), or 204 |
| `POST /stages/{id}/accept` | `AcceptRequest` | 200 `Assignment`; 409 when another runner took it |
| `POST /stages/{id}/lease` | — | 200 `LeaseReply`; 409 when the stage is no longer this runner's |
| `GET /stages/{id}/watch` (long-poll) | — | 200 `LeaseReply` with `cancel` true, or 204 |
| `POST /stages/{id}/steps` | `StepReport` | 204 |
| `POST /stages/{id}/logs` | `LogBatch` | 200 `LogAck` |
| `POST /stages/{id}` | `StageReport` | 204 (a finished status ends the stage) |
| `POST /stages/{id}/tests` | `TestBatch` | 200 `LogAck` (the next test position the server expects) |
| `POST /stages/{id}/reports` | `ReportBatch` | 200 `BatchAck` (several of the above; says a cancel too) |
| `GET /stages/{id}/caches?key=K&prefix=P…&branch=B…` | — | 200 `CacheEntryInfo` (best shared entry), or 204 |
| `GET /stages/{id}/caches/{entry}` | — | 200, the entry's archive (streamed) |
| `PUT /stages/{id}/caches?key=K` | the archive, streamed | 201 `CacheEntryInfo`; 403 no saving; 409 exists |
| `PUT /stages/{id}/artifacts?step=N&path=P` | the file, streamed | 201 `ArtifactInfo` |

Uploads (`PUT`) carry `X-Hangar-Checksum`; the server keeps nothing of one that ends early or mismatches.
Calls about an accepted stage carry `X-Hangar-Lease: <Assignment.lease>`, so a runner cut off from an
earlier run of the same stage (since restarted) cannot report into the new run. Reports are idempotent: a
step or stage report replaces the last one, and a log batch names the position of its first line, so the
server stores each line once however often a batch is retried.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pipelines.plan import Plan, Platform
from pipelines.report import StageReport, StepReport
from pipelines.testresults.model import TestCase, TestCounts, TestSource

RUNNER_HEADER = "X-Hangar-Runner"
LEASE_HEADER = "X-Hangar-Lease"
"""Sent with every call about an accepted stage: the `Assignment.lease` it was accepted under."""
CHECKSUM_HEADER = "X-Hangar-Checksum"
"""Sent with an uploaded cache entry or artifact: the SHA-256 (hex) of its bytes; a mismatch is refused (400)
and nothing is kept."""


class _Message(BaseModel):
    # Unknown fields are ignored, so a newer server's answers (or a newer runner's reports) still parse.
    model_config = ConfigDict(extra="ignore")


class RunnerInfo(_Message):
    """Who asks for work: its platform and labels decide which stages it may take."""

    platform: Platform = Field(default_factory=Platform)
    labels: dict[str, str] = Field(default_factory=dict)
    capacity: int = 1
    version: str = ""
    take_lease: str = Field(default="", max_length=64)
    """Set: the server accepts the stage it would offer, under this lease id, in the same request, and answers
    a `TakenStage` (one round trip instead of offer then accept). A server older than that answers a
    `StageOffer`, to accept as before."""
    retry: bool = False
    """The last request under `take_lease` got no answer (it may have taken a stage): the stage this runner
    holds under that lease comes back first, so a lost answer never leaves a stage nobody runs."""


class StageOffer(_Message):
    """A stage waiting for a runner; the runner accepts it with the version it was offered at."""

    stage_id: int
    version: int
    repo: str
    build: int
    name: str


class AcceptRequest(_Message):
    """Accept an offered stage (optimistic lock on its version) under a lease id the runner chose.

    Sending the same request again (its answer was lost) gets the same assignment; any other accept of a
    stage already taken is refused, even from another slot of the same runner.
    """

    version: int
    lease: str = Field(default="", max_length=64)


class Credentials(_Message):
    """What the clone authenticates with (a `.netrc` entry)."""

    machine: str
    login: str
    password: str


class CachePolicy(_Message):
    """What a stage may do with caches: the server's word, from the repository's settings and the build."""

    scope: str
    """The repository's namespace on a runner's disk and on the server (its id: a rename keeps it)."""
    generation: int = 0
    """The repository's purge generation: entries saved under another generation are never restored."""
    branch: str
    """The branch entries are saved under and first looked for in (a pull request: its source branch)."""
    fallback_branches: list[str] = Field(default_factory=list)
    """Where else to look, in order, when the branch has no match (its target branch, the default branch)."""
    save: bool = True
    """False for a pull request from a fork: it restores but never writes (no cache poisoning)."""
    auto: bool = True
    """Recognise lockfiles and keep the tools' caches without a `cache:` section (a repository setting)."""
    shared: bool = False
    """The server keeps entries too (`/caches` routes), so every runner restores what any runner saved."""


class CacheEntryInfo(_Message):
    """A cache entry as the server keeps it."""

    id: int
    key: str
    branch: str
    size: int
    sha256: str
    created: float


class ArtifactInfo(_Message):
    """A file a step kept, as the server stored it."""

    path: str
    size: int
    sha256: str
    step: int


class Assignment(_Message):
    """An accepted stage: the Plan, its secrets (values), clone credentials, lease and time limit."""

    stage_id: int
    lease: str = ""
    """The acceptance's lease id: reports under another one (an earlier run of the stage) are refused."""
    plan: Plan
    secrets: dict[str, str] = Field(default_factory=dict)
    credentials: Credentials | None = None
    lease_seconds: float = 60.0
    timeout_minutes: float = 60.0
    link: str = ""
    cache: CachePolicy | None = None
    """None: this stage uses no cache (a server older than caches)."""


class TakenStage(_Message):
    """A stage offered and accepted in one request (`RunnerInfo.take_lease`): what was offered, and its
    Assignment (as `accept` answers it)."""

    offer: StageOffer
    assignment: Assignment


class LeaseReply(_Message):
    """The answer to a lease renewal or a cancel watch."""

    cancel: bool = False
    lease_seconds: float = 60.0


class LogBatch(_Message):
    """Consecutive lines of one step's log: line `first + i` is `lines[i]` as [seconds, text]."""

    step: int
    first: int
    lines: list[tuple[float, str]]


class LogAck(_Message):
    """The position of the next line the server expects for that step."""

    next: int


class TestBatch(_Message):
    """Consecutive test results of one step: case `first + i` is `cases[i]`; the last batch (`done`) carries
    the step's counts (of every case, also those beyond what is sent), where the results came from."""

    __test__ = False  # not a pytest class

    step: int
    first: int = 0
    cases: list[TestCase] = Field(default_factory=list)
    source: TestSource = TestSource.REPORT
    counts: TestCounts | None = None
    done: bool = True


class ReportItem(_Message):
    """One report of a batch: exactly one of a step's state, log lines, test results, or the stage's state."""

    step: StepReport | None = None
    logs: LogBatch | None = None
    stage: StageReport | None = None
    tests: TestBatch | None = None


class ReportBatch(_Message):
    """Reports that were waiting together, in the order they happened."""

    items: list[ReportItem]


class BatchAck(_Message):
    """Per item of the batch, in order: the LogAck of a log item, None for the others.

    The server stops at a log item it did not take whole (a gap, a limit): the items after it are not
    applied and have no ack, and the runner sends them again after the missing lines.
    """

    acks: list[LogAck | None]
    cancel: bool = False
    """The stage was cancelled (a user cancelled its build): stop it. Sent only when true; a server older than
    this never says it, and the runner's cancel watch (`/watch`) hears it then."""
