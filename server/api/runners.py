"""`/api/runners` (administrators): register runners (their token shown once), list and revoke them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.auth import require_admin
from server.api.common import read_model, services
from server.api.views import runner_view
from server.crypto import new_token
from server.store.runners import create_runner, delete_runner, find_runner, list_runners

RUNNER_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"


class NewRunner(BaseModel):
    """A runner to register."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=200, pattern=RUNNER_NAME)


async def index(request: Request) -> Response:
    """Every registered runner, by name, without tokens."""
    await require_admin(request)
    async with services(request).reading() as session:
        runners = await list_runners(session)
    return JSONResponse([runner_view(runner) for runner in runners])


async def register(request: Request) -> Response:
    """Register a runner: 201 with its token, shown this once (only its hash is kept)."""
    await require_admin(request)
    body = await read_model(request, NewRunner)
    token = new_token()
    reason = f"a runner named {body.name!r} is registered; delete it to issue a new token"
    conflict = HTTPException(409, reason)
    try:
        async with services(request).transaction() as (session, _changes):
            if await find_runner(session, body.name) is not None:
                raise conflict
            runner = await create_runner(session, body.name, token)
    except IntegrityError:
        raise conflict from None
    return JSONResponse(runner_view(runner) | {"token": token}, status_code=201)


async def revoke(request: Request) -> Response:
    """Delete a runner and its token: 204."""
    await require_admin(request)
    name = request.path_params["runner"]
    async with services(request).transaction() as (session, _changes):
        runner = await find_runner(session, name)
        if runner is None:
            raise HTTPException(404, f"no runner named {name!r}")
        await delete_runner(session, runner)
    return Response(status_code=204)


routes = [
    Route("/runners", index, methods=["GET"]),
    Route("/runners", register, methods=["POST"]),
    Route("/runners/{runner}", revoke, methods=["DELETE"]),
]
