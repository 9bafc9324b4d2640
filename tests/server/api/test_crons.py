"""Cron schedules over the API, and the worker's tick that builds the due ones: once per due time, once for
all the times missed, never twice when two workers tick together (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlmodel import select

from server.actions import starts
from server.actions.crons import fire_due_crons
from server.db.models import Build, Cron
from server.services import Services
from server.store.crons import find_cron
from tests.server.api.conftest import RecordingClient
from tests.server.api.seed import add_repo, add_user
from tests.server.conftest import admin_headers
from tests.server.support import PushedRepo

NIGHTLY = """\
kind: pipeline
name: nightly
trigger: {event: [cron], cron: [nightly]}
steps:
  - name: report
    image: busybox
    commands: [echo nightly]
---
kind: pipeline
name: test
trigger: {event: [push]}
steps:
  - name: test
    image: busybox
    commands: [echo test]
"""
CRON = "/api/repos/octo/app/cron"
ADMIN = admin_headers()


async def registered(hangar: Services, tmp_path: Path) -> PushedRepo:
    """octo/app with the pipelines pushed to main."""
    pushed = PushedRepo(tmp_path / "git")
    pushed.push({".ci.yml": NIGHTLY}, "pipelines")
    await add_repo(hangar, "octo", "app", clone_url=str(pushed.bare))
    return pushed


async def test_crons_are_added_listed_changed_run_and_removed(
    api: RecordingClient, hangar: Services, tmp_path: Path
) -> None:
    pushed = await registered(hangar, tmp_path)
    added = await api.post(CRON, json={"name": "nightly", "expr": "0 3 * * *"}, headers=ADMIN)
    assert added.status_code == 201, added.text
    cron = added.json()
    assert (cron["name"], cron["expr"], cron["branch"], cron["disabled"]) == (
        "nightly",
        "0 3 * * *",
        "",
        False,
    )
    assert time.time() < cron["next"] <= time.time() + 24 * 3600 and cron["next"] % 86400 == 3 * 3600
    assert (
        await api.post(CRON, json={"name": "nightly", "expr": "@daily"}, headers=ADMIN)
    ).status_code == 409
    assert [c["name"] for c in (await api.get(CRON)).json()] == ["nightly"]

    run = await api.post(f"{CRON}/nightly", headers=await add_user(hangar, "jane"))
    assert run.status_code == 201, run.text
    build = run.json()
    assert (build["event"], build["cron"], build["sha"], build["branch"]) == (
        "cron", "nightly", pushed.head, "main",
    )  # fmt: skip
    assert [stage["name"] for stage in build["stages"]] == ["nightly"], "trigger: cron: [nightly] honoured"

    changed = await api.patch(f"{CRON}/nightly", json={"disabled": True, "branch": "main"}, headers=ADMIN)
    assert (changed.json()["disabled"], changed.json()["branch"]) == (True, "main")
    assert (await api.delete(f"{CRON}/nightly", headers=ADMIN)).status_code == 204
    assert (await api.get(f"{CRON}/nightly")).status_code == 404


async def test_a_bad_cron_is_refused_naming_the_field(api: RecordingClient, hangar: Services) -> None:
    await add_repo(hangar, "octo", "app")
    for body, says in (
        ({"name": "x", "expr": "61 * * * *"}, "expr"),
        ({"name": "x", "expr": "* * *"}, "has 3 fields"),
        ({"name": "no spaces", "expr": "@daily"}, "name"),
    ):
        answer = await api.post(CRON, json=body, headers=ADMIN)
        assert answer.status_code == 400 and says in answer.json()["error"], answer.text
    jane = await add_user(hangar, "jane")
    assert (await api.post(CRON, json={"name": "x", "expr": "@daily"}, headers=jane)).status_code == 403


async def test_a_due_cron_builds_once_and_once_only_for_the_times_it_missed(
    api_each_db: RecordingClient, hangar_each_db: Services, tmp_path: Path
) -> None:
    hangar = hangar_each_db
    await registered(hangar, tmp_path)
    added = await api_each_db.post(CRON, json={"name": "nightly", "expr": "* * * * *"}, headers=ADMIN)
    due = added.json()["next"]
    assert await fire_due_crons(hangar, now=due - 1) == [], "not due yet"
    three_missed = due + 3 * 60 + 5
    together = await asyncio.gather(*(fire_due_crons(hangar, now=three_missed) for _ in range(3)))
    assert sorted(len(built) for built in together) == [0, 0, 1], "several workers: built once"
    (build,) = [build for built in together for build in built]
    assert (build.event, build.cron) == ("cron", "nightly")
    async with hangar.reading() as session:
        cron = await find_cron(session, 1, "nightly")
        builds = list(await session.exec(select(Build)))
    assert cron is not None and (cron.prev_run, cron.next_run) == (three_missed, due + 4 * 60)
    assert len(builds) == 1, "the three missed minutes make one build, not three"
    assert await fire_due_crons(hangar, now=three_missed + 1) == []


async def test_a_disabled_cron_does_not_build_and_enabled_again_skips_what_it_missed(
    api: RecordingClient, hangar: Services, tmp_path: Path
) -> None:
    await registered(hangar, tmp_path)
    await api.post(CRON, json={"name": "nightly", "expr": "* * * * *", "disabled": True}, headers=ADMIN)
    assert await fire_due_crons(hangar, now=time.time() + 3600) == []
    enabled = await api.patch(f"{CRON}/nightly", json={"disabled": False}, headers=ADMIN)
    assert time.time() < enabled.json()["next"] <= time.time() + 60


async def test_a_cron_of_a_branch_that_is_gone_builds_nothing_and_stays_scheduled(
    api: RecordingClient, hangar: Services, tmp_path: Path
) -> None:
    await registered(hangar, tmp_path)
    await api.post(CRON, json={"name": "old", "expr": "* * * * *", "branch": "gone"}, headers=ADMIN)
    async with hangar.reading() as session:
        cron = (await session.exec(select(Cron))).one()
    assert await fire_due_crons(hangar, now=cron.next_run) == []
    async with hangar.reading() as session:
        again = (await session.exec(select(Cron))).one()
    assert again.next_run == cron.next_run + 60, "moved on: it does not retry every tick"


async def test_a_worker_that_dies_while_making_the_build_leaves_the_due_time_to_the_next_tick(
    api: RecordingClient, hangar: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await registered(hangar, tmp_path)
    added = await api.post(CRON, json={"name": "nightly", "expr": "* * * * *"}, headers=ADMIN)
    due = added.json()["next"]

    async def dies(*_: object, **__: object) -> Build:
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(starts, "new_build", dies)
    with pytest.raises(RuntimeError):
        await fire_due_crons(hangar, now=due + 1)
    monkeypatch.undo()
    async with hangar.reading() as session:
        cron = await find_cron(session, 1, "nightly")
    assert cron is not None and cron.next_run == due, "the claim went with the build that was never made"
    (build,) = await fire_due_crons(hangar, now=due + 2)
    assert (build.event, build.cron) == ("cron", "nightly")
