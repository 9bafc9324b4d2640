"""The pieces the OpenAPI description is made of: parameters, answers and operations (`openapi.py` and
`openapi_lifecycle.py` put them together)."""

from __future__ import annotations

from server.api.common import MAX_NUMBER
from server.api.openapi_schemas import STRING, Schema, object_schema, ref

__all__ = ["Schema"]


def json_content(schema: Schema) -> Schema:
    """A JSON body of that schema."""
    return {"application/json": {"schema": schema}}


def answer(code: int, schema: Schema | None, description: str = "") -> Schema:
    """An answer of that status code, with a JSON body of `schema` (None: no body)."""
    answer: Schema = {"description": description or ("error" if code >= 400 else "done")}
    if schema is not None:
        answer["content"] = json_content(schema)
    return answer


def array(name: str) -> Schema:
    """A JSON array of the named schema."""
    return {"type": "array", "items": ref(name)}


def param(name: str, where: str, schema: Schema, description: str = "") -> Schema:
    """A parameter (`where`: path, query or header); path parameters are required."""
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def path(name: str) -> Schema:
    """A text path parameter."""
    return param(name, "path", STRING)


def number(name: str) -> Schema:
    """A whole-number path parameter."""
    return param(name, "path", {"type": "integer", "minimum": 0, "maximum": MAX_NUMBER})


def query(name: str, schema: Schema, description: str = "") -> Schema:
    """An optional query parameter."""
    return param(name, "query", schema, description)


WHOLE = {"type": "integer", "minimum": 0, "maximum": MAX_NUMBER}
REPO = [path("owner"), path("name")]
BUILD = [*REPO, number("number")]
STEP = [*BUILD, number("stage"), number("step")]
RUNNER_HEADERS = [
    param("X-Hangar-Runner", "header", STRING, "the runner's name (with the shared secret)"),
    param("X-Hangar-Lease", "header", STRING, "the lease the stage was accepted under"),
]
ANYONE: list[dict[str, list[str]]] = [{}, {"token": []}]
SIGNED_IN: list[dict[str, list[str]]] = [{"token": []}]


def operation(
    summary: str,
    answers: dict[int, Schema | None],
    parameters: list[Schema] | None = None,
    body: str = "",
    security: list[dict[str, list[str]]] | None = None,
    errors: tuple[int, ...] = (400, 401, 404),
) -> Schema:
    """One operation: its answers (errors as `Error`), parameters, JSON body model and who may call."""
    responses = {str(code): answer(code, schema) for code, schema in answers.items()}
    responses |= {str(code): answer(code, ref("Error")) for code in errors}
    operation: Schema = {"summary": summary, "responses": responses, "security": security or ANYONE}
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {"required": False, "content": json_content(ref(body))}
    return operation


def admin(
    summary: str,
    answers: dict[int, Schema | None],
    parameters: list[Schema] | None = None,
    body: str = "",
    conflict: bool = False,
) -> Schema:
    """An operation for administrators (409 too when `conflict`)."""
    errors = (400, 401, 403, 404, *((409,) if conflict else ()))
    return operation(summary, answers, parameters, body, SIGNED_IN, errors)


def runner(summary: str, answers: dict[int, Schema | None], body: str = "", stage: bool = True) -> Schema:
    """A runner API operation (the runner's token; a stage's, with its lease headers)."""
    parameters = [number("stage_id"), *RUNNER_HEADERS] if stage else RUNNER_HEADERS
    return operation(summary, answers, parameters, body, [{"runner": []}], (400, 401, 404, 409))


def events(summary: str, parameters: list[Schema], names: list[str]) -> Schema:
    """A stream of server-sent events (the schema is each event's: its name, JSON data and position)."""
    event = object_schema({"event": {"enum": names}, "data": STRING}, {"id": STRING})
    described = operation(summary, {200: None}, parameters)
    described["responses"]["200"]["content"] = {"text/event-stream": {"schema": event}}
    return described
