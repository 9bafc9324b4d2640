"""The OpenAPI description at `/api/openapi.json` names exactly the JSON routes the application serves."""

from __future__ import annotations

import re

import schemathesis
from schemathesis.core.result import Ok

from server.api.openapi import openapi_document
from server.app import create_app
from server.services import Services
from tests.reliability.sweep import every_route
from tests.server.api.conftest import RecordingClient

DESCRIBED_OUTSIDE_API = ("/hook", "/healthz")
_CONVERTER = re.compile(r"\{(\w+):\w+\}")
"""A path parameter's converter (`{path:path}`): the description names the parameter alone."""
OPERATIONS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def described_routes(document: dict[str, object]) -> set[tuple[str, str]]:
    """Every (path, method) the description has."""
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {(path, method) for path, item in paths.items() for method in item if method in OPERATIONS}


def test_the_description_names_every_json_route_and_no_other(hangar: Services, redis_url: str) -> None:
    app = create_app(hangar.settings, redis_url, hangar)
    served = {
        (_CONVERTER.sub(r"{\1}", route.template), method.lower())
        for route in every_route(app.routes)
        for method in route.methods - {"HEAD"}  # Starlette answers HEAD wherever it answers GET
        if route.template.startswith("/api/") or route.template in DESCRIBED_OUTSIDE_API
    }
    described = described_routes(openapi_document())
    assert len(served) > 30, "the routes were not all found (a Mount missed?)"
    assert served - described == set(), "routes the description lacks"
    assert described - served == set(), "the description names routes the application does not serve"


def test_the_description_is_valid_openapi_with_every_path_parameter_declared() -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        declared = {parameter.name for parameter in operation.path_parameters}
        named = {part[1:-1] for part in operation.path.split("/") if part.startswith("{")}
        assert declared == named, operation.label
        assert operation.definition.raw.get("responses"), f"{operation.label} describes no answer"


async def test_the_description_is_served(api: RecordingClient) -> None:
    answer = await api.get("/api/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.")
    assert ("/api/repos/{owner}/{name}/secrets", "post") in described_routes(document)
    secret = document["components"]["schemas"]["Secret"]
    assert "value" not in secret["properties"], "a secret's value is never shown"
