"""The OpenAPI description of caches: a repository's shared entries and their purge, and the runner API's
lookup, download and upload (`openapi.py` merges them into the description)."""

from __future__ import annotations

from server.api.openapi_parts import REPO, RUNNER_HEADERS, Schema, admin, number, operation, query
from server.api.openapi_schemas import INTEGER, NUMBER, STRING, object_schema, ref

STRINGS_QUERY: Schema = {"type": "array", "items": STRING}
SHA256: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
ARCHIVE: Schema = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
RUNNER: list[dict[str, list[str]]] = [{"runner": []}]

CACHE_ANSWERS: dict[str, Schema] = {
    "CacheEntryInfo": object_schema(
        {"id": INTEGER, "key": STRING, "branch": STRING, "size": INTEGER, "sha256": STRING, "created": NUMBER}
    ),
    "CacheEntry": object_schema(
        {
            "id": INTEGER,
            "key": STRING,
            "branch": STRING,
            "size": INTEGER,
            "sha256": STRING,
            "runner": {"type": "string", "description": "the runner that saved it"},
            "created": NUMBER,
            "last_used": NUMBER,
        }
    ),
    "CachePurge": object_schema(
        {
            "generation": {"type": "integer", "description": "the repository's cache generation from now on"},
            "removed": {"type": "integer", "description": "shared entries removed"},
            "size": {"type": "integer", "description": "bytes they took"},
        }
    ),
}


def caches_paths() -> dict[str, Schema]:
    """The paths, by address."""
    stage = [number("stage_id"), *RUNNER_HEADERS]
    key = {**query("key", {"type": "string", "minLength": 1, "maxLength": 500}), "required": True}
    lookup = operation(
        "The best shared entry for the key on the branches the stage may read (204: none)",
        {200: ref("CacheEntryInfo"), 204: None},
        [*stage, key, query("prefix", STRINGS_QUERY), query("branch", STRINGS_QUERY)],
        security=RUNNER,
        errors=(400, 401, 404, 409),
    )
    download = operation(
        "A shared entry's archive", {200: None}, [*stage, number("entry_id")], security=RUNNER,
        errors=(400, 401, 404, 409),
    )  # fmt: skip
    download["responses"]["200"]["content"] = ARCHIVE
    upload = operation(
        "Keep an archive as the entry of the key on the stage's branch (403: the stage may not save)",
        {201: ref("CacheEntryInfo")},
        [*stage, key, {**query("X-Hangar-Checksum", SHA256), "in": "header", "required": True}],
        security=RUNNER,
        errors=(400, 401, 403, 404, 409, 413),
    )
    upload["requestBody"] = {"required": True, "content": ARCHIVE}
    stages = "/api/runner/stages/{stage_id}/caches"
    return {
        "/api/repos/{owner}/{name}/caches": {
            "get": operation(
                "The repository's shared cache entries, the most recently used first",
                {200: {"type": "array", "items": ref("CacheEntry")}},
                REPO,
            ),
            "delete": admin(
                "Purge the repository's caches (no runner restores an older entry, shared or its own)",
                {200: ref("CachePurge")},
                REPO,
            ),
        },
        stages: {"get": lookup, "put": upload},
        stages + "/{entry_id}": {"get": download},
    }
