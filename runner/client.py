"""The runner's HTTP client of the runner API (`pipelines.runner_api`), with errors a runner can act on."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from pipelines.report import StageReport, StepReport
from pipelines.runner_api import (
    CHECKSUM_HEADER,
    LEASE_HEADER,
    RUNNER_HEADER,
    AcceptRequest,
    ArtifactInfo,
    Assignment,
    BatchAck,
    CacheEntryInfo,
    LeaseReply,
    LogAck,
    LogBatch,
    ReportBatch,
    RunnerInfo,
    StageOffer,
    TakenStage,
    TestBatch,
)

API_PREFIX = "/api/runner"
POLL_READ_TIMEOUT = 90.0
"""Seconds a long-poll may stay silent: well past the server's ~30 s wait."""
_NO_CONTENT, _CONFLICT, _NOT_FOUND, _TOO_LARGE, _FORBIDDEN = 204, 409, 404, 413, 403
CHUNK = 1024 * 1024
"""Bytes of a file read or written at a time (off the event loop) while it is uploaded or downloaded."""
_AUTH_REFUSED = (401,)
"""Only a refused token stops the runner: a 403 from a proxy on one report must not."""
_RETRY_LATER = (408, 429)

Model = TypeVar("Model", bound=BaseModel)


class RunnerError(Exception):
    """The server did not take what the runner said (a protocol mismatch: retrying will not help)."""


class Unauthorized(RunnerError):
    """The server refused the runner's token or shared secret."""


class TooLarge(RunnerError):
    """The server (or a proxy before it) refused a request body as too large (413)."""


class ServerUnavailable(RunnerError):
    """The server could not be reached or failed (connection error, 5xx): worth retrying."""

    def __init__(self, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered
        """True when the server answered (5xx, 429): it is up, and this request fails."""


class StageLost(RunnerError):
    """The stage is no longer this runner's (409: its lease expired and it was given away, or it ended)."""


@dataclass
class Backoff:
    """Capped exponential delays between retries: 0.2 s, 0.4 s, … up to 5 s, until reset by a success."""

    first: float = 0.2
    cap: float = 5.0
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        """The delay before the next attempt."""
        self._next = min(self.cap, self._next * 2 if self._next else self.first)
        return self._next

    def reset(self) -> None:
        """Start again from the shortest delay."""
        self._next = 0.0


class RunnerClient:
    """Speaks the runner API to one server as one named runner; close it (or use `async with`)."""

    def __init__(
        self,
        server: str,
        token: str,
        name: str,
        *,
        timeout: float = 30.0,
        poll_timeout: float = POLL_READ_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self.name = name
        self.poll_timeout = httpx.Timeout(timeout, read=poll_timeout)
        self._http = httpx.AsyncClient(
            base_url=self.server + API_PREFIX,
            headers={"Authorization": f"Bearer {token}", RUNNER_HEADER: name},
            timeout=timeout,
            transport=transport,
        )

    async def close(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def request(self, info: RunnerInfo) -> StageOffer | None:
        """Ask for a stage (long-poll); None when nothing came in time."""
        response = await self._send("POST", "/stages/request", info, "asking for work", poll=True, lost_on=())
        if response.status_code == _NO_CONTENT:
            return None
        return self._parse(response, StageOffer, "asking for work")

    async def take(self, info: RunnerInfo, lease: str, retry: bool = False) -> TakenStage | StageOffer | None:
        """Ask for a stage and accept it under `lease` in the same request (long-poll): the stage taken; a
        StageOffer to `accept` when the server is older than that; None when nothing came in time. `retry`:
        the last take under this lease got no answer (the server gives back the stage it may have taken)."""
        body = info.model_copy(update={"take_lease": lease, "retry": retry})
        what = "asking for work"
        response = await self._send(
            "POST", "/stages/request", body, what, poll=True, lost_on=(), empty_on_timeout=False
        )
        if response.status_code == _NO_CONTENT:
            return None
        if b'"assignment"' in response.content:
            return self._parse(response, TakenStage, what)
        return self._parse(response, StageOffer, what)

    async def accept(self, stage_id: int, version: int, lease: str = "") -> Assignment | None:
        """Accept an offered stage under `lease` (the same in a retry); None when it was taken first."""
        what = f"accepting stage {stage_id}"
        body = AcceptRequest(version=version, lease=lease or secrets.token_hex(8))
        response = await self._send(
            "POST", f"/stages/{stage_id}/accept", body, what, lost_on=(), taken_on=(_CONFLICT, _NOT_FOUND)
        )
        if response.status_code in (_CONFLICT, _NOT_FOUND):
            return None
        return self._parse(response, Assignment, what)

    async def renew(self, stage_id: int, lease: str = "") -> LeaseReply:
        """Renew the stage's lease; raises StageLost when the stage is no longer this runner's."""
        what = f"renewing the lease of stage {stage_id}"
        response = await self._send("POST", f"/stages/{stage_id}/lease", None, what, lease=lease)
        return self._parse(response, LeaseReply, what)

    async def watch(self, stage_id: int, lease: str = "") -> bool:
        """Wait (long-poll) for the stage to be cancelled: True when it is, False when nothing happened."""
        what = f"watching stage {stage_id}"
        response = await self._send("GET", f"/stages/{stage_id}/watch", None, what, poll=True, lease=lease)
        if response.status_code == _NO_CONTENT:
            return False
        return self._parse(response, LeaseReply, what).cancel

    async def step(self, stage_id: int, report: StepReport, lease: str = "") -> None:
        """Report a step's state."""
        what = f"reporting a step of stage {stage_id}"
        await self._send("POST", f"/stages/{stage_id}/steps", report, what, lease=lease)

    async def logs(self, stage_id: int, batch: LogBatch, lease: str = "") -> LogAck:
        """Send consecutive lines of a step's log; the answer says which line the server expects next."""
        what = f"sending the log of stage {stage_id}"
        response = await self._send("POST", f"/stages/{stage_id}/logs", batch, what, lease=lease)
        return self._parse(response, LogAck, what)

    async def tests(self, stage_id: int, batch: TestBatch, lease: str = "") -> LogAck:
        """Send a step's test results; the answer says which case position the server expects next."""
        what = f"sending the test results of stage {stage_id}"
        response = await self._send("POST", f"/stages/{stage_id}/tests", batch, what, lease=lease)
        return self._parse(response, LogAck, what)

    async def stage(self, stage_id: int, report: StageReport, lease: str = "") -> None:
        """Report the stage's state (a finished status ends it)."""
        await self._send("POST", f"/stages/{stage_id}", report, f"reporting stage {stage_id}", lease=lease)

    async def reports(self, stage_id: int, batch: ReportBatch, lease: str = "") -> BatchAck:
        """Send several reports in order in one request; a LogAck per log item."""
        what = f"reporting on stage {stage_id}"
        response = await self._send("POST", f"/stages/{stage_id}/reports", batch, what, lease=lease)
        return self._parse(response, BatchAck, what)

    async def artifact(
        self, stage_id: int, step: int, path: str, content: IO[bytes], size: int, sha256: str, lease: str = ""
    ) -> ArtifactInfo:
        """Upload a step's file, streamed from `content` (`size` bytes of SHA-256 `sha256`, read from where it
        is); the same path in the same build replaces the earlier one."""
        what = f"uploading artifact {path} of stage {stage_id}"
        params = {"step": str(step), "path": path}
        response = await self._put(
            f"/stages/{stage_id}/artifacts",
            params,
            _chunks(content),
            size,
            sha256,
            what,
            lease,
            lost_on=(_CONFLICT,),
        )
        return self._parse(response, ArtifactInfo, what)

    async def find_cache(
        self, stage_id: int, key: str, prefixes: Sequence[str], branches: Sequence[str], lease: str = ""
    ) -> CacheEntryInfo | None:
        """The server's best shared cache entry for the key (prefixes and branches as fallbacks), or None."""
        what = f"looking up a cache entry of stage {stage_id}"
        params = {"key": key, "prefix": list(prefixes), "branch": list(branches)}
        request = self._http.build_request(
            "GET", f"/stages/{stage_id}/caches", params=params, headers=_leased({}, lease)
        )
        response = await self._exchange(request, what)
        if response.status_code == _NO_CONTENT:
            return None
        return self._parse(response, CacheEntryInfo, what)

    async def fetch_cache(
        self, stage_id: int, entry_id: int, destination: Path, lease: str = ""
    ) -> str | None:
        """Download a shared cache entry into `destination` (streamed): the SHA-256 of what was written, or
        None when the server no longer has it."""
        what = f"downloading cache entry {entry_id} for stage {stage_id}"
        request = self._http.build_request(
            "GET", f"/stages/{stage_id}/caches/{entry_id}", headers=_leased({}, lease)
        )
        response = await self._exchange(request, what, stream=True, taken_on=(_NOT_FOUND,))
        try:
            if response.status_code == _NOT_FOUND:
                return None
            digest = hashlib.sha256()
            with await asyncio.to_thread(destination.open, "wb") as file:
                async for chunk in response.aiter_bytes(CHUNK):
                    await asyncio.to_thread(_write, file, digest, chunk)
            return digest.hexdigest()
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"{self.server} broke off while {what}: {exc}") from None
        finally:
            await response.aclose()

    async def keep_cache(
        self, stage_id: int, key: str, archive: Path, sha256: str, lease: str = ""
    ) -> CacheEntryInfo | None:
        """Upload an archive (streamed from the file) as the shared entry of `key`; None when the server
        keeps nothing: the stage may not save (a fork's pull request, no shared cache) or the key is kept."""
        what = f"saving cache entry {key!r} of stage {stage_id}"
        path = f"/stages/{stage_id}/caches"
        response = await self._put_file(
            path, {"key": key}, archive, sha256, what, lease, (_FORBIDDEN, _CONFLICT)
        )
        if response.status_code in (_FORBIDDEN, _CONFLICT):
            return None
        return self._parse(response, CacheEntryInfo, what)

    async def _put_file(
        self,
        path: str,
        params: dict[str, str],
        file: Path,
        sha256: str,
        what: str,
        lease: str,
        taken_on: tuple[int, ...] = (),
    ) -> httpx.Response:
        """PUT a file's bytes (streamed, with its length and `X-Hangar-Checksum`)."""
        size = (await asyncio.to_thread(file.stat)).st_size
        return await self._put(path, params, _chunks_of(file), size, sha256, what, lease, taken_on=taken_on)

    async def _put(
        self,
        path: str,
        params: dict[str, str],
        content: AsyncIterator[bytes],
        size: int,
        sha256: str,
        what: str,
        lease: str,
        *,
        taken_on: tuple[int, ...] = (),
        lost_on: tuple[int, ...] = (),
    ) -> httpx.Response:
        """PUT streamed bytes, with their length and `X-Hangar-Checksum`."""
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            CHECKSUM_HEADER: sha256,
        }
        request = self._http.build_request(
            "PUT", path, params=params, content=content, headers=_leased(headers, lease)
        )
        return await self._exchange(request, what, lost_on=lost_on, taken_on=taken_on)

    async def _send(
        self,
        method: str,
        path: str,
        body: BaseModel | None,
        what: str,
        *,
        poll: bool = False,
        lost_on: tuple[int, ...] = (_CONFLICT,),
        taken_on: tuple[int, ...] = (),
        lease: str = "",
        empty_on_timeout: bool = True,
    ) -> httpx.Response:
        """The server's answer; a long-poll silent past its read timeout counts as 204 (nothing happened),
        unless not `empty_on_timeout` (a take may have happened: ServerUnavailable)."""
        content = body.model_dump_json() if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if lease:
            headers[LEASE_HEADER] = lease
        timeout = self.poll_timeout if poll else httpx.USE_CLIENT_DEFAULT
        request = self._http.build_request(method, path, content=content, headers=headers, timeout=timeout)
        empty = poll and empty_on_timeout
        return await self._exchange(request, what, poll=empty, lost_on=lost_on, taken_on=taken_on)

    async def _exchange(
        self,
        request: httpx.Request,
        what: str,
        *,
        poll: bool = False,
        stream: bool = False,
        lost_on: tuple[int, ...] = (_CONFLICT,),
        taken_on: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send the request; its answer, or the error it means (`stream`: the body is left to read)."""
        try:
            response = await self._http.send(request, stream=stream)
        except httpx.ReadTimeout:
            if poll:
                return httpx.Response(_NO_CONTENT)
            raise ServerUnavailable(f"{self.server} did not answer in time while {what}") from None
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise ServerUnavailable(f"cannot reach {self.server} while {what}: {reason}") from None
        except httpx.HTTPError as exc:  # a redirect loop, an undecodable answer: retrying will not help
            raise RunnerError(f"{self.server} while {what}: {exc}") from None
        code = response.status_code
        if stream and code >= 400 and code not in taken_on:  # an error's body is short: read it whole
            await response.aread()
            await response.aclose()
        if code in _AUTH_REFUSED:
            raise Unauthorized(
                f"the server {self.server} refused runner {self.name!r} ({code}): check its token or secret"
            )
        if code >= 500 or code in _RETRY_LATER:
            raise ServerUnavailable(f"{self.server} answered {code} while {what}", answered=True)
        if code in taken_on:
            return response
        if code in lost_on:
            raise StageLost(f"{what}: the stage is no longer this runner's ({code})")
        if code == _TOO_LARGE:
            raise TooLarge(f"{self.server} refused {what} as too large")
        if code >= 400:
            raise RunnerError(f"{self.server} refused {what}: {code} {response.text[:300]}")
        return response

    def _parse(self, response: httpx.Response, model: type[Model], what: str) -> Model:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise RunnerError(
                f"{self.server} gave an answer this runner does not understand while {what}: {exc}"
            ) from None


def _leased(headers: dict[str, str], lease: str) -> dict[str, str]:
    """The headers, with the lease's when there is one."""
    return headers | {LEASE_HEADER: lease} if lease else headers


async def _chunks_of(path: Path) -> AsyncIterator[bytes]:
    """A file's bytes, a chunk at a time."""
    with await asyncio.to_thread(path.open, "rb") as file:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk


def _write(file: BinaryIO, digest: hashlib._Hash, chunk: bytes) -> None:
    digest.update(chunk)
    file.write(chunk)


async def _chunks(content: IO[bytes], size: int = CHUNK) -> AsyncIterator[bytes]:
    """The rest of an open file, a chunk at a time (a file on disk: each read is short)."""
    while chunk := content.read(size):
        yield chunk
