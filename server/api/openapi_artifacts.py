"""The OpenAPI description of artifacts: a build's list and files, and the runner's upload (`openapi.py`
merges them into the description)."""

from __future__ import annotations

from pipelines.runner_api import ArtifactInfo
from server.api.openapi_parts import (
    BUILD,
    Schema,
    answer,
    array,
    operation,
    param,
    path,
    query,
    runner,
)
from server.api.openapi_schemas import INTEGER, NUMBER, STRING, fields_schema, object_schema, ref

ARTIFACT_ANSWERS: dict[str, Schema] = {
    "Artifact": object_schema(
        {
            "path": STRING,
            "size": INTEGER,
            "sha256": STRING,
            "stage": INTEGER,
            "step": INTEGER,
            "created": NUMBER,
            "link": {"type": "string", "description": "where to download it"},
        }
    ),
    "ArtifactInfo": object_schema(fields_schema(ArtifactInfo)),
}
BINARY: Schema = {"type": "string", "format": "binary"}


def artifacts_paths() -> dict[str, Schema]:
    """The paths, by address."""
    artifacts = "/api/repos/{owner}/{name}/builds/{number}/artifacts"
    download = operation(
        "One artifact's bytes (an attachment)", {}, [*BUILD, path("path")], errors=(400, 401, 404)
    )
    download["responses"]["200"] = {"description": "the file", "content": {"*/*": {"schema": BINARY}}}
    upload = runner("A step's file, streamed, with its SHA-256", {201: ref("ArtifactInfo")})
    upload["parameters"] += [
        param("X-Hangar-Checksum", "header", STRING, "the body's SHA-256 (hex)"),
        {**query("step", {"type": "integer", "minimum": 0}), "required": True},
        {**query("path", STRING, "the file's path in the workspace"), "required": True},
    ]
    upload["requestBody"] = {"required": True, "content": {"application/octet-stream": {"schema": BINARY}}}
    upload["responses"]["400"] = answer(400, ref("Error"), "checksum mismatch or a body that ended early")
    return {
        artifacts: {"get": operation("The build's artifacts", {200: array("Artifact")}, BUILD)},
        artifacts + "/{path}": {"get": download},
        "/api/runner/stages/{stage_id}/artifacts": {"put": upload},
    }
