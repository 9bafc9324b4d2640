"""`/api/user/repos`: the caller's repositories on the forge (as last synced; `?sync=true` asks it first),
each with what they may do and whether it is switched on."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.accounts.sync import forge_repo_views, sync_repositories, synced_repositories
from server.api.auth import require_user
from server.api.common import services


async def forge_repositories(request: Request) -> Response:
    """The caller's repositories on the forge (`?sync=true`: asked again now; also when never synced)."""
    user = await require_user(request)
    hangar = services(request)
    if hangar.forge is None:
        raise HTTPException(404, "no forge is configured")
    listed = None if request.query_params.get("sync") == "true" else await synced_repositories(hangar, user)
    if listed is None:
        listed = await sync_repositories(hangar, user)
    return JSONResponse(await forge_repo_views(hangar, listed))


routes = [Route("/user/repos", forge_repositories, methods=["GET"])]
