"""Artifact retention: the worker's periodic sweep removes artifacts older than `artifact_retention_days`,
then a repository's oldest past `artifact_repo_max_bytes` (rows, then files), and the files no row names any
more (a deleted repository's, an upload cut off long ago)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from server.artifacts.storage import artifact_storage
from server.services import Services
from server.store.artifacts import (
    artifact_locations,
    artifacts_past_size,
    delete_artifacts,
    expired_artifacts,
    repo_ids,
)

DAY = 24 * 3600.0


@dataclass(frozen=True)
class Swept:
    """What one sweep removed."""

    expired: int
    over_size: int
    orphans: int


async def sweep_artifacts(hangar: Services, now: float | None = None) -> Swept:
    """Remove expired artifacts, then each repository's oldest beyond its size, then unnamed files."""
    settings = hangar.settings
    before = (now if now is not None else time.time()) - settings.artifact_retention_days * DAY
    storage = artifact_storage(settings)
    async with hangar.transaction() as (session, _changes):
        expired = list(await expired_artifacts(session, before))
        await delete_artifacts(session, [artifact.id or 0 for artifact in expired])
    await storage.remove(artifact.location for artifact in expired)
    async with hangar.transaction() as (session, _changes):
        too_many = await artifacts_past_size(session, settings.artifact_repo_max_bytes)
        await delete_artifacts(session, [artifact.id or 0 for artifact in too_many])
    await storage.remove(artifact.location for artifact in too_many)
    async with hangar.reading() as session:
        known, locations = await repo_ids(session), await artifact_locations(session)
    orphans = await storage.sweep(known, locations)
    return Swept(len(expired), len(too_many), orphans)
