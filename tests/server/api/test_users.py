"""`/api/users` and `/api/user`: administrators add people; people change their own password."""

from __future__ import annotations

import httpx

from server.services import Services
from server.sessions import COOKIE, CSRF_HEADER
from server.store.users import find_user
from tests.server.conftest import admin_headers
from tests.server.web.conftest import PASSWORD, add_person, sign_in


async def test_an_administrator_adds_a_person_who_can_then_sign_in(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    body = {"login": "zoe", "password": "a long password", "email": "zoe@example.com"}
    answer = await client.post("/api/users", json=body, headers=admin_headers())
    assert answer.status_code == 201 and answer.json() == {
        "login": "zoe",
        "email": "zoe@example.com",
        "admin": False,
    }
    async with hangar.reading() as session:
        zoe = await find_user(session, "zoe")
    assert zoe is not None and "a long password" not in zoe.password_hash
    assert (await client.post("/api/users", json=body, headers=admin_headers())).status_code == 409
    short = await client.post(
        "/api/users", json=body | {"login": "yan", "password": "short"}, headers=admin_headers()
    )
    assert short.status_code == 400
    listed = await client.get("/api/users", headers=admin_headers())
    assert "zoe" in [user["login"] for user in listed.json()]
    await sign_in(client, "zoe", "a long password")
    assert (
        await client.post("/api/users", json=body | {"login": "x"})
    ).status_code == 403  # not without CSRF
    assert (await client.get("/api/users")).status_code == 403  # and not for non-administrators


async def test_changing_the_password_ends_every_other_session(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_person(hangar, "ann")
    stolen = (await sign_in(client, "ann")).http.cookies[COOKIE]
    client.cookies.clear()
    person = await sign_in(client, "ann")
    change = {"current": PASSWORD, "new": "a brand new password"}
    wrong = await client.patch(
        "/api/user", json=change | {"current": "nope"}, headers={CSRF_HEADER: person.csrf}
    )
    assert wrong.status_code == 403
    answer = await client.patch("/api/user", json=change, headers={CSRF_HEADER: person.csrf})
    assert answer.status_code == 200
    assert (await client.get("/api/user")).status_code == 200  # this browser stays signed in
    client.cookies.set(COOKIE, stolen)
    assert (await client.get("/api/user")).status_code == 401  # the other one is out
    client.cookies.clear()
    await sign_in(client, "ann", "a brand new password")
