"""`POST /api/repos/{owner}/{name}/sign`: a pipeline file signed with the repository's key (Drone's `drone
sign`), for protected repositories; the key itself never leaves the server."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.actions.approval import sign_pipeline
from server.api.access import buildable_repo
from server.api.common import read_model, services

MAX_FILE = 1024 * 1024


class SignRequest(BaseModel):
    """The pipeline file to sign."""

    model_config = ConfigDict(extra="forbid", strict=True)

    data: str = Field(max_length=MAX_FILE)


async def sign(request: Request) -> Response:
    """The file with an up-to-date `kind: signature` document at its end (`data`)."""
    repo, _user = await buildable_repo(request)
    body = await read_model(request, SignRequest)
    return JSONResponse({"data": await sign_pipeline(services(request), repo, body.data)})


routes = [Route("/repos/{owner}/{name}/sign", sign, methods=["POST"])]
