"""The Starlette application: webhooks, runner and REST APIs, live streams, the web UI, health, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pipelines.gc_tuning import settle_start_up
from server.accounts.tokens import SignInAgain
from server.actions.errors import ActionError
from server.api import artifact_upload, hooks, rest, runner, runner_caches, runner_reports
from server.api.common import json_error
from server.bootstrap import bootstrap
from server.forges.oauth import OAuthUnavailable
from server.forges.remote import ForgeError
from server.keys import HEARTBEAT_KEY
from server.metrics import metrics
from server.scheduler import extend_leases
from server.services import HEARTBEAT_SECONDS, Services, open_services
from server.settings import Settings
from server.web import routes as web
from server.web.render import error_page

_log = logging.getLogger("hangar.app")


async def healthz(request: Request) -> Response:
    """200 when the database and Redis answer."""
    hangar: Services = request.app.state.services
    problems: list[str] = []
    try:
        async with hangar.reading() as session:
            await session.connection()
    except Exception as exc:
        problems.append(f"database: {exc}")
    try:
        await hangar.redis.ping()
    except Exception as exc:
        problems.append(f"redis: {exc}")
    return JSONResponse({"ok": not problems, "problems": problems}, status_code=503 if problems else 200)


async def heartbeat(hangar: Services) -> None:
    """Tell the lease reaper an API server is up; after none was, first give runners a full lease."""
    while True:
        try:
            if not await hangar.redis.exists(HEARTBEAT_KEY):
                async with hangar.transaction() as (session, _changes):
                    await extend_leases(session, hangar.settings.lease_seconds)
            await hangar.redis.set(HEARTBEAT_KEY, "1", ex=int(HEARTBEAT_SECONDS * 3))
        except Exception:
            _log.warning("heartbeat failed", exc_info=True)
        await asyncio.sleep(HEARTBEAT_SECONDS)


class RefuseControlCharacters:
    """400 for a control character in the path, or a NUL in the query: no name or number has one, Starlette's
    mounts never match a path with a newline (an API path would fall through to the pages), and PostgreSQL
    refuses NUL in text (an unchecked one would end in a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, or pass the request on."""
        if scope["type"] == "http" and (_has_control(scope["path"]) or _has_nul(scope["query_string"])):
            refusal = {"error": "control characters are not allowed in the address"}
            await JSONResponse(refusal, status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _has_control(path: str) -> bool:
    return _CONTROL.search(path) is not None


def _has_nul(query: bytes) -> bool:
    return b"\x00" in query or b"%00" in query


API_PATHS = ("/hook", "/healthz", "/metrics")


async def http_error(request: Request, exc: Exception) -> Response:
    """Errors as JSON for the APIs and as a page for people (a refused action as the HTTP error it means)."""
    if isinstance(exc, ActionError):
        exc = HTTPException(exc.status_code, exc.detail)
    elif isinstance(exc, ForgeError | OAuthUnavailable):  # the forge did not answer, or refused Hangar
        exc = HTTPException(502, str(exc))
    elif isinstance(exc, SignInAgain):
        exc = HTTPException(401, f"sign in again: {exc}")
    path = request.url.path
    if path.startswith("/api/") or path in API_PATHS:
        return json_error(request, exc)
    return await error_page(request, exc)


def create_app(
    settings: Settings, redis_url: str, services: Services | None = None, *, freeze_start_up: bool = False
) -> Starlette:
    """The application; it opens its services on start-up unless given them (as tests and `hangar up` do).

    `freeze_start_up` (for a process that serves until it ends: `hangar server`, `hangar up`): once started,
    everything alive is moved out of the garbage collector's sight (gc.freeze), so its full collections no
    longer walk the modules, schemas and services (they paused webhook answers: p99 108 ms -> 37 ms), and
    the young generation is collected less often (pipelines.gc_tuning: a log batch is thousands of objects).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = services is None
        hangar = services or await open_services(settings, redis_url)
        app.state.services = hangar
        await bootstrap(hangar)
        if freeze_start_up:
            settle_start_up()
        beating = asyncio.create_task(heartbeat(hangar), name="hangar-heartbeat")
        try:
            yield
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            if opened:
                await hangar.close()

    routes = [
        *hooks.routes,
        Mount(
            "/api/runner",
            routes=[*runner.routes, *runner_reports.routes, *runner_caches.routes, *artifact_upload.routes],
        ),
        Mount("/api", routes=rest.routes),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *web.routes,
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            ActionError: http_error,
            ForgeError: http_error,
            OAuthUnavailable: http_error,
            SignInAgain: http_error,
        },
        middleware=[Middleware(RefuseControlCharacters)],
    )
    if services is not None:
        app.state.services = services
    return app
