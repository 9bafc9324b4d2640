"""`GET /api/openapi.json`: an OpenAPI 3.1 description of the JSON APIs (`/api/...`, `/hook`, `/healthz`).

The operations are described here, their objects in `openapi_schemas.py`. `tests/reliability/test_openapi.py`
keeps it in step with the application's routes.
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.common import MAX_NUMBER
from server.api.openapi_schemas import STRING, Schema, components, object_schema, ref


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _answer(code: int, schema: Schema | None, description: str = "") -> Schema:
    answer: Schema = {"description": description or ("error" if code >= 400 else "done")}
    if schema is not None:
        answer["content"] = _json(schema)
    return answer


def _array(name: str) -> Schema:
    return {"type": "array", "items": ref(name)}


def _param(name: str, where: str, schema: Schema, description: str = "") -> Schema:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def _path(name: str) -> Schema:
    return _param(name, "path", STRING)


def _number(name: str) -> Schema:
    return _param(name, "path", {"type": "integer", "minimum": 0, "maximum": MAX_NUMBER})


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    return _param(name, "query", schema, description)


WHOLE = {"type": "integer", "minimum": 0, "maximum": MAX_NUMBER}
REPO = [_path("owner"), _path("name")]
BUILD = [*REPO, _number("number")]
STEP = [*BUILD, _number("stage"), _number("step")]
RUNNER_HEADERS = [
    _param("X-Hangar-Runner", "header", STRING, "the runner's name (with the shared secret)"),
    _param("X-Hangar-Lease", "header", STRING, "the lease the stage was accepted under"),
]
ANYONE: list[dict[str, list[str]]] = [{}, {"token": []}]
SIGNED_IN: list[dict[str, list[str]]] = [{"token": []}]


def _operation(
    summary: str,
    answers: dict[int, Schema | None],
    parameters: list[Schema] | None = None,
    body: str = "",
    security: list[dict[str, list[str]]] | None = None,
    errors: tuple[int, ...] = (400, 401, 404),
) -> Schema:
    """One operation: its answers (errors as `Error`), parameters, JSON body model and who may call."""
    responses = {str(code): _answer(code, schema) for code, schema in answers.items()}
    responses |= {str(code): _answer(code, ref("Error")) for code in errors}
    operation: Schema = {"summary": summary, "responses": responses, "security": security or ANYONE}
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {"required": False, "content": _json(ref(body))}
    return operation


def _admin(
    summary: str,
    answers: dict[int, Schema | None],
    parameters: list[Schema] | None = None,
    body: str = "",
    conflict: bool = False,
) -> Schema:
    errors = (400, 401, 403, 404, *((409,) if conflict else ()))
    return _operation(summary, answers, parameters, body, SIGNED_IN, errors)


def _runner(summary: str, answers: dict[int, Schema | None], body: str = "", stage: bool = True) -> Schema:
    parameters = [_number("stage_id"), *RUNNER_HEADERS] if stage else RUNNER_HEADERS
    return _operation(summary, answers, parameters, body, [{"runner": []}], (400, 401, 404, 409))


def _events(summary: str, parameters: list[Schema], names: list[str]) -> Schema:
    """A stream of server-sent events (the schema is each event's: its name, JSON data and position)."""
    event = object_schema({"event": {"enum": names}, "data": STRING}, {"id": STRING})
    operation = _operation(summary, {200: None}, parameters)
    operation["responses"]["200"]["content"] = {"text/event-stream": {"schema": event}}
    return operation


def _paths() -> dict[str, Schema]:
    log_page = [_query("start", WHOLE), _query("limit", {**WHOLE, "minimum": 1})]
    text_log = {
        "200": {
            "description": "the lines",
            "content": _json(_array("LogLine")) | {"text/plain": {"schema": STRING}},
        }
    }
    builds = "/api/repos/{owner}/{name}/builds"
    secrets = "/api/repos/{owner}/{name}/secrets"
    stages = "/api/runner/stages"
    log = _operation(
        "A step's log lines", {}, [*STEP, *log_page, _query("format", {"enum": ["json", "text"]})]
    )
    log["responses"] |= text_log
    return {
        "/healthz": {
            "get": _operation(
                "Whether the database and Redis answer", {200: ref("Health"), 503: ref("Health")}, errors=()
            )
        },
        "/hook": {
            "post": _operation(
                "A forge's webhook (signed with the repository's secret)",
                {200: ref("HookAnswer"), 202: ref("HookAnswer")},
                [
                    _param(name, "header", STRING)
                    for name in (
                        "X-GitHub-Event",
                        "X-Gitea-Event",
                        "X-Gitlab-Event",
                        "X-Hub-Signature-256",
                        "X-Gitlab-Token",
                    )
                ],
                errors=(400, 401, 404, 413),
            )
            | {"requestBody": {"content": _json({"type": "object"})}, "security": [{}]}
        },
        "/api/openapi.json": {"get": _operation("This description", {200: {"type": "object"}}, errors=())},
        "/api/user": {
            "get": _operation("Who is calling", {200: ref("User")}, security=SIGNED_IN),
            "patch": _operation(
                "Change one's password",
                {200: ref("User")},
                body="PasswordChange",
                security=SIGNED_IN,
                errors=(400, 401, 403),
            ),
        },
        "/api/users": {
            "get": _admin("Every user", {200: _array("User")}),
            "post": _admin("Add a user", {201: ref("User")}, body="NewUser", conflict=True),
        },
        "/api/repos": {
            "get": _operation("The repositories the caller may see", {200: _array("Repo")}),
            "post": _admin("Register a repository", {201: ref("Repo")}, body="NewRepo", conflict=True),
        },
        "/api/repos/{owner}/{name}": {
            "get": _operation("A repository", {200: ref("Repo")}, REPO),
            "patch": _admin("Change a repository's settings", {200: ref("Repo")}, REPO, "RepoSettings"),
            "delete": _admin("Forget a repository and its history", {204: None}, REPO),
        },
        builds: {
            "get": _operation(
                "The builds, newest first",
                {200: _array("Build")},
                [
                    *REPO,
                    _query("limit", {**WHOLE, "minimum": 1}),
                    _query("before", WHOLE),
                    _query("branch", STRING),
                ],
            )
        },
        builds + "/{number}": {
            "get": _operation("A build with its stages and steps", {200: ref("BuildDetail")}, BUILD),
            "post": _operation(
                "Restart the build, or one stage (?stage=) and its dependents",
                {200: ref("BuildDetail"), 201: ref("BuildDetail")},
                [*BUILD, _query("stage", {**WHOLE, "minimum": 1})],
                security=SIGNED_IN,
                errors=(400, 401, 403, 404, 409),
            ),
            "delete": _operation(
                "Cancel the build",
                {200: ref("BuildDetail")},
                BUILD,
                security=SIGNED_IN,
                errors=(400, 401, 403, 404, 409),
            ),
        },
        builds + "/{number}/events": {
            "get": _events(
                "The build's changes as server-sent events", BUILD, ["snapshot", "build", "stage", "step"]
            )
        },
        builds + "/{number}/logs/{stage}/{step}": {"get": log},
        builds + "/{number}/logs/{stage}/{step}/search": {
            "get": _operation(
                "Where a step's log mentions ?q=", {200: ref("LogSearch")}, [*STEP, _query("q", STRING)]
            )
        },
        builds + "/{number}/logs/{stage}/{step}/stream": {
            "get": _events(
                "A step's log lines as server-sent events",
                [*STEP, _query("start", WHOLE), _param("Last-Event-ID", "header", STRING)],
                ["line", "reset", "done"],
            )
        },
        secrets: {
            "get": _admin("The repository's secrets (never their values)", {200: _array("Secret")}, REPO),
            "post": _admin("Add a secret", {201: ref("Secret")}, REPO, "NewSecret", conflict=True),
        },
        secrets + "/{secret}": {
            "get": _admin("A secret (never its value)", {200: ref("Secret")}, [*REPO, _path("secret")]),
            "patch": _admin(
                "Change a secret", {200: ref("Secret")}, [*REPO, _path("secret")], "SecretChanges"
            ),
            "delete": _admin("Delete a secret", {204: None}, [*REPO, _path("secret")]),
        },
        "/api/runners": {
            "get": _admin("The registered runners (never their tokens)", {200: _array("Runner")}),
            "post": _admin(
                "Register a runner (its token shown once)",
                {201: ref("RunnerWithToken")},
                body="NewRunner",
                conflict=True,
            ),
        },
        "/api/runners/{runner}": {"delete": _admin("Revoke a runner", {204: None}, [_path("runner")])},
        stages + "/request": {
            "post": _runner(
                "Long-poll for a stage to run", {200: ref("StageOffer"), 204: None}, "RunnerInfo", stage=False
            )
        },
        stages + "/{stage_id}/accept": {
            "post": _runner("Take an offered stage", {200: ref("Assignment")}, "AcceptRequest")
        },
        stages + "/{stage_id}/lease": {"post": _runner("Extend the lease", {200: ref("LeaseReply")})},
        stages + "/{stage_id}/watch": {
            "get": _runner("Long-poll until the stage is cancelled", {200: ref("LeaseReply"), 204: None})
        },
        stages + "/{stage_id}/steps": {"post": _runner("A step's state", {204: None}, "StepReport")},
        stages + "/{stage_id}/logs": {
            "post": _runner("Log lines of a step", {200: ref("LogAck")}, "LogBatch")
        },
        stages + "/{stage_id}/reports": {
            "post": _runner("Several reports in order", {200: ref("BatchAck")}, "ReportBatch")
        },
        stages + "/{stage_id}": {"post": _runner("The stage's state", {204: None}, "StageReport")},
    }


@functools.cache
def openapi_document() -> Schema:
    """The description (built once)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hangar", "version": "1", "description": "Hangar's JSON APIs."},
        "paths": _paths(),
        "components": {
            "schemas": components(),
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "a user's API token"},
                "runner": {"type": "http", "scheme": "bearer", "description": "a runner's token or secret"},
            },
        },
    }


async def openapi_json(_request: Request) -> Response:
    """`GET /api/openapi.json`."""
    return JSONResponse(openapi_document())


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
