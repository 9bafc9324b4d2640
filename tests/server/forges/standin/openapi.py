"""Requests and answers checked against an OpenAPI description (openapi-core), and answers made from its
examples: what a stand-in forge says is what the real one documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

HERE = Path(__file__).parent


class Description:
    """One OpenAPI description: its examples, and the problems of requests and answers checked against it."""

    def __init__(self, path: Path, host_url: str) -> None:
        self.document: dict[str, Any] = json.loads(path.read_text())
        self.openapi = OpenAPI.from_dict(self.document)
        self.host_url = host_url
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> bool:
        """Whether the request is one the description allows (its problem kept otherwise)."""
        request = MockRequest(
            self.host_url, method, path, args=query, headers=headers, data=body or None,
            content_type=headers.get("content-type", "application/json").split(";")[0],
        )  # fmt: skip
        try:
            self.openapi.validate_request(request)
        except Exception as exc:
            self.problems.append(f"request {method} {path}: {_reason(exc)}")
            return False
        self.checked.append(f"{method} {path}")
        return True

    def check_response(self, method: str, path: str, query: dict[str, str], status: int, body: Any) -> None:
        """Keep the problem when the answer is not one the description documents."""
        request = MockRequest(self.host_url, method, path, args=query)
        data = b"" if body is None else json.dumps(body).encode()
        response = MockResponse(data, status_code=status, content_type="application/json" if data else "")
        try:
            self.openapi.validate_response(request, response)
        except Exception as exc:
            self.problems.append(f"answer {status} to {method} {path}: {_reason(exc)}")

    def example(self, path: str, method: str, status: str = "200") -> Any:
        """A copy of the operation's first documented example answer, with what its schema requires and the
        example lacks filled in (GitHub's examples are not all complete)."""
        content = self.document["paths"][path][method]["responses"][status]["content"]["application/json"]
        example = next(iter(content["examples"].values()))
        if "$ref" in example:
            example = self.document["components"]["examples"][example["$ref"].rsplit("/", 1)[1]]
        return self.complete(copy.deepcopy(example["value"]), content["schema"])

    def complete(self, value: Any, schema: dict[str, Any]) -> Any:
        """`value` with every property its schema requires (null where allowed, else an empty value)."""
        schema = self.resolve(schema)
        if "oneOf" in schema or "anyOf" in schema:
            return self.complete(value, (schema.get("oneOf") or schema["anyOf"])[0])
        if isinstance(value, list):
            return [self.complete(item, schema.get("items", {})) for item in value]
        if not isinstance(value, dict):
            return value
        properties: dict[str, Any] = {}
        for part in [schema, *(self.resolve(part) for part in schema.get("allOf", []))]:
            properties |= part.get("properties", {})
            for name in part.get("required", []):
                if name not in value:
                    value[name] = self.empty(properties.get(name, {}))
        for name, item in value.items():
            if name in properties:
                value[name] = self.complete(item, properties[name])
        return value

    def empty(self, schema: dict[str, Any]) -> Any:
        """The plainest value a schema allows."""
        schema = self.resolve(schema)
        if schema.get("nullable"):
            return None
        if "enum" in schema:
            return schema["enum"][0]
        if "oneOf" in schema or "anyOf" in schema:
            return self.empty((schema.get("oneOf") or schema["anyOf"])[0])
        kind = schema.get("type", "object")
        if kind == "string":
            return "2020-01-01T00:00:00Z" if schema.get("format") == "date-time" else ""
        plain: dict[str, Any] = {"integer": 0, "number": 0, "boolean": False, "array": []}
        return plain[kind] if kind in plain else self.complete({}, schema)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The schema a `$ref` names (or the schema itself)."""
        while "$ref" in schema:
            _hash, _components, kind, name = schema["$ref"].split("/", 3)
            schema = self.document["components"][kind][name]
        return schema


def _reason(exc: Exception) -> str:
    details = [str(exc)]
    cause: BaseException | None = exc
    while cause is not None:
        for error in getattr(cause, "schema_errors", ()) or ():
            details.append(getattr(error, "message", str(error))[:300])
        cause = cause.__cause__ or cause.__context__
    return "; ".join(detail[:300] for detail in dict.fromkeys(details))
