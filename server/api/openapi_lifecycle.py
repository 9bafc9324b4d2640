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


def lifecycle_paths() -> dict[str, Schema]:
    """The paths, by address."""
    builds = "/api/repos/{owner}/{name}/builds"
    cron = "/api/repos/{owner}/{name}/cron"
    deploy = [*BUILD, query("target", STRING), PARAMETERS]
    return {
        builds: {
            "post": operation(
                "Start a custom build of ?branch= (default branch) at its head or ?commit=",
                {201: ref("BuildDetail")},
                [*REPO, query("branch", STRING), query("commit", STRING), PARAMETERS],
                security=SIGNED_IN,
                errors=STARTS,
            )
        },
        builds + "/{number}/promote": {
            "post": operation(
                "Promote the build to ?target=",
                {201: ref("BuildDetail")},
                deploy,
                security=SIGNED_IN,
                errors=STARTS,
            )
        },
        builds + "/{number}/rollback": {
            "post": operation(
                "Roll back to the build on ?target=",
                {201: ref("BuildDetail")},
                deploy,
                security=SIGNED_IN,
                errors=STARTS,
            )
        },
        builds + "/{number}/approve": {
            "post": operation(
                "Let a blocked build run",
                {200: ref("BuildDetail")},
                BUILD,
                security=SIGNED_IN,
                errors=(*STARTS, 409),
            )
        },
        builds + "/{number}/decline": {
            "post": operation(
                "End a blocked build declined",
                {200: ref("BuildDetail")},
                BUILD,
                security=SIGNED_IN,
                errors=(*STARTS, 409),
            )
        },
        cron: {
            "get": operation("The repository's crons", {200: array("Cron")}, REPO),
            "post": admin("Add a cron", {201: ref("Cron")}, REPO, "NewCron", conflict=True),
        },
        cron + "/{cron}": {
            "get": operation("A cron", {200: ref("Cron")}, [*REPO, path("cron")]),
            "patch": admin("Change a cron", {200: ref("Cron")}, [*REPO, path("cron")], "CronChanges"),
            "delete": admin("Delete a cron", {204: None}, [*REPO, path("cron")]),
            "post": operation(
                "Build the cron now",
                {201: ref("BuildDetail")},
                [*REPO, path("cron")],
                security=SIGNED_IN,
                errors=STARTS,
            ),
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
