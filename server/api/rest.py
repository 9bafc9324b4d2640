"""The REST API under `/api`: users, repositories, builds and logs, secrets, runners, streams."""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.api import (
    artifacts,
    build_starts,
    builds,
    caches,
    crons,
    forge_repos,
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
    *forge_repos.routes,
    *repos.routes,
    *builds.routes,
    *tests.routes,
    *artifacts.routes,
    *caches.routes,
    *build_starts.routes,
    *crons.routes,
    *signing.routes,
    *streams.routes,
    *secrets.routes,
    *runners.routes,
    *openapi.routes,
]
