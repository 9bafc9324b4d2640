"""A server as `hangar up` runs it answers its health check. (A server killed mid-build and started again:
tests/reliability/test_server_killed.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.processes import hangar_up


def test_health_answers_while_up(tmp_path: Path, docker_host: str) -> None:
    with hangar_up(tmp_path / "data", "--no-runner") as hangar:
        assert httpx.get(f"{hangar.url}/healthz", trust_env=False).json() == {"ok": True, "problems": []}
