"""The OpenAPI description of test results: a build's tests, a test's history, the flakiest tests, and the
runner's test reports (`openapi.py` merges them into the description)."""

from __future__ import annotations

from server.api.openapi_parts import BUILD, REPO, Schema, array, operation, path, query, runner
from server.api.openapi_schemas import BOOLEAN, INTEGER, NUMBER, STRING, object_schema, ref

OUTCOME: Schema = {"type": "string", "enum": ["passed", "failed", "error", "skipped"]}
NULLABLE_NUMBER: Schema = {"type": ["number", "null"]}
NULLABLE_INTEGER: Schema = {"type": ["integer", "null"]}
COUNTS = object_schema(
    {"passed": INTEGER, "failed": INTEGER, "errors": INTEGER, "skipped": INTEGER, "total": INTEGER}
)

TEST_ANSWERS: dict[str, Schema] = {
    "TestCounts": COUNTS,
    "TestResult": object_schema(
        {
            "key": STRING,
            "suite": STRING,
            "classname": STRING,
            "name": STRING,
            "file": STRING,
            "line": NULLABLE_INTEGER,
            "outcome": OUTCOME,
            "duration": NULLABLE_NUMBER,
            "message": STRING,
            "text": STRING,
            "log_line": NULLABLE_INTEGER,
            "flaky": BOOLEAN,
        }
    ),
    "BuildTests": object_schema(
        {
            "counts": {"anyOf": [ref("TestCounts"), {"type": "null"}]},
            "counted": BOOLEAN,
            "matching": INTEGER,
            "offset": INTEGER,
            "tests": array("TestResult"),
            "suites": {"type": "array", "items": object_schema({"suite": STRING, "counts": COUNTS})},
        }
    ),
    "TestHistory": object_schema(
        {
            "key": STRING,
            "suite": STRING,
            "classname": STRING,
            "name": STRING,
            "branch": STRING,
            "flaky": BOOLEAN,
            "history": {
                "type": "array",
                "items": object_schema(
                    {
                        "build": INTEGER,
                        "sha": STRING,
                        "status": STRING,
                        "outcome": OUTCOME,
                        "duration": NULLABLE_NUMBER,
                        "flaky": BOOLEAN,
                        "created": NUMBER,
                    }
                ),
            },
        }
    ),
    "FlakyTests": object_schema(
        {
            "branch": STRING,
            "flaky": {
                "type": "array",
                "items": object_schema(
                    {"key": STRING, "classname": STRING, "name": STRING, "builds": INTEGER}
                ),
            },
        }
    ),
}


def tests_paths() -> dict[str, Schema]:
    """The paths, by address."""
    repo = "/api/repos/{owner}/{name}"
    page = [
        query("outcome", OUTCOME),
        query("q", STRING, "text in the test's name, class or suite"),
        query("limit", {"type": "integer", "minimum": 1}),
        query("offset", {"type": "integer", "minimum": 0}),
    ]
    branch = query("branch", STRING, "the repository's default branch when absent")
    return {
        repo + "/builds/{number}/tests": {
            "get": operation("The build's tests, failed first", {200: ref("BuildTests")}, [*BUILD, *page])
        },
        repo + "/tests": {
            "get": operation("The flakiest tests of a branch", {200: ref("FlakyTests")}, [*REPO, branch])
        },
        repo + "/tests/{key}": {
            "get": operation(
                "A test's outcome and duration over the last builds of a branch",
                {200: ref("TestHistory")},
                [*REPO, path("key"), branch],
            )
        },
        "/api/runner/stages/{stage_id}/tests": {
            "post": runner("Test results of a step", {200: ref("LogAck")}, "TestBatch")
        },
    }
