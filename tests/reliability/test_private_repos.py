"""A private repository's data never reaches a caller who may not see it: every route of the app, every
method, the path spelled several ways; nothing of it in any body or header; nothing changed afterwards."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import unquote

import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.services import Services
from tests.reliability.sweep import (
    Answer,
    asgi_request,
    every_route,
    fill,
    find_secrets,
    path_variants,
)
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo, add_user
from tests.server.conftest import admin_headers

OWNER, NAME = "acme", "secret-plans"
SLUG = f"{OWNER}/{NAME}"
CANARIES = {
    "log": "canary-log-line-7f3a91",
    "message": "canary-commit-message-c0ffee",
    "stage": "canary-stage-name-5150",
    "step": "canary-step-name-4242",
    "branch": "canary-branch-9d1e",
    "email": "canary-author@leak.example",
    "secret value": "canary-secret-value-b16b00b5",
    "secret name": "canary_secret_name_8008",
    "api token": "canary-forge-token-aa55",
    "clone password": "canary-clone-password-77aa",
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WRITE_BODY = json.dumps({"private": False, "name": "x", "value": "y", "password": "p", "trusted": True})
REFUSED = {400, 401, 403, 404, 405}


@dataclass(frozen=True)
class Private:
    """The seeded private repository: the numbers and ids its paths take."""

    app: Starlette
    values: dict[str, str]


@pytest.fixture
async def private(hangar: Services, redis_url: str) -> AsyncIterator[Private]:
    """A private repository with a finished build, stages, steps, log lines, a secret, forge credentials."""
    app = create_app(hangar.settings, redis_url, hangar)
    repo = await add_repo(hangar, OWNER, NAME, private=True)
    stages = [
        StageSeed(CANARIES["stage"], "failure", steps=(("clone", "success"), (CANARIES["step"], "failure"))),
        StageSeed("second", "success", steps=(("clone", "success"),)),
    ]
    seeded = await add_build(
        hangar, repo, "failure", stages, branch=CANARIES["branch"], finished=1_700_000_100.0,
        message=CANARIES["message"], author_email=CANARIES["email"],
    )  # fmt: skip
    await add_lines(hangar, seeded.steps[(1, 2)], ["before", f"the code is {CANARIES['log']}", "after"])
    admin = admin_headers().items()
    secret = json.dumps({"name": CANARIES["secret name"], "value": CANARIES["secret value"]}).encode()
    answer = await asgi_request(app, f"/api/repos/{SLUG}/secrets", "POST", admin, secret)
    assert answer.status == 201, answer.body
    credentials = {"api_token": CANARIES["api token"], "clone_password": CANARIES["clone password"]}
    answer = await asgi_request(app, f"/api/repos/{SLUG}", "PATCH", admin, json.dumps(credentials).encode())
    assert answer.status == 200, answer.body
    stage_id = str(seeded.stages[0].id)
    values = {
        "owner": OWNER, "name": NAME, "number": "1", "stage": "1", "step": "2",
        "secret": CANARIES["secret name"], "stage_id": stage_id, "runner": "any", "path": "hangar.css",
        "cron": "nightly", "key": "tests.test_shop::test_login", "entry_id": "1",
    }  # fmt: skip
    yield Private(app, values)


def addresses(app: Starlette, values: dict[str, str]) -> list[str]:
    """Every route's path for the private repository, spelled several ways, with and without a trailing /."""
    paths: dict[str, None] = {}
    for route in every_route(app.routes):
        for variant in path_variants(values):
            path = fill(route.template, variant)
            paths.update(dict.fromkeys([path, path + "/"]))
        if "step" in route.params:  # the log routes, with their query forms
            base = fill(route.template, values)
            for query in ("?format=text", f"?q={CANARIES['log']}", "?start=0&limit=10"):
                paths[base + query] = None
    return list(paths)


async def sweep(
    private: Private, headers: dict[str, str], methods: tuple[str, ...] = METHODS
) -> dict[tuple[str, str], Answer]:
    """Every address with every method, as the caller with `headers`; each answer within 10 s."""
    answers: dict[tuple[str, str], Answer] = {}
    app = private.app
    for path in addresses(app, private.values):
        for method in methods:
            body = WRITE_BODY.encode() if method in ("POST", "PUT", "PATCH") else b""
            sent = {"content-type": "application/json", **headers}.items()
            async with asyncio.timeout(10):  # an event stream that was not refused would hang here
                answers[(method, path)] = await asgi_request(app, path, method, sent, body, max_body=200_000)
    return answers


def leaks(answers: dict[tuple[str, str], Answer], canaries: dict[str, str]) -> list[str]:
    """Where any canary (one the request did not itself carry) shows in a body or header."""
    found: list[str] = []
    for (method, path), answer in answers.items():
        sent = unquote(path).lower()
        shown = {what: value for what, value in canaries.items() if value.lower() not in sent}
        found += find_secrets({f"{method} {path} ({answer.status})": answer.everything()}, shown.values())
    return found


def redirects(path: str, answer: Answer) -> bool:
    """A redirect to sign in, or to the same path without its trailing slash (which is then refused)."""
    if answer.status not in (302, 303, 307):
        return False
    location = answer.header("location").removeprefix("http://hangar.test")
    return location.startswith("/login") or (path.endswith("/") and location == unquote(path).rstrip("/"))


async def state(app: Starlette) -> list[bytes]:
    """What an administrator reads of the repository: settings, builds, the build, secrets, the log."""
    paths = ("", "/builds", "/builds/1", "/secrets", "/builds/1/logs/1/2")
    admin = admin_headers().items()
    return [(await asgi_request(app, f"/api/repos/{SLUG}{path}", headers=admin)).body for path in paths]


def settings_of(state: list[bytes]) -> tuple[dict[str, object], bytes]:
    """The repository's settings (without its build counter) and its secrets, from `state`."""
    repo = json.loads(state[0])
    repo.pop("counter")
    return repo, state[3]


async def test_an_anonymous_caller_gets_nothing_of_a_private_repository_from_any_route(
    private: Private,
) -> None:
    before = await state(private.app)
    answers = await sweep(private, {})
    print(f"\n{len(answers)} anonymous requests over {len(every_route(private.app.routes))} routes")
    assert leaks(answers, CANARIES | {"the repository's name": NAME}) == []
    wrong = []
    for (method, path), answer in answers.items():
        names_the_repo = OWNER in path.lower() or "%61%63%6d%65" in path.lower()
        if answer.status >= 500 or (
            names_the_repo and answer.status not in REFUSED and not redirects(path, answer)
        ):
            wrong.append(f"{method} {path}: {answer.status} {answer.body[:100]!r}")
        if "/api/runner/" in path and answer.status not in REFUSED and not redirects(path, answer):
            wrong.append(f"{method} {path}: the runner API answered {answer.status} to nobody")
    assert wrong == [], f"{len(wrong)} wrong answers:\n" + "\n".join(wrong[:60])
    assert await state(private.app) == before, "an anonymous request changed the repository"
    assert before[0] and json.loads(before[0])["private"] is True


async def test_a_signed_in_user_reads_the_private_repository_but_never_its_secrets_or_credentials(
    private: Private,
    hangar: Services,
) -> None:
    before = await state(private.app)
    user = await add_user(hangar, "jane")
    answers = await sweep(private, user)
    hidden = {k: CANARIES[k] for k in ("secret value", "secret name", "api token", "clone password")}
    assert leaks(answers, hidden) == []
    log = answers[("GET", f"/api/repos/{SLUG}/builds/1/logs/1/2")]
    assert log.status == 200 and CANARIES["log"].encode() in log.body, "the rules let users read it"
    stream = answers[("GET", f"/api/repos/{SLUG}/builds/1/logs/1/2/stream")]
    assert stream.status == 200 and CANARIES["log"].encode() in stream.body, "streams were read to their end"
    for path in (f"/api/repos/{SLUG}/secrets", f"/{SLUG}/settings"):
        assert answers[("GET", path)].status == 403, path
    server_errors = [f"{m} {p}: {a.status}" for (m, p), a in answers.items() if a.status >= 500]
    assert server_errors == []
    after = await state(private.app)  # users may restart and cancel builds, but not configure anything
    assert settings_of(after) == settings_of(before), "a non-admin changed the settings or the secrets"


async def test_an_administrator_never_reads_a_secret_value_or_a_credential_back(private: Private) -> None:
    answers = await sweep(private, admin_headers(), methods=("GET",))
    hidden = {k: CANARIES[k] for k in ("secret value", "api token", "clone password")}
    assert leaks(answers, hidden) == []
    assert CANARIES["secret name"].encode() in answers[("GET", f"/api/repos/{SLUG}/secrets")].body
