"""The REST API under `/api`: users, repositories, builds and logs, secrets, runners, streams."""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.api import (
    build_starts,
    builds,
    crons,
    openapi,
    repos,
    runners,
    secrets,
    signing,
    streams,
    tests,
    users,
)

routes: list[BaseRoute] = [
    *users.routes,
    *repos.routes,
    *builds.routes,
    *tests.routes,
    *build_starts.routes,
    *crons.routes,
    *signing.routes,
    *streams.routes,
    *secrets.routes,
    *runners.routes,
    *openapi.routes,
]
