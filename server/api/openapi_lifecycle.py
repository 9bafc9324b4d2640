"""The OpenAPI operations of builds that are not pushes: custom builds, promotions and rollbacks, approval,
cron schedules and signing (`openapi.py` merges them into the description)."""

from __future__ import annotations

from server.api.openapi_parts import (
    BUILD,
    REPO,
    SIGNED_IN,
    Schema,
    admin,
    array,
    operation,
    path,
    query,
)
from server.api.openapi_schemas import STRING, ref

PARAMETERS = {
    "name": "parameters",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "schema": {"type": "object", "additionalProperties": STRING},
    "description": "KEY=VALUE pairs: the build's parameters, variables of every step",
}
STARTS = (400, 401, 403, 404)


def _signed_in(summary: str, answer: Schema, parameters: list[Schema], conflict: bool = False) -> Schema:
    """An operation for whoever may build (a build's detail as the answer)."""
    code = 200 if conflict else 201
    errors = (*STARTS, 409) if conflict else STARTS
    return operation(summary, {code: answer}, parameters, security=SIGNED_IN, errors=errors)


def lifecycle_paths() -> dict[str, Schema]:
    """The paths, by address."""
    builds = "/api/repos/{owner}/{name}/builds"
    cron = "/api/repos/{owner}/{name}/cron"
    named = [*REPO, path("cron")]
    deploy = [*BUILD, query("target", STRING), PARAMETERS]
    detail = ref("BuildDetail")
    custom = [*REPO, query("branch", STRING), query("commit", STRING), PARAMETERS]
    return {
        builds: {
            "post": _signed_in("Start a custom build of ?branch= at its head or ?commit=", detail, custom)
        },
        builds + "/{number}/promote": {"post": _signed_in("Promote the build to ?target=", detail, deploy)},
        builds + "/{number}/rollback": {
            "post": _signed_in("Roll back to the build on ?target=", detail, deploy)
        },
        builds + "/{number}/approve": {"post": _signed_in("Let a blocked build run", detail, BUILD, True)},
        builds + "/{number}/decline": {
            "post": _signed_in("End a blocked build declined", detail, BUILD, True)
        },
        cron: {
            "get": operation("The repository's crons", {200: array("Cron")}, REPO),
            "post": admin("Add a cron", {201: ref("Cron")}, REPO, "NewCron", conflict=True),
        },
        cron + "/{cron}": {
            "get": operation("A cron", {200: ref("Cron")}, named),
            "patch": admin("Change a cron", {200: ref("Cron")}, named, "CronChanges"),
            "delete": admin("Delete a cron", {204: None}, named),
            "post": _signed_in("Build the cron now", detail, named),
        },
        "/api/repos/{owner}/{name}/sign": {
            "post": operation(
                "The pipeline file signed with the repository's key (protected mode)",
                {200: ref("Signed")},
                REPO,
                body="SignRequest",
                security=SIGNED_IN,
                errors=STARTS,
            )
        },
    }
