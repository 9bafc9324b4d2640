"""Production on one machine: two `hangar server` replicas (each with a data folder of its own, one shared
key) behind a round-robin proxy, two `hangar worker`s and three `hangar runner`s (Docker) that reach the
servers through the proxy, all on one PostgreSQL and one Redis."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from tests.e2e.processes import (
    ADMIN_TOKEN,
    Hangar,
    free_port,
    hangar_runner,
    hangar_worker,
    launch_server,
    stop,
    wait_until_healthy,
)
from tests.e2e.proxy import Proxy, proxy
from tests.server.support import WEBHOOK_SECRET, PushedRepo

REPLICAS = ("a", "b")
WORKERS = ("worker-1", "worker-2")
RUNNERS = ("runner-1", "runner-2", "runner-3")
CAPACITY = 2
REAP_SECONDS = 1
"""The workers look for due crons (and lost leases) every second."""


@dataclass
class Fleet:
    """The running processes, and what a test asks of them."""

    root: Path
    env: dict[str, str]
    """What every server and worker shares: database, Redis, key, public address (the proxy's)."""
    proxy: Proxy
    servers: dict[str, Hangar]

    def port(self, replica: str) -> int:
        """The port a replica listens on (it keeps it across a restart)."""
        return int(self.servers[replica].url.rsplit(":", 1)[1])

    def kill(self, replica: str) -> None:
        """SIGKILL a replica (a host lost), and reap it."""
        process = self.servers[replica].process
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    def restart(self, replica: str) -> None:
        """Start the replica again with its data folder and port, and wait until it is healthy."""
        old = self.servers[replica]
        self.servers[replica] = launch_server(old.data, self.env, self.port(replica), old.log)
        wait_until_healthy(self.servers[replica])

    def api(self) -> httpx.AsyncClient:
        """A client of the API through the proxy, signed in as the admin."""
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return httpx.AsyncClient(base_url=self.proxy.url, headers=headers, trust_env=False, timeout=30)

    def register(self, name: str, repo: PushedRepo, forge_url: str = "") -> None:
        """Register `octo/NAME` (trusted: its steps may mount the host's folders), its commit statuses going
        to `forge_url` when given."""
        body: dict[str, Any] = {
            "owner": "octo", "name": name, "clone_url": str(repo.bare), "webhook_secret": WEBHOOK_SECRET,
            "trusted": True,
        }  # fmt: skip
        if forge_url:
            body |= {"forge": "github", "api_url": forge_url, "api_token": "forge-token"}
        with self.servers["a"].api() as api:
            answer = api.post("/api/repos", json=body)
        assert answer.status_code == 201, answer.text

    async def builds(self, slug: str) -> list[dict[str, Any]]:
        """Every build of the repository, newest first (paged through the proxy)."""
        found: list[dict[str, Any]] = []
        async with self.api() as api:
            while True:
                before = {"before": str(found[-1]["number"])} if found else {}
                page = await api.get(f"/api/repos/{slug}/builds", params={"limit": "100", **before})
                page.raise_for_status()
                found += page.json()
                if len(page.json()) < 100:
                    return found

    async def finished_builds(self, slug: str, count: int, timeout: float = 300) -> list[dict[str, Any]]:
        """The repository's builds once there are `count` and all have finished (fails with the processes'
        output otherwise), oldest first."""
        deadline = time.monotonic() + timeout
        builds: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            builds = await self.builds(slug)
            if len(builds) >= count and all(build["finished"] for build in builds):
                return builds[::-1]
            await asyncio.sleep(0.5)
        running = [(b["number"], b["status"]) for b in builds if not b["finished"]]
        raise AssertionError(
            f"{slug}: {len(builds)} builds of {count}, not finished: {running}\n{self.output()}"
        )

    async def build(self, slug: str, number: int) -> dict[str, Any]:
        """One build with its stages and steps."""
        async with self.api() as api:
            answer = await api.get(f"/api/repos/{slug}/builds/{number}")
        answer.raise_for_status()
        build: dict[str, Any] = answer.json()
        return build

    def output(self, lines: int = 40) -> str:
        """The last lines each process printed."""
        parts = []
        for log in sorted(self.root.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)


@contextlib.contextmanager
def running_fleet(root: Path, database_url: str, redis_url: str) -> Iterator[Fleet]:
    """Start the fleet (both replicas at once, as a deployment does), stop it all at the end."""
    root.mkdir(parents=True, exist_ok=True)
    ports = {replica: free_port() for replica in REPLICAS}
    with proxy(list(ports.values())) as front, contextlib.ExitStack() as stack:
        env = {
            "HANGAR_DATABASE_URL": database_url, "HANGAR_REDIS_URL": redis_url,
            "HANGAR_SECRET_KEY": Fernet.generate_key().decode(), "HANGAR_URL": front.url,
            "HANGAR_REAP_SECONDS": str(REAP_SECONDS),
        }  # fmt: skip
        fleet = Fleet(root, env, front, {})
        for replica, port in ports.items():
            fleet.servers[replica] = launch_server(root / replica, env, port, root / f"server-{replica}.log")
        stack.callback(_stop_servers, fleet)
        for server in fleet.servers.values():
            wait_until_healthy(server)
        for worker in WORKERS:
            stack.enter_context(hangar_worker(root / worker, env, root / f"{worker}.log"))
        for runner in RUNNERS:
            stack.enter_context(hangar_runner(front.url, runner, root / f"{runner}.log", capacity=CAPACITY))
        yield fleet


def _stop_servers(fleet: Fleet) -> None:
    for server in fleet.servers.values():
        stop(server.process, signal.SIGTERM)
