"""The runner's HTTP client of the runner API (`pipelines.runner_api`), with errors a runner can act on."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Self, TypeVar

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
    LeaseReply,
    LogAck,
    LogBatch,
    ReportBatch,
    RunnerInfo,
    StageOffer,
    TestBatch,
)

API_PREFIX = "/api/runner"
POLL_READ_TIMEOUT = 90.0
"""Seconds a long-poll may stay silent: well past the server's ~30 s wait."""
_NO_CONTENT, _CONFLICT, _NOT_FOUND, _TOO_LARGE = 204, 409, 404, 413
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
        upload = _Upload(
            _chunks(content),
            {"step": str(step), "path": path},
            {
                CHECKSUM_HEADER: sha256,
                "Content-Length": str(size),
                "Content-Type": "application/octet-stream",
            },
        )
        response = await self._send(
            "PUT", f"/stages/{stage_id}/artifacts", None, what, lease=lease, upload=upload
        )
        return self._parse(response, ArtifactInfo, what)

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
        upload: _Upload | None = None,
    ) -> httpx.Response:
        """The server's answer; a long-poll silent past its read timeout counts as 204 (nothing happened)."""
        content = body.model_dump_json() if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if upload is not None:
            headers |= upload.headers
        if lease:
            headers[LEASE_HEADER] = lease
        timeout = self.poll_timeout if poll else httpx.USE_CLIENT_DEFAULT
        try:
            response = await self._http.request(
                method,
                path,
                content=upload.content if upload is not None else content,
                params=upload.params if upload is not None else None,
                headers=headers,
                timeout=timeout,
            )
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


@dataclass(frozen=True)
class _Upload:
    """A streamed request body, with its query and headers."""

    content: AsyncIterator[bytes]
    params: Mapping[str, str]
    headers: Mapping[str, str]


async def _chunks(content: IO[bytes], size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """The rest of a file, a chunk at a time (a file on disk: each read is short)."""
    while chunk := content.read(size):
        yield chunk
