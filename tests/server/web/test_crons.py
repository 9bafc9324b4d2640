"""Cron schedules on the settings page: added, listed with their next run, disabled and enabled, deleted,
run now; a wrong expression explained beside the form."""

from __future__ import annotations

import re

import httpx

from server.services import Services
from server.store.builds import find_build
from server.store.crons import find_cron
from tests.server.support import PushedRepo
from tests.server.web.conftest import Person, add_person, sign_in

PIPELINE = """\
kind: pipeline
name: nightly
steps:
  - name: hello
    image: busybox
    commands: [echo hi]
"""


async def admin(client: httpx.AsyncClient, hangar: Services) -> Person:
    await add_person(hangar, "root", admin=True)
    return await sign_in(client, "root")


async def add(client: httpx.AsyncClient, person: Person, **fields: str) -> httpx.Response:
    return await client.post("/octo/app/settings/crons", data={"csrf": person.csrf} | fields)


async def test_a_cron_is_added_and_listed_with_its_next_run_in_utc(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    person = await admin(client, hangar)
    assert "No cron schedules yet." in (await client.get("/octo/app/settings")).text
    answer = await add(client, person, name="nightly", expr="0 3 * * *", branch="")
    assert answer.status_code == 303 and answer.headers["location"].endswith("/settings?saved#crons")
    page = (await client.get("/octo/app/settings")).text
    row = page[page.index('id="cron-nightly"') : page.index("</tr>", page.index('id="cron-nightly"'))]
    assert "<code>0 3 * * *</code>" in row and "main" in row and "(default)" in row
    assert re.search(r">\d{4}-\d\d-\d\d 03:00 UTC</time>", row), row
    for verb in ("run", "disable", "delete"):
        assert f'action="/octo/app/settings/crons/nightly/{verb}"' in row


async def test_a_wrong_cron_is_explained_beside_the_form_filled_in(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    person = await admin(client, hangar)
    answer = await add(client, person, name="broken", expr="61 * * * *", branch="dev")
    assert answer.status_code == 400
    problem = answer.text[answer.text.index('id="cron-problem"') :].split("</p>")[0]
    assert "is not a valid cron expression" in problem.replace("&#39;", "'")
    for sent in ('value="broken"', 'value="61 * * * *"', 'value="dev"'):
        assert sent in answer.text
    fields = await add(client, person, name="short", expr="0 3 * *")
    assert fields.status_code == 400 and "has 4 fields: write five" in fields.text
    assert (await add(client, person, name="twice", expr="@daily")).status_code == 303
    taken = await add(client, person, name="twice", expr="@hourly")
    assert taken.status_code == 409 and "has a cron named" in taken.text
    async with hangar.reading() as session:
        assert await find_cron(session, 1, "broken") is None


async def test_a_cron_is_disabled_enabled_run_now_and_deleted(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    _before, sha = pushed.push({".ci.yml": PIPELINE})
    person = await admin(client, hangar)
    await add(client, person, name="nightly", expr="@daily")
    base, form = "/octo/app/settings/crons/nightly", {"csrf": person.csrf}
    assert (await client.post(f"{base}/disable", data=form)).status_code == 303
    page = (await client.get("/octo/app/settings")).text
    assert '<span class="tag">disabled</span>' in page and f'action="{base}/enable"' in page
    assert (await client.post(f"{base}/enable", data=form)).status_code == 303
    async with hangar.reading() as session:
        cron = await find_cron(session, 1, "nightly")
    assert cron is not None and not cron.disabled
    ran = await client.post(f"{base}/run", data=form)
    assert ran.status_code == 303 and ran.headers["location"] == "/octo/app/1"
    async with hangar.reading() as session:
        build = await find_build(session, 1, 1)
    assert build is not None and (build.event, build.cron, build.sha) == ("cron", "nightly", sha)
    listed = (await client.get("/octo/app")).text
    assert 'cron <span class="muted">(nightly)</span>' in listed
    assert (await client.post(f"{base}/delete", data=form)).status_code == 303
    assert "No cron schedules yet." in (await client.get("/octo/app/settings")).text
    gone = await client.post(f"{base}/run", data=form)
    assert gone.status_code == 404 and "has no cron" in gone.text and 'id="crons"' in gone.text


async def test_only_administrators_change_crons(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    root = await admin(client, hangar)
    await add(client, root, name="nightly", expr="@daily")
    client.cookies.clear()
    await add_person(hangar, "ann")
    ann = await sign_in(client, "ann")
    assert (await add(client, ann, name="mine", expr="@daily")).status_code == 403
    for verb in ("disable", "delete", "run"):
        answer = await client.post(f"/octo/app/settings/crons/nightly/{verb}", data={"csrf": ann.csrf})
        assert answer.status_code == 403, verb
    async with hangar.reading() as session:
        cron = await find_cron(session, 1, "nightly")
    assert cron is not None and not cron.disabled
