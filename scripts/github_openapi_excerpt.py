#!/usr/bin/env python3
"""Regenerate tests/server/forges/standin/github.openapi.json: the operations of GitHub's REST API that Hangar
calls, cut from GitHub's official OpenAPI description (the npm package @octokit/openapi), with every component
they refer to.

    cd "$(mktemp -d)" && npm pack @octokit/openapi && tar xzf octokit-openapi-*.tgz
    .venv/bin/python scripts/github_openapi_excerpt.py "$OLDPWD/package/generated/api.github.com.json"

The stand-in GitHub of the tests checks every request Hangar sends, and every answer it gives, against it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = (
    "users/get-authenticated",
    "repos/list-for-authenticated-user",
    "repos/get",
    "orgs/list-for-authenticated-user",
    "repos/create-webhook",
    "repos/get-webhook",
    "repos/delete-webhook",
    "repos/create-commit-status",
)
"""GitHub's operation ids of the calls Hangar makes (server/forges/github_api.py, server/notify/)."""
OUTPUT = (
    Path(__file__).resolve().parents[1] / "tests" / "server" / "forges" / "standin" / "github.openapi.json"
)


def excerpt(document: dict[str, Any], operations: tuple[str, ...]) -> dict[str, Any]:
    """The description with only `operations` and the components they refer to (transitively)."""
    paths: dict[str, Any] = {}
    for path, item in document["paths"].items():
        kept = {
            method: op
            for method, op in item.items()
            if isinstance(op, dict) and op.get("operationId") in operations
        }
        if kept:
            shared = {key: value for key, value in item.items() if key == "parameters"}
            paths[path] = shared | kept
    found = {
        op["operationId"]
        for item in paths.values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    missing = set(operations) - found
    if missing:
        raise SystemExit(f"operations not in the description: {', '.join(sorted(missing))}")
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    while pending:
        ref = pending.pop()
        _hash, _components, kind, name = ref.split("/", 3)
        if name in components.get(kind, {}):
            continue
        value = document["components"][kind][name]
        components.setdefault(kind, {})[name] = value
        pending.extend(_refs(value))
    info = document["info"]
    return {
        "openapi": document["openapi"],
        "info": {
            "title": info["title"],
            "version": info["version"],
            "description": "An excerpt: " + ", ".join(operations),
        },
        "servers": document["servers"],
        "paths": dict(sorted(paths.items())),
        "components": {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())},
    }


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [ref for child in value.values() for ref in _refs(child)]
    if isinstance(value, list):
        return [ref for child in value for ref in _refs(child)]
    return []


def main() -> None:
    """Read the full description named on the command line; write the excerpt."""
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    document = json.loads(Path(sys.argv[1]).read_text())
    OUTPUT.write_text(json.dumps(excerpt(document, OPERATIONS), indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
