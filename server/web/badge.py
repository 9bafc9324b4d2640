"""The status badge of a repository's branch, as SVG for READMEs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.access import readable_repo
from server.api.common import services
from server.store.builds import list_builds
from webui.badge import BADGE_CACHE_CONTROL, badge_svg


async def badge(request: Request) -> Response:
    """The latest build's status on `?branch=` (the default branch); 404 for what the visitor may not see."""
    repo, _user = await readable_repo(request)
    branch = request.query_params.get("branch", "") or repo.default_branch
    async with services(request).reading() as session:
        latest = await list_builds(session, repo.id or 0, limit=1, branch=branch)
    svg = badge_svg("build", latest[0].status if latest else None)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": BADGE_CACHE_CONTROL})


routes = [Route("/{owner}/{name}/badge.svg", badge, methods=["GET"])]
