"""Real peers on 127.0.0.1 ephemeral ports: a forge API that records commit statuses, and an SMTP inbox."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Recorded:
    """One request as the forge received it."""

    method: str
    path: str  # raw, still percent-encoded
    headers: dict[str, str]  # names lowercased
    body: Any
    at: float = field(default_factory=time.time)  # when it arrived (Unix seconds)


@dataclass
class RecordingForge:
    """A forge API that records every request and answers `status_code`."""

    url: str = ""
    status_code: int = 201
    answer: dict[str, Any] = field(default_factory=lambda: {"id": 1})
    requests: list[Recorded] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request, then answer as configured."""
        headers = {name.lower(): value for name, value in request.headers.items()}
        body = await request.json()
        self.requests.append(Recorded(request.method, request.raw_path, headers, body))
        return web.json_response(self.answer, status=self.status_code)


@pytest.fixture
async def forge() -> AsyncIterator[RecordingForge]:
    """A recording forge API served by aiohttp on an ephemeral port."""
    async with serve_forge(RecordingForge()) as recorder:
        yield recorder


@contextlib.asynccontextmanager
async def serve_forge(recorder: RecordingForge, port: int = 0) -> AsyncIterator[RecordingForge]:
    """Serve `recorder` on 127.0.0.1:`port` (0: an ephemeral one) until the block ends."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    try:
        site = web.SockSite(runner, sock)
        await site.start()
        recorder.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield recorder
    finally:
        await runner.cleanup()
        sock.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that ignores proxy settings from the environment."""
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        yield client


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening on 127.0.0.1, so connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@dataclass(frozen=True)
class Delivered:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: bytes | None


@dataclass
class Inbox:
    """An aiosmtpd handler that stores messages, or refuses recipients or data with a configured reply."""

    rcpt_reply: str = ""
    data_reply: str = ""
    messages: list[Delivered] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """Accept the recipient unless told to refuse every one."""
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message unless told to refuse it."""
        if self.data_reply:
            return self.data_reply
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        assert envelope.mail_from is not None
        assert isinstance(envelope.original_content, bytes)
        content = envelope.original_content
        self.messages.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), content, login))
        return "250 OK"


class EphemeralController(Controller):
    """aiosmtpd's Controller bound to port 0: it learns the chosen port before its readiness check."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


USERNAME = "hangar"
PASSWORD = "s3cret-passw0rd"


def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    """Accept exactly USERNAME/PASSWORD."""
    accepted = isinstance(data, LoginPassword) and data == (USERNAME.encode(), PASSWORD.encode())
    return AuthResult(success=accepted, handled=False, auth_data=data)


@dataclass(frozen=True)
class SmtpServer:
    """A running SMTP server and what it received."""

    port: int
    inbox: Inbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server (no STARTTLS) on 127.0.0.1 that offers AUTH without TLS, for the tests' sake."""
    inbox = Inbox()
    controller = EphemeralController(
        inbox, hostname="127.0.0.1", port=0, auth_require_tls=False, authenticator=authenticate
    )
    controller.start()
    try:
        yield SmtpServer(controller.port, inbox)
    finally:
        controller.stop()
