"""The reliability suite's in-process fixtures are the server's: a migrated SQLite database, real Redis, the
services and API clients (tests/server/conftest.py, tests/server/api/conftest.py)."""

from __future__ import annotations

from tests.server.api.conftest import api
from tests.server.conftest import client, hangar, pushed, redis_url, settings, sqlite_url

__all__ = ["api", "client", "hangar", "pushed", "redis_url", "settings", "sqlite_url"]
