"""A repository's shared caches over the API: list the entries (read permission), purge them (configure)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.access import configurable_repo, readable_repo
from server.api.common import services
from server.caches.manage import cache_view, list_caches, purge_caches


async def list_entries(request: Request) -> Response:
    """The shared entries of the repository's current generation, the most recently used first."""
    repo, _user = await readable_repo(request)
    return JSONResponse([cache_view(entry) for entry in await list_caches(services(request), repo)])


async def purge(request: Request) -> Response:
    """Purge the repository's caches: no runner restores an entry saved before, from anywhere."""
    repo, _user = await configurable_repo(request)
    purged = await purge_caches(services(request), repo)
    return JSONResponse({"generation": purged.generation, "removed": purged.removed, "size": purged.size})


routes = [
    Route("/repos/{owner}/{name}/caches", list_entries, methods=["GET"]),
    Route("/repos/{owner}/{name}/caches", purge, methods=["DELETE"]),
]
