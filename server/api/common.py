"""What every route uses: the shared services, JSON bodies in and out, errors as JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.services import Services

Model = TypeVar("Model", bound=BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]


def services(request: Request) -> Services:
    """The process's shared services."""
    found: Services = request.app.state.services
    return found


async def read_model(request: Request, model: type[Model]) -> Model:
    """The request's JSON body as `model`; 400 with the reason when it is not one."""
    body = await request.body()
    if b"\\u0000" in body and not request.url.path.startswith("/api/runner/"):  # logs may carry NULs
        raise HTTPException(400, "NUL characters are not allowed")
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise HTTPException(400, f"invalid {model.__name__}: {_first_error(exc)}") from None


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 when it is not one."""
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return data


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """A pydantic model as a JSON response."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def json_error(_request: Request, exc: Exception) -> Response:
    """HTTP errors as `{"error": "..."}`."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


MAX_NUMBER = 2**31 - 1
"""The largest id, build number or line position Hangar takes (PostgreSQL's integer)."""


def parse_number(text: str) -> int | None:
    """`text` as a non-negative number if it is one, written in ASCII digits and in range; else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if value <= MAX_NUMBER else None


def int_param(request: Request, name: str) -> int:
    """A path parameter that must be a number; 404 otherwise."""
    value = parse_number(str(request.path_params.get(name, "")))
    if value is None:
        raise HTTPException(404, f"no such {name}")
    return value


def repo_path(request: Request) -> tuple[str, str]:
    """The owner and name of the repository the path names (`…/{owner}/{name}/…`)."""
    return str(request.path_params["owner"]), str(request.path_params["name"])


def query_int(request: Request, name: str, default: int | None, minimum: int = 0) -> int | None:
    """A numeric query parameter (`default` when absent); 400 unless it is a number of at least `minimum`."""
    text = request.query_params.get(name, "")
    if not text:
        return default
    value = parse_number(text)
    if value is None:
        raise HTTPException(400, f"{name} must be a whole number from 0 to {MAX_NUMBER}, not {text[:40]!r}")
    if value < minimum:
        raise HTTPException(400, f"{name} must be at least {minimum}")
    return value


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", ""))


def collection_routes(path: str, item: str, handlers: dict[str, Endpoint]) -> list[Route]:
    """The routes of a collection at `path` and its items at `path/{item}`: `handlers` by verb, `list` and
    `add` for the collection, `show`, `change`, `remove` and `run` for an item (GET, POST, GET, PATCH,
    DELETE, POST)."""
    one = f"/{{{item}}}"
    verbs = {
        "list": ("", "GET"), "add": ("", "POST"), "show": (one, "GET"), "change": (one, "PATCH"),
        "remove": (one, "DELETE"), "run": (one, "POST"),
    }  # fmt: skip
    return [Route(path + verbs[verb][0], call, methods=[verbs[verb][1]]) for verb, call in handlers.items()]
