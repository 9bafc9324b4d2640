"""Several `hangar server` replicas on one PostgreSQL and Redis, each with a data folder of its own (as on two
hosts): given the same key they serve each other's repositories; a replica with a key of its own refuses to
start, saying why, instead of answering every webhook with a 500."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import fresh_postgres
from tests.e2e.processes import HANGAR, hangar_parts
from tests.server.support import WEBHOOK_SECRET, github_headers

PING = b'{"zen": "Keep it logically awesome.", "hook_id": 1, "repository": {"full_name": "octo/app"}}'


@pytest.fixture
def database(services: dict[str, str]) -> Iterator[dict[str, str]]:
    with fresh_postgres(services["HANGAR_TEST_POSTGRES_URL"]) as url:
        yield {"HANGAR_DATABASE_URL": url, "HANGAR_REDIS_URL": services["HANGAR_TEST_REDIS_URL"]}


def test_replicas_with_one_key_serve_each_other_and_one_with_another_key_refuses_to_start(
    tmp_path: Path, database: dict[str, str]
) -> None:
    shared = database | {"HANGAR_SECRET_KEY": Fernet.generate_key().decode()}
    with hangar_parts(tmp_path / "a", shared, worker=False) as first:
        with first.api() as api:
            body = {"owner": "octo", "name": "app", "clone_url": "https://example.com/octo/app.git",
                    "webhook_secret": WEBHOOK_SECRET}  # fmt: skip
            assert api.post("/api/repos", json=body).status_code == 201
        with hangar_parts(tmp_path / "b", shared, worker=False) as second:
            headers = github_headers(PING, event="ping")
            answer = httpx.post(f"{second.url}/hook", content=PING, headers=headers, trust_env=False)
            assert answer.status_code == 200, answer.text
            forged = github_headers(PING, secret="wrong", event="ping")
            assert (
                httpx.post(f"{second.url}/hook", content=PING, headers=forged, trust_env=False).status_code
                == 401
            )

    alone = subprocess.run(
        [*HANGAR, "server"], env=_environ(database | {"HANGAR_DATA": str(tmp_path / "c")}),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert alone.returncode == 1, alone.stderr[-2000:]
    assert "not encrypted with the key file" in alone.stderr and "HANGAR_SECRET_KEY" in alone.stderr


def _environ(extra: dict[str, str]) -> dict[str, str]:
    return os.environ | {"HANGAR_PORT": "0"} | extra
