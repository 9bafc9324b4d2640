"""Schemathesis against the OpenAPI description, in process over ASGI, on a seeded real app (SQLite, Redis):
every operation, writes included, as the admin, anonymously and (for the runner API) as a runner. No answer is
ever a 5xx, and each answer has a documented status, content type and shape."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pipelines.runner_api import RUNNER_HEADER
from server.api.openapi import openapi_document
from server.db.models import Secret
from server.services import Services
from server.settings import Settings
from server.store.runners import create_runner
from server.store.secrets import save_secret
from tests.server.api.conftest import RecordingClient
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo, add_user
from tests.server.conftest import ADMIN_TOKEN, RUNNER_SECRET, make_settings

SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = {
    result.ok().label: result.ok() for result in SCHEMA.get_all_operations() if isinstance(result, Ok)
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("HANGAR_SCHEMATHESIS_EXAMPLES", "25"))
STREAM_SECONDS = 20.0
IDENTITIES: dict[str, dict[str, str]] = {
    "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
    "anonymous": {},
    "runner": {"Authorization": f"Bearer {RUNNER_SECRET}", RUNNER_HEADER: "fuzzer"},
}


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """The `hangar` fixture's settings, with short long-polls so the runner API's waits stay short."""
    return make_settings(str(tmp_path), sqlite_url, poll_seconds=0.2)


@dataclass(frozen=True)
class World:
    """The seeded objects, as path parameters that find them."""

    paths: dict[str, Any]
    finished_build: int


@pytest.fixture
async def world(hangar: Services) -> World:
    """A public repository with a finished and a running build (stages, steps, log lines), a secret, a user
    and a registered runner."""
    repo = await add_repo(hangar, clone_url=str(Path("/nonexistent/hangar-fuzz.git")))
    done = await add_build(
        hangar, repo, "success", [StageSeed("test", "success", [("clone", "success"), ("unit", "failure")])],
        finished=1_700_000_100.0,
    )  # fmt: skip
    await add_lines(hangar, done.steps[(1, 2)], ["\x1b[31mred\x1b[0m line", "PASS test_a", "FAIL test_b"])
    running = await add_build(hangar, repo, "running", [StageSeed("build"), StageSeed("deploy")])
    await add_user(hangar, "jane")
    async with hangar.transaction() as (session, _changes):
        await create_runner(session, "builder-1", "runner-token-of-builder-1")
        secret = Secret(repo_id=repo.id or 0, name="DEPLOY_KEY", value=hangar.cipher.encrypt("s3cr3t-value"))
        await save_secret(session, secret)
    paths = {
        "owner": repo.owner, "name": repo.name, "number": running.build.number, "stage": 1, "step": 2,
        "secret": "DEPLOY_KEY", "runner": "builder-1", "stage_id": running.stages[0].id, "cron": "nightly",
        "key": "tests.test_shop::test_login", "path": "dist/app.whl", "entry_id": 1,
    }  # fmt: skip
    return World(paths, done.build.number)


def _request(case: schemathesis.Case[Any], identity: str) -> dict[str, Any]:
    """The case as httpx request arguments, with the identity's headers."""
    sent = case.as_transport_kwargs(base_url="http://hangar.test")
    headers = {str(key): str(value) for key, value in (sent.get("headers") or {}).items()}
    headers.pop("User-Agent", None)
    headers |= IDENTITIES[identity]
    request: dict[str, Any] = {
        "method": sent["method"], "url": sent["url"], "headers": headers, "params": sent.get("params"),
    }  # fmt: skip
    if "json" in sent:
        request["json"] = sent["json"]
    elif sent.get("data") is not None:
        data = sent["data"]
        request["content"] = data.encode() if isinstance(data, str) else data
    return request


@pytest.mark.parametrize("label", list(OPERATIONS))
@examples(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@given(data=st.data())
async def test_no_operation_fails_or_answers_off_the_description(
    label: str,
    data: st.DataObject,
    world: World,
    api: RecordingClient,
) -> None:
    operation = OPERATIONS[label]
    mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]), label="mode")
    case = data.draw(operation.as_strategy(generation_mode=mode))
    who = ["admin", "anonymous", *(["runner"] if "/api/runner/" in operation.path else [])]
    identity = data.draw(st.sampled_from(who), label="identity")
    if data.draw(st.booleans(), label="seeded path"):  # half the time at the seeded objects, not 404s
        for name in case.path_parameters or {}:
            case.path_parameters[name] = world.paths[name]
        if operation.path.endswith(("/events", "/stream")):  # a running build's stream never ends
            case.path_parameters["number"] = world.finished_build
    request = _request(case, identity)
    try:
        for value in request["headers"].values():
            value.encode("latin-1")
    except UnicodeEncodeError:
        assume(False)  # not sendable over HTTP/1.1
    async with asyncio.timeout(STREAM_SECONDS):
        response = await api.request(**request)
    case.validate_response(response, checks=CHECKS)
