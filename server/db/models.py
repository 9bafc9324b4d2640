"""The tables: users, forge accounts, tokens, repos, builds, stages, steps, logs, secrets, runners,
deliveries, outbox, crons, test results, cache entries, artifacts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pipelines.cause import BuildCause
from server.db.columns import columns_of

NEVER_REUSED: dict[str, Any] = {"sqlite_autoincrement": True}
"""Table option of the tables whose ids name things outside the database (job ids, Redis keys, live-event
channels, container labels, git mirror folders): SQLite would otherwise hand a deleted row's id out again
(migration 0006)."""


def now() -> float:
    """Unix seconds: every timestamp in the database is one."""
    return time.time()


class User(SQLModel, table=True):
    """A person who signs in or calls the API."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=200)
    email: str = ""
    admin: bool = False
    password_hash: str = ""
    created: float = Field(default_factory=now)


class ForgeAccount(SQLModel, table=True):
    """A user's account on the forge they signed in with, and its OAuth tokens (encrypted)."""

    __tablename__ = "forge_accounts"
    __table_args__ = (UniqueConstraint("forge", "forge_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    forge: str = Field(max_length=20)
    forge_user_id: str = Field(max_length=100)
    """The forge's own id of the user: a renamed login is still the same account."""
    login: str = Field(default="", max_length=200)
    name: str = ""
    avatar: str = ""
    access_token: str = Field(default="", sa_column=Column(Text, nullable=False))
    """Encrypted."""
    refresh_token: str = Field(default="", sa_column=Column(Text, nullable=False))
    """Encrypted ('' when the forge gives none)."""
    expires: float | None = None
    """When the access token expires (Unix seconds; None: never)."""
    refresh_failed: str = Field(default="", sa_column=Column(Text, nullable=False))
    """Why the forge refused to refresh the token ('' while it works): its owner must sign in again."""
    updated: float = Field(default_factory=now)


class Token(SQLModel, table=True):
    """A user's API token or browser session, stored as its SHA-256 only."""

    __tablename__ = "tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = ""
    token_hash: str = Field(unique=True, max_length=64)
    kind: str = "api"
    """`api` (an `Authorization: Bearer` token) or `session` (a signed-in browser's cookie)."""
    expires: float | None = None
    """Unix seconds after which it no longer signs anyone in (None: never)."""
    created: float = Field(default_factory=now)


class Repo(SQLModel, table=True):
    """A repository Hangar builds, with its forge settings and notification policy."""

    __tablename__ = "repos"
    __table_args__ = (UniqueConstraint("owner", "name"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=200)
    name: str = Field(max_length=200)
    forge: str = "github"
    clone_url: str = ""
    link: str = ""
    default_branch: str = "main"
    private: bool = False
    webhook_secret: str = ""
    """Encrypted."""
    api_url: str = ""
    api_token: str = ""
    """Encrypted."""
    clone_login: str = ""
    clone_password: str = ""
    """Encrypted; the credentials a runner clones with (empty: anonymous)."""
    email_recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    email_policy: str = "change"
    trusted: bool = False
    config_path: str = ""
    timeout: int = 60
    approval: str = "forks"
    """Which builds wait for someone who may build to approve them: `none`, `forks` (pull requests from
    forks), `pull_requests`, `all` (Woodpecker's modes)."""
    protected: bool = False
    """Drone's protected mode: a pipeline file whose `kind: signature` does not match needs approval."""
    signing_key: str = ""
    """Encrypted; the key `kind: signature` documents are signed with (made on first use)."""
    counter: int = 0
    created: float = Field(default_factory=now)
    forge_id: str = Field(default="", max_length=100, index=True)
    """The forge's own id of a repository switched on from the forge ('' for one registered by hand): a
    renamed or transferred repository is found by it."""
    owner_id: int | None = None
    """Who switched it on: the forge API is called, and the repository cloned, with their token."""
    hook_id: str = Field(default="", max_length=100)
    """The webhook Hangar made on the forge."""
    cache_auto: bool = True
    """Whether runners recognise lockfiles and keep the matching tool caches without a `cache:` section."""
    cache_generation: int = 0
    """Raised by a purge: cache entries of an older generation are never restored (runners' nor shared)."""

    @property
    def slug(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"


if TYPE_CHECKING:
    # Both bases set model_config (SQLModel's and BuildCause's merge at run time, as for any pydantic model).
    class BuildCauseColumns(SQLModel, BuildCause):  # type: ignore[misc]
        """What a build is about, one column per field of `pipelines.cause.BuildCause`."""

else:
    BuildCauseColumns = columns_of(BuildCause)


class Build(BuildCauseColumns, table=True):
    """One run of a repository's pipelines for one commit: its cause (inherited), number and state."""

    __tablename__ = "builds"
    __table_args__ = (
        UniqueConstraint("repo_id", "number"),
        Index("ix_builds_repo_number", "repo_id", "number"),
        Index("ix_builds_repo_branch", "repo_id", "branch", "number"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repos.id")
    number: int
    status: str = "pending"
    error: str = Field(default="", sa_column=Column(Text, nullable=False))
    parent: int = 0
    cancelled: bool = False
    created: float = Field(default_factory=now)
    started: float | None = None
    finished: float | None = None
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """The BuildContext it was compiled with (a record: a restart compiles again from the build's cause)."""


class Stage(SQLModel, table=True):
    """One pipeline of a build: what a runner takes and runs."""

    __tablename__ = "stages"
    __table_args__ = (
        UniqueConstraint("build_id", "number"),
        Index("ix_stages_status", "status"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    build_id: int = Field(foreign_key="builds.id", index=True)
    repo_id: int = Field(foreign_key="repos.id")
    number: int
    name: str
    status: str = "pending"
    error: str = Field(default="", sa_column=Column(Text, nullable=False))
    os: str = "linux"
    arch: str = "amd64"
    labels: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    depends_on: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    run_policy: str = "on_success"
    concurrency_limit: int = 0
    """At most this many stages of the repository's pipeline of this name run at once (0: no limit)."""
    plan: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    runner: str = ""
    lease: str = ""
    """The runner's id for this acceptance: its reports carry it; an accept repeated with it is the same."""
    lease_expires: float | None = None
    cancel_requested: bool = False
    version: int = 0
    created: float = Field(default_factory=now)
    started: float | None = None
    finished: float | None = None


class Step(SQLModel, table=True):
    """One container of a stage (or its clone)."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("stage_id", "number"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(foreign_key="stages.id", index=True)
    number: int
    name: str
    status: str = "pending"
    exit_code: int | None = None
    error: str = Field(default="", sa_column=Column(Text, nullable=False))
    detached: bool = False
    started: float | None = None
    finished: float | None = None
    log_lines: int = 0
    """How many log lines are stored: the position the next line must have."""


class LogChunk(SQLModel, table=True):
    """Consecutive log lines of a step: `lines[i]` is line `first + i` as [seconds, text]."""

    __tablename__ = "log_chunks"
    __table_args__ = (UniqueConstraint("step_id", "first"),)

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="steps.id", index=True)
    first: int
    count: int
    lines: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Secret(SQLModel, table=True):
    """A repository secret, encrypted at rest."""

    __tablename__ = "secrets"
    __table_args__ = (UniqueConstraint("repo_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repos.id", index=True)
    name: str = Field(max_length=200)
    value: str = Field(sa_column=Column(Text, nullable=False))
    """Encrypted."""
    pull_request: bool = False
    """Whether pull requests (which may come from forks) get it."""
    created: float = Field(default_factory=now)


class Runner(SQLModel, table=True):
    """A registered runner and its token (stored as its SHA-256 only)."""

    __tablename__ = "runners"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    token_hash: str = Field(unique=True, max_length=64)
    created: float = Field(default_factory=now)
    last_seen: float | None = None


class Delivery(SQLModel, table=True):
    """A webhook delivery: recorded once per forge delivery id, so a redelivery builds nothing twice."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("repo_id", "delivery"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repos.id")
    delivery: str = Field(max_length=200)
    event: str = ""
    status: str = "queued"
    build_id: int | None = None
    hook: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received: float = Field(default_factory=now)


class Outbox(SQLModel, table=True):
    """A notification to send (a commit status or an email), written with the change that causes it and
    deleted once its job is done: a job lost with Redis is queued again from here."""

    __tablename__ = "outbox"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    build_id: int = Field(foreign_key="builds.id", index=True)
    kind: str = Field(max_length=20)
    """`status` (a commit status) or `email` (the finished build's email)."""
    status: str = ""
    """The commit status to send (kind `status`)."""
    sequence: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    """When the status was set (nanoseconds): an older status never overwrites a newer one."""
    created: float = Field(default_factory=now)


class Cron(SQLModel, table=True):
    """A schedule that builds the head of a branch with event `cron` whenever its expression is due."""

    __tablename__ = "crons"
    __table_args__ = (UniqueConstraint("repo_id", "name"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repos.id", index=True)
    name: str = Field(max_length=200)
    expr: str = Field(max_length=200)
    """A cron expression (server.schedules): five fields, six with seconds first, or @daily and the like."""
    branch: str = Field(default="", max_length=200)
    """The branch whose head it builds ("": the repository's default branch)."""
    disabled: bool = False
    next_run: float = 0.0
    """When it is next due (Unix seconds); a worker that builds it moves this on first, so it fires once."""
    prev_run: float | None = None
    """When it last fired."""
    created: float = Field(default_factory=now)
    updated: float = Field(default_factory=now)


class TestRun(SQLModel, table=True):
    """A step's test results as a whole: where they came from and its counts."""

    __tablename__ = "test_runs"
    __table_args__ = (NEVER_REUSED,)
    __test__ = False  # not a pytest class

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="steps.id", unique=True)
    build_id: int = Field(foreign_key="builds.id", index=True)
    source: str = "report"
    """`report` (JUnit files) or `log` (recognised in the step's log)."""
    counted: bool = True
    """Whether the counts are the tool's (False: only the failures are known, from a log)."""
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    cases: int = 0
    """How many cases are stored: the position the next one must have."""


class TestResult(SQLModel, table=True):
    """One test case's result in one step of a build."""

    __tablename__ = "test_results"
    __table_args__ = (
        UniqueConstraint("step_id", "position"),
        Index("ix_test_results_build", "build_id", "outcome"),
        Index("ix_test_results_repo_key", "repo_id", "key"),
        Index("ix_test_results_repo_sha", "repo_id", "sha", "key"),
        NEVER_REUSED,
    )
    __test__ = False

    id: int | None = Field(default=None, primary_key=True)
    step_id: int = Field(foreign_key="steps.id")
    build_id: int = Field(foreign_key="builds.id")
    repo_id: int = Field(foreign_key="repos.id")
    sha: str = Field(default="", max_length=64)
    position: int
    key: str = Field(max_length=16)
    """The test's identity across builds (`pipelines.testresults.model.case_key`)."""
    suite: str = Field(default="", sa_column=Column(Text, nullable=False))
    classname: str = Field(default="", sa_column=Column(Text, nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    file: str = Field(default="", sa_column=Column(Text, nullable=False))
    line: int | None = None
    outcome: str = Field(max_length=10)
    duration: float | None = None
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    log_line: int | None = None
    flaky: bool = False
    """It failed and passed on the same commit (a restart): marked on both builds."""


class CacheEntry(SQLModel, table=True):
    """A cache entry a runner saved into the server's shared cache (its archive is in the data folder)."""

    __tablename__ = "cache_entries"
    __table_args__ = (
        UniqueConstraint("repo_id", "generation", "branch", "key"),
        Index("ix_cache_entries_repo_used", "repo_id", "last_used"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repos.id")
    generation: int = 0
    """The repository's `cache_generation` when it was saved."""
    branch: str = Field(default="", max_length=200)
    key: str = Field(max_length=500)
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(default="", max_length=64)
    runner: str = Field(default="", max_length=200)
    """The runner that saved it."""
    build_id: int | None = None
    created: float = Field(default_factory=now)
    last_used: float = Field(default_factory=now)


class Artifact(SQLModel, table=True):
    """A file a step kept (`artifacts:`), stored by the server; one per path in a build (the last upload)."""

    __tablename__ = "artifacts"
    __table_args__ = (
        UniqueConstraint("build_id", "path"),
        Index("ix_artifacts_repo_created", "repo_id", "created"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    repo_id: int = Field(foreign_key="repos.id")
    build_id: int = Field(foreign_key="builds.id")
    stage_id: int = Field(foreign_key="stages.id")
    step: int = 0
    """The step's number in its stage."""
    path: str = Field(max_length=1000)
    """Relative to the workspace, as the build page shows it and its address names it."""
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(default="", max_length=64)
    location: str = Field(default="", max_length=2000)
    """Where its bytes are: a path under the data folder's `artifacts/` (or a store's URL)."""
    created: float = Field(default_factory=now)
