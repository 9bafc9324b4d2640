"""Shared fixtures: the corpus of real-world files, and the real services tests run against."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from tests.corpus import require_corpus

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = [
    "tests.peers",  # the recording forge and the SMTP inbox, for notify and end-to-end tests
    "tests.leftovers",  # after the session: no process or temporary file the tests made may be left
]


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-world corpus folder (tests/corpus.py); without it, tests using it skip, saying where."""
    return require_corpus()


@pytest.fixture(scope="session", autouse=True)
def _configuration_fork_server() -> Iterator[None]:
    """Jsonnet and Starlark evaluate in children of a fork server: stopped after the session if it started."""
    yield
    import sys

    bounded = sys.modules.get("pipelines.configlang.bounded")
    if bounded is not None:
        bounded.stop_fork_server()


SERVICES = ROOT / "scripts" / "services"


@contextlib.contextmanager
def running_services() -> Iterator[dict[str, str]]:
    """The test services, started with `scripts/services up` if they were not all running, then stopped again.

    Yields (and exports to os.environ) what `up` prints: DOCKER_HOST, the registries, Redis, PostgreSQL; a
    variable the caller has set already keeps its value (e.g. HANGAR_TEST_REDIS_URL naming another database).
    """
    from tests.leftovers import outside_session_environment  # (imported here: it is a plugin, loaded later)

    environment = outside_session_environment()  # the services outlive the session: not its leftovers
    was_running = (
        subprocess.run(
            [str(SERVICES), "status"], capture_output=True, check=False, env=environment
        ).returncode
        == 0
    )
    result = subprocess.run(
        [str(SERVICES), "up"], capture_output=True, text=True, check=False, env=environment
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/services up failed ({result.returncode}):\n{result.stderr[-3000:]}")
    exported: dict[str, str] = {}
    for line in result.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            exported[name] = os.environ.get(name) or value  # a value the caller set wins
    os.environ.update(exported)
    try:
        yield exported
    finally:
        if not was_running:
            subprocess.run([str(SERVICES), "down"], capture_output=True, check=False, env=environment)


@pytest.fixture(scope="session")
def services() -> Iterator[dict[str, str]]:
    """The test services (Docker engine, registries, Redis, PostgreSQL), started and stopped if need be."""
    try:
        with running_services() as exported:
            yield exported
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def docker_host(services: dict[str, str]) -> Iterator[str]:
    """The Docker engine's address; after the session, nothing labelled as Hangar's may be left on it, nor
    an anonymous volume the session made (one a container was removed without)."""
    anonymous_before = anonymous_volumes()
    yield services["DOCKER_HOST"]
    leftovers = {
        kind: docker_ids(kind, *(["-a"] if kind == "container" else []), "--filter", MANAGED)
        for kind in ("container", "network", "volume")
    }
    leftovers["anonymous volume"] = sorted(anonymous_volumes() - anonymous_before)
    assert not any(leftovers.values()), f"leftovers: {leftovers}"


def docker_ids(kind: str, *options: str) -> list[str]:
    """`docker KIND ls -q OPTIONS`."""
    listed = subprocess.run(
        ["docker", kind, "ls", "-q", *options], capture_output=True, text=True, check=True
    )
    return listed.stdout.split()


def anonymous_volumes() -> set[str]:
    """The engine's unnamed volumes (Docker names them with 64 hex digits)."""
    return {name for name in docker_ids("volume") if re.fullmatch(r"[0-9a-f]{64}", name)}


MANAGED = "label=io.hangar.managed=true"


@pytest.fixture(scope="session")
def postgres_server(services: dict[str, str]) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped afterwards); its plain URL."""
    with fresh_postgres(services["HANGAR_TEST_POSTGRES_URL"]) as url:
        yield url


@contextlib.contextmanager
def fresh_postgres(base_url: str, prefix: str = "hangar") -> Iterator[str]:
    """A new, empty PostgreSQL database beside `base_url`'s (dropped at the end): its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = base_url.rsplit("/", 1)[0] + "/postgres"

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(run(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def empty_postgres(url: str) -> None:
    """Drop everything in a PostgreSQL database."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()
