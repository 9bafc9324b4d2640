"""The REST API under `/api`: users, repositories, builds and logs, secrets, runners, streams."""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.api import builds, openapi, repos, runners, secrets, streams, users

routes: list[BaseRoute] = [
    *users.routes,
    *repos.routes,
    *builds.routes,
    *streams.routes,
    *secrets.routes,
    *runners.routes,
    *openapi.routes,
]
