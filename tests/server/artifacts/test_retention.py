"""Artifact retention over SQLite and PostgreSQL: expired artifacts go, then a repository's oldest past its
size, rows and files; the files of a deleted repository and uploads cut off long ago go too."""

from __future__ import annotations

import os
import time

import httpx
from sqlmodel import select

from server.artifacts.retention import DAY, sweep_artifacts
from server.db.models import Artifact
from server.jobs import remove_old_artifacts
from server.services import Services
from tests.server.artifacts.conftest import Running, put
from tests.server.conftest import ADMIN_TOKEN

BUILD = "/api/repos/octo/hello/builds/1"


async def _age(hangar: Services, path: str, days: float) -> None:
    async with hangar.transaction() as (session, _changes):
        artifact = (await session.exec(select(Artifact).where(Artifact.path == path))).one()
        artifact.created = time.time() - days * DAY
        session.add(artifact)


async def _listed(api: httpx.AsyncClient) -> list[str]:
    return [artifact["path"] for artifact in (await api.get(f"{BUILD}/artifacts")).json()]


async def test_expired_artifacts_and_the_oldest_past_the_size_are_removed(
    api: httpx.AsyncClient, running: Running, hangar_each_db: Services
) -> None:
    for path, size, days in (
        ("old.bin", 10, 31),
        ("older.bin", 40, 20),
        ("middle.bin", 40, 10),
        ("new.bin", 40, 0),
    ):
        assert (await put(api, running, path, os.urandom(size))).status_code == 201
        await _age(hangar_each_db, path, days)
    hangar_each_db.settings.artifact_repo_max_bytes = 100  # the three younger hold 120 bytes
    assert hangar_each_db.settings.artifact_retention_days == 30, "the default"

    swept = await sweep_artifacts(hangar_each_db)
    assert (swept.expired, swept.over_size) == (1, 1)
    assert await _listed(api) == ["middle.bin", "new.bin"]
    assert sorted(path.name.split("-", 1)[1] for path in running.files()) == ["middle.bin", "new.bin"]
    assert (await api.get(f"{BUILD}/artifacts/old.bin")).status_code == 404

    assert await remove_old_artifacts({"hangar": hangar_each_db}) == 0, "nothing more to remove"
    assert await _listed(api) == ["middle.bin", "new.bin"]


async def test_a_deleted_repositorys_files_and_forgotten_uploads_are_removed(
    api: httpx.AsyncClient, running: Running, hangar_each_db: Services
) -> None:
    assert (await put(api, running, "dist/app.whl", b"wheel")).status_code == 201
    incoming = running.data / "artifacts" / ".incoming"
    cut_off, fresh = incoming / "cut-off-upload", incoming / "upload-in-progress"
    for path in (cut_off, fresh):
        path.write_bytes(b"part")
    an_hour_ago = time.time() - 3700
    os.utime(cut_off, (an_hour_ago, an_hour_ago))
    assert (await sweep_artifacts(hangar_each_db)).orphans == 1
    assert sorted(path.name for path in incoming.iterdir()) == ["upload-in-progress"]
    assert len(list(running.stored.iterdir())) == 1, "the artifact of an existing repository stays"

    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert (await api.delete("/api/repos/octo/hello", headers=admin)).status_code == 204
    assert (await sweep_artifacts(hangar_each_db)).orphans == 1
    assert not running.stored.parent.exists(), "the repository's folder is gone"
