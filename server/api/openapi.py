"""`GET /api/openapi.json`: an OpenAPI 3.1 description of the JSON APIs (`/api/...`, `/hook`, `/healthz`).

The operations are described here, their objects in `openapi_schemas.py`. `tests/reliability/test_openapi.py`
keeps it in step with the application's routes.
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.openapi_artifacts import ARTIFACT_ANSWERS, artifacts_paths
from server.api.openapi_caches import CACHE_ANSWERS, caches_paths
from server.api.openapi_lifecycle import lifecycle_paths
from server.api.openapi_parts import (
    BUILD,
    REPO,
    SIGNED_IN,
    STEP,
    WHOLE,
    admin,
    array,
    events,
    json_content,
    operation,
    param,
    path,
    query,
    runner,
)
from server.api.openapi_schemas import STRING, Schema, components, ref
from server.api.openapi_tests import TEST_ANSWERS, tests_paths


def _paths() -> dict[str, Schema]:
    log_page = [query("start", WHOLE), query("limit", {**WHOLE, "minimum": 1})]
    text_log = {
        "200": {
            "description": "the lines",
            "content": json_content(array("LogLine")) | {"text/plain": {"schema": STRING}},
        }
    }
    builds = "/api/repos/{owner}/{name}/builds"
    secrets = "/api/repos/{owner}/{name}/secrets"
    stages = "/api/runner/stages"
    log = operation("A step's log lines", {}, [*STEP, *log_page, query("format", {"enum": ["json", "text"]})])
    log["responses"] |= text_log
    return {
        "/healthz": {
            "get": operation(
                "Whether the database and Redis answer", {200: ref("Health"), 503: ref("Health")}, errors=()
            )
        },
        "/hook": {
            "post": operation(
                "A forge's webhook (signed with the repository's secret)",
                {200: ref("HookAnswer"), 202: ref("HookAnswer")},
                [
                    param(name, "header", STRING)
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
            | {"requestBody": {"content": json_content({"type": "object"})}, "security": [{}]}
        },
        "/api/openapi.json": {"get": operation("This description", {200: {"type": "object"}}, errors=())},
        "/api/user": {
            "get": operation("Who is calling", {200: ref("User")}, security=SIGNED_IN),
            "patch": operation(
                "Change one's password",
                {200: ref("User")},
                body="PasswordChange",
                security=SIGNED_IN,
                errors=(400, 401, 403),
            ),
        },
        "/api/user/repos": {
            "get": operation(
                "The caller's repositories on the forge, as last synced (?sync=true asks the forge again)",
                {200: array("ForgeRepo")},
                [query("sync", {"enum": ["true", "false"]})],
                security=SIGNED_IN,
                errors=(400, 401, 404, 502),
            )
        },
        "/api/users": {
            "get": admin("Every user", {200: array("User")}),
            "post": admin("Add a user", {201: ref("User")}, body="NewUser", conflict=True),
        },
        "/api/repos": {
            "get": operation("The repositories the caller may see", {200: array("Repo")}),
            "post": admin("Register a repository", {201: ref("Repo")}, body="NewRepo", conflict=True),
        },
        "/api/repos/{owner}/{name}": {
            "get": operation("A repository", {200: ref("Repo")}, REPO),
            "post": operation(
                "Activate a repository of the forge (its administrators): Hangar makes its webhook",
                {201: ref("Repo")},
                REPO,
                security=SIGNED_IN,
                errors=(400, 401, 403, 404, 409, 502),
            ),
            "patch": admin("Change a repository's settings", {200: ref("Repo")}, REPO, "RepoSettings"),
            "delete": admin("Forget a repository and its history", {204: None}, REPO),
        },
        builds: {
            "get": operation(
                "The builds, newest first",
                {200: array("Build")},
                [
                    *REPO,
                    query("limit", {**WHOLE, "minimum": 1}),
                    query("before", WHOLE),
                    query("branch", STRING),
                ],
            )
        },
        builds + "/{number}": {
            "get": operation("A build with its stages and steps", {200: ref("BuildDetail")}, BUILD),
            "post": operation(
                "Restart the build, or one stage (?stage=) and its dependents",
                {200: ref("BuildDetail"), 201: ref("BuildDetail")},
                [*BUILD, query("stage", {**WHOLE, "minimum": 1})],
                security=SIGNED_IN,
                errors=(400, 401, 403, 404, 409),
            ),
            "delete": operation(
                "Cancel the build",
                {200: ref("BuildDetail")},
                BUILD,
                security=SIGNED_IN,
                errors=(400, 401, 403, 404, 409),
            ),
        },
        builds + "/{number}/events": {
            "get": events(
                "The build's changes as server-sent events", BUILD, ["snapshot", "build", "stage", "step"]
            )
        },
        builds + "/{number}/logs/{stage}/{step}": {"get": log},
        builds + "/{number}/logs/{stage}/{step}/search": {
            "get": operation(
                "Where a step's log mentions ?q=", {200: ref("LogSearch")}, [*STEP, query("q", STRING)]
            )
        },
        builds + "/{number}/logs/{stage}/{step}/stream": {
            "get": events(
                "A step's log lines as server-sent events",
                [*STEP, query("start", WHOLE), param("Last-Event-ID", "header", STRING)],
                ["line", "reset", "done"],
            )
        },
        secrets: {
            "get": admin("The repository's secrets (never their values)", {200: array("Secret")}, REPO),
            "post": admin("Add a secret", {201: ref("Secret")}, REPO, "NewSecret", conflict=True),
        },
        secrets + "/{secret}": {
            "get": admin("A secret (never its value)", {200: ref("Secret")}, [*REPO, path("secret")]),
            "patch": admin("Change a secret", {200: ref("Secret")}, [*REPO, path("secret")], "SecretChanges"),
            "delete": admin("Delete a secret", {204: None}, [*REPO, path("secret")]),
        },
        "/api/runners": {
            "get": admin("The registered runners (never their tokens)", {200: array("Runner")}),
            "post": admin(
                "Register a runner (its token shown once)",
                {201: ref("RunnerWithToken")},
                body="NewRunner",
                conflict=True,
            ),
        },
        "/api/runners/{runner}": {"delete": admin("Revoke a runner", {204: None}, [path("runner")])},
        stages + "/request": {
            "post": runner(
                "Long-poll for a stage to run", {200: ref("StageOffer"), 204: None}, "RunnerInfo", stage=False
            )
        },
        stages + "/{stage_id}/accept": {
            "post": runner("Take an offered stage", {200: ref("Assignment")}, "AcceptRequest")
        },
        stages + "/{stage_id}/lease": {"post": runner("Extend the lease", {200: ref("LeaseReply")})},
        stages + "/{stage_id}/watch": {
            "get": runner("Long-poll until the stage is cancelled", {200: ref("LeaseReply"), 204: None})
        },
        stages + "/{stage_id}/steps": {"post": runner("A step's state", {204: None}, "StepReport")},
        stages + "/{stage_id}/logs": {
            "post": runner("Log lines of a step", {200: ref("LogAck")}, "LogBatch")
        },
        stages + "/{stage_id}/reports": {
            "post": runner("Several reports in order", {200: ref("BatchAck")}, "ReportBatch")
        },
        stages + "/{stage_id}": {"post": runner("The stage's state", {204: None}, "StageReport")},
    }


def _merged(paths: dict[str, Schema], more: dict[str, Schema]) -> dict[str, Schema]:
    """Both sets of paths; an address in both has the operations of both."""
    return paths | {address: paths.get(address, {}) | operations for address, operations in more.items()}


@functools.cache
def openapi_document() -> Schema:
    """The description (built once)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hangar", "version": "1", "description": "Hangar's JSON APIs."},
        "paths": _merged(
            _merged(_merged(_merged(_paths(), lifecycle_paths()), tests_paths()), artifacts_paths()),
            caches_paths(),
        ),
        "components": {
            "schemas": components() | TEST_ANSWERS | ARTIFACT_ANSWERS | CACHE_ANSWERS,
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
