"""Where artifacts go: the server (the runner daemon's, through the runner API, retried while the server is
briefly away) or a local folder (`hangar exec --artifacts DIR`)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pipelines.artifact_paths import is_safe_artifact_path
from runner.artifacts import ArtifactNotKept

if TYPE_CHECKING:  # the runner API client (httpx) is imported where it is used: `hangar exec` needs neither
    from runner.client import Backoff, RunnerClient

SERVER_PATIENCE = 300.0
"""Seconds an upload is retried while the server is away before the file is given up (with a note)."""


class ServerArtifacts:
    """Uploads a stage's artifacts to the server (`PUT /stages/{id}/artifacts`), under the stage's lease."""

    def __init__(
        self,
        client: RunnerClient,
        stage_id: int,
        lease: str = "",
        *,
        patience: float = SERVER_PATIENCE,
        backoff: Backoff | None = None,
    ) -> None:
        from runner.client import Backoff  # noqa: PLC0415  (the caller holds a client: already imported)

        self.client, self.stage_id, self.lease, self.patience = client, stage_id, lease, patience
        self.backoff = backoff or Backoff()

    async def keep(self, step: int, path: str, content: IO[bytes], size: int, sha256: str) -> None:
        """Upload the file; tried again from its start while the server is unavailable."""
        from runner.client import RunnerError, ServerUnavailable  # noqa: PLC0415  (imported with the client)

        start = content.tell()
        self.backoff.reset()
        deadline = time.monotonic() + self.patience
        while True:
            content.seek(start)
            try:
                await self.client.artifact(self.stage_id, step, path, content, size, sha256, self.lease)
                return
            except ServerUnavailable as exc:
                if time.monotonic() >= deadline:
                    raise ArtifactNotKept(str(exc)) from None
                await asyncio.sleep(self.backoff.delay())
            except RunnerError as exc:  # refused, or the stage is no longer this runner's
                raise ArtifactNotKept(str(exc)) from None


class FolderArtifacts:
    """Copies artifacts into a folder, at their workspace-relative paths (a later one replaces an earlier)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def keep(self, step: int, path: str, content: IO[bytes], size: int, sha256: str) -> None:
        """Copy the file (through a temporary file, renamed once whole)."""
        if not is_safe_artifact_path(path):
            raise ArtifactNotKept(f"{path!r} is not a path inside the folder")
        try:
            await asyncio.to_thread(self._copy, path, content)
        except OSError as exc:
            raise ArtifactNotKept(f"could not write {self.folder / path}: {exc}") from None

    def _copy(self, path: str, content: IO[bytes]) -> None:
        target = self.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".artifact-")
        try:
            with os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(content, out, 1024 * 1024)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
