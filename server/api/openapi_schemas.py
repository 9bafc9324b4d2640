"""The objects of the JSON API as OpenAPI schemas: the request and runner models (from pydantic) and the
answers (plain dicts, see `views.py`, described by hand but for a build's cause; a secret's value never
appears)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pipelines import BuildCause
from pipelines.report import StageReport, StepReport
from pipelines.runner_api import (
    AcceptRequest,
    Assignment,
    BatchAck,
    LeaseReply,
    LogAck,
    LogBatch,
    ReportBatch,
    RunnerInfo,
    StageOffer,
    TestBatch,
)
from pipelines.status import Status
from server.actions.crons import CronChanges, NewCron
from server.actions.repos import NewRepo, RepoSettings
from server.actions.secrets import NewSecret, SecretChanges
from server.api.runners import NewRunner
from server.api.signing import SignRequest
from server.api.users import NewUser, PasswordChange
from server.api.views import BUILD_FORMER_KEYS

Schema = dict[str, Any]
MODELS: tuple[type[BaseModel], ...] = (
    NewUser,
    PasswordChange,
    NewRepo,
    RepoSettings,
    NewSecret,
    SecretChanges,
    NewCron,
    CronChanges,
    SignRequest,
    NewRunner,
    RunnerInfo,
    AcceptRequest,
    StepReport,
    StageReport,
    LogBatch,
    ReportBatch,
    TestBatch,
    StageOffer,
    Assignment,
    LeaseReply,
    LogAck,
    BatchAck,
)


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def object_schema(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {"type": "object", "required": list(required), "properties": required | (optional or {})}


def fields_schema(model: type[BaseModel]) -> dict[str, Schema]:
    """Each field of `model` as an answer shows it: its JSON type and its description."""
    properties: dict[str, Schema] = model.model_json_schema(mode="serialization")["properties"]
    return {
        name: {key: value for key, value in schema.items() if key not in ("title", "default")}
        for name, schema in properties.items()
    }


STRING: Schema = {"type": "string"}
NUMBER: Schema = {"type": "number"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": ["number", "null"], "description": "Unix seconds"}
STATUS: Schema = {"type": "string", "enum": [status.value for status in Status]}
STRINGS: Schema = {"type": "array", "items": STRING}

ANSWERS: dict[str, Schema] = {
    "Error": object_schema({"error": STRING}),
    "User": object_schema({"login": STRING, "email": STRING, "admin": BOOLEAN}),
    "Repo": object_schema(
        {
            "owner": STRING,
            "name": STRING,
            "slug": STRING,
            "forge": STRING,
            "link": STRING,
            "default_branch": STRING,
            "private": BOOLEAN,
            "timeout": INTEGER,
            "counter": INTEGER,
        },
        {
            "clone_url": STRING,
            "api_url": STRING,
            "clone_login": STRING,
            "email_recipients": STRINGS,
            "email_policy": STRING,
            "trusted": BOOLEAN,
            "config_path": STRING,
            "approval": {"type": "string", "enum": ["none", "forks", "pull_requests", "all"]},
            "protected": BOOLEAN,
            "cache_auto": BOOLEAN,
            "created": NUMBER,
            "webhook_secret_set": BOOLEAN,
            "api_token_set": BOOLEAN,
            "clone_password_set": BOOLEAN,
            "webhook_secret": {"type": "string", "description": "only when registering, if Hangar made it"},
        },
    ),
    "ForgeRepo": object_schema(
        {
            "id": STRING,
            "owner": STRING,
            "name": STRING,
            "clone_url": STRING,
            "link": STRING,
            "private": BOOLEAN,
            "default_branch": STRING,
            "permission": {"type": "string", "enum": ["none", "read", "write", "admin"]},
            "active": BOOLEAN,
        }
    ),
    "Build": object_schema(
        {
            "number": INTEGER,
            "status": STATUS,
            "error": STRING,
            "parent": INTEGER,
            "created": NUMBER,
            "started": TIME,
            "finished": TIME,
        }
        | fields_schema(BuildCause)
        | {
            key: STRING | {"deprecated": True, "description": f"the same as `{field}`, its former name"}
            for key, field in BUILD_FORMER_KEYS.items()
        },
    ),
    "BuildStep": object_schema(
        {
            "number": INTEGER,
            "name": STRING,
            "status": STATUS,
            "exit_code": {"type": ["integer", "null"]},
            "error": STRING,
            "started": TIME,
            "finished": TIME,
            "log_lines": INTEGER,
        },
    ),
    "BuildStage": object_schema(
        {
            "number": INTEGER,
            "name": STRING,
            "status": STATUS,
            "error": STRING,
            "runner": STRING,
            "started": TIME,
            "finished": TIME,
            "depends_on": STRINGS,
            "steps": {"type": "array", "items": ref("BuildStep")},
            "waiting": {
                "type": "string",
                "description": "why a pending stage waits for its pipeline's concurrency limit, else empty",
            },
        },
    ),
    "BuildDetail": {
        "allOf": [
            ref("Build"),
            object_schema(
                {"stages": {"type": "array", "items": ref("BuildStage")}},
                {
                    "tests": {"anyOf": [ref("TestCounts"), {"type": "null"}]},
                    "infrastructure": {
                        "type": "string",
                        "description": "why a failed build failed outside its code (`out of memory`, …)",
                    },
                },
            ),
        ]
    },
    "Cron": object_schema(
        {
            "name": STRING,
            "expr": STRING,
            "branch": STRING,
            "disabled": BOOLEAN,
            "next": {"type": "number", "description": "when it is next due, Unix seconds"},
            "prev": TIME,
            "created": NUMBER,
            "updated": NUMBER,
        }
    ),
    "Signed": object_schema({"data": {"type": "string", "description": "the file, signed"}}),
    "LogLine": object_schema({"pos": INTEGER, "time": NUMBER, "out": STRING}),
    "LogSearch": object_schema({"matches": {"type": "array", "items": INTEGER}, "truncated": BOOLEAN}),
    "Secret": object_schema({"name": STRING, "pull_request": BOOLEAN, "created": NUMBER}),
    "Runner": object_schema({"name": STRING, "created": NUMBER, "last_seen": TIME}),
    "RunnerWithToken": {"allOf": [ref("Runner"), object_schema({"token": STRING})]},
    "Health": object_schema({"ok": BOOLEAN, "problems": STRINGS}),
    "HookAnswer": {
        "type": "object",
        "description": "`message: pong`, `ignored: <reason>`, `duplicate: <delivery>`, or `delivery, queued`",
        "properties": {
            "message": STRING,
            "ignored": STRING,
            "duplicate": STRING,
            "delivery": STRING,
            "queued": BOOLEAN,
        },
    },
}


def components() -> dict[str, Schema]:
    """Every schema: the request and runner models (from pydantic) and the answers."""
    pairs: list[tuple[type[BaseModel], Literal["validation"]]] = [(model, "validation") for model in MODELS]
    _mapping, definitions = models_json_schema(pairs, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Schema] = definitions.get("$defs", {})
    assert not schemas.keys() & ANSWERS.keys(), "an answer's name hides a model's"
    return schemas | ANSWERS
