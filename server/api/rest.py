"""The REST API under `/api`: the signed-in user, repositories, builds and logs, secrets, runners, streams."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server.api import builds, repos, runners, secrets, streams
from server.api.auth import require_user
from server.api.views import user_view


async def signed_in_user(request: Request) -> Response:
    """`GET /api/user`: who the API token belongs to; 401 for anonymous callers."""
    return JSONResponse(user_view(await require_user(request)))


routes: list[BaseRoute] = [
    Route("/user", signed_in_user, methods=["GET"]),
    *repos.routes,
    *builds.routes,
    *streams.routes,
    *secrets.routes,
    *runners.routes,
]
