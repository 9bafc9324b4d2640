"""The forge token of the user who activated a repository: refreshed before a commit status is sent with it;
a refresh the forge refuses leaves the repository readable and its settings page says its owner must sign
in again."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import col, update

from server.db.models import ForgeAccount
from server.jobs import send_commit_status
from server.services import Services
from server.store.repos import find_repo
from tests.server.accounts.conftest import Browsers
from tests.server.api.seed import StageSeed, add_build
from tests.server.forges.standin.forge import StandinForge


@pytest.fixture
async def worker_context(hangar: Services) -> AsyncIterator[dict[str, Any]]:
    """What the worker hands its jobs."""
    async with httpx.AsyncClient(trust_env=False) as http:
        yield {"hangar": hangar, "http": http, "settings": hangar.settings, "job_try": 1}


async def activated_build(hangar: Services, forge: StandinForge, browsers: Browsers) -> int:
    """carol's public carol/app activated by her (bob may push), with a build: its id."""
    forge.add_repo("carol", "app", "https://forge.example/carol/app.git").access["bob"] = "push"
    carol = await browsers.signed_in("carol")
    answer = await carol.http.post("/api/repos/carol/app", headers={"X-CSRF-Token": carol.csrf})
    assert answer.status_code == 201, answer.text
    async with hangar.reading() as session:
        repo = await find_repo(session, "carol", "app")
    assert repo is not None
    seeded = await add_build(hangar, repo, "success", [StageSeed("test", "success")], finished=5.0)
    return seeded.build.id or 0


async def expire(hangar: Services, forge: StandinForge, login: str) -> None:
    """Let `login`'s access token expire (the forge refuses it; Hangar knows its expiry has passed)."""
    forge.oauth.expire(login)
    async with hangar.transaction() as (session, _changes):
        await session.exec(
            update(ForgeAccount).where(col(ForgeAccount.login) == login).values(expires=time.time() - 1)
        )


async def test_an_expired_token_is_refreshed_before_the_status_is_sent(
    hangar: Services, forge: StandinForge, browsers: Browsers, worker_context: dict[str, Any]
) -> None:
    build_id = await activated_build(hangar, forge, browsers)
    await expire(hangar, forge, "carol")
    assert await send_commit_status(worker_context, build_id, "success", 1) == "sent"
    assert forge.oauth.refreshed == 1
    (status,) = forge.statuses
    assert (status["repo"], status["login"], status["state"]) == ("carol/app", "carol", "success")
    assert status["context"] == "hangar/push"
    assert await send_commit_status(worker_context, build_id, "success", 2) == "sent"
    assert forge.oauth.refreshed == 1, "a fresh token is not refreshed again"


async def test_a_refused_refresh_keeps_the_repository_readable_and_asks_its_owner_to_sign_in_again(
    hangar: Services, forge: StandinForge, browsers: Browsers, worker_context: dict[str, Any]
) -> None:
    build_id = await activated_build(hangar, forge, browsers)
    forge.oauth.refuse_refresh = True
    await expire(hangar, forge, "carol")
    result = await send_commit_status(worker_context, build_id, "failure", 1)
    assert result.startswith("failed: not sent:") and "carol must sign in to Hangar again" in result
    assert forge.statuses == []
    bob, alice = await browsers.signed_in("bob"), await browsers.signed_in("alice")
    assert (await bob.http.get("/api/repos/carol/app/builds/1")).status_code == 200
    assert (await bob.http.get("/carol/app/1")).status_code == 200
    settings = await alice.http.get("/carol/app/settings")
    assert "must sign in again" in settings.text
    forge.oauth.refuse_refresh = False
    await browsers.signed_in("carol")  # signing in again gives the repository a working token
    assert await send_commit_status(worker_context, build_id, "failure", 2) == "sent"
    assert "must sign in again" not in (await alice.http.get("/carol/app/settings")).text
