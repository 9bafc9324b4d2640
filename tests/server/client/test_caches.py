"""`hangar repo caches|purge-caches` and the auto-cache setting, against a real server."""

from __future__ import annotations

from tests.server.client.conftest import Cli


def test_caches_are_listed_purged_and_the_auto_setting_switched(cli: Cli) -> None:
    cli("repo", "add", "client/cached", "--clone-url", "https://git.example/client/cached.git")
    assert "client/cached has no shared caches" in cli("repo", "caches", "client/cached").stderr
    assert cli.json("repo", "caches", "client/cached") == []

    cli("repo", "update", "client/cached", "--no-cache-auto")
    assert cli.json("repo", "info", "client/cached")["cache_auto"] is False

    purged = cli("repo", "purge-caches", "client/cached")
    assert "purged the caches of client/cached: 0 shared entries" in purged.stderr
    assert cli.json("repo", "purge-caches", "client/cached") == {"generation": 2, "removed": 0, "size": 0}
    refused = cli("repo", "purge-caches", "client/cached", token="", ok=False)
    assert refused.returncode == 1 and "(401" in refused.stderr
