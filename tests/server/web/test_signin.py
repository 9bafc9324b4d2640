"""Signing in with a password, sessions and their CSRF tokens, signing out."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlmodel import col, select, update

from server.db.models import Token, User
from server.services import Services
from server.sessions import COOKIE
from server.store.users import find_user
from tests.server.conftest import admin_headers
from tests.server.test_crypto import LEGACY_SCRYPT_HASH, argon2_cffi_default_hash, weak_argon2id_hash
from tests.server.web.conftest import PASSWORD, add_person, csrf_of, sign_in


async def test_the_right_password_signs_in_and_the_session_works_for_pages_and_the_api(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    cookie = client.cookies[COOKIE]
    answer = await client.get("/api/user")
    assert answer.json()["login"] == "ann"
    assert "ann" in (await client.get("/")).text
    async with hangar.reading() as session:
        user = await find_user(session, "ann")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert cookie not in str(await _token_hashes(hangar))  # the session is stored hashed
    assert person.csrf


async def test_a_wrong_password_or_unknown_login_is_refused_alike(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_person(hangar, "ann")
    for login, password in (("ann", "wrong password"), ("nobody", PASSWORD)):
        answer = await client.post("/login", data={"login": login, "password": password})
        assert answer.status_code == 401
        assert "Wrong login or password" in answer.text
        assert COOKIE not in client.cookies
    assert (await client.get("/api/user")).status_code == 401


async def test_a_user_without_a_password_cannot_sign_in(client: httpx.AsyncClient, hangar: Services) -> None:
    async with hangar.transaction() as (session, _changes):
        session.add(User(login="bot"))
    answer = await client.post("/login", data={"login": "bot", "password": ""})
    assert answer.status_code == 401


async def test_signing_in_returns_to_a_local_page_only(client: httpx.AsyncClient, hangar: Services) -> None:
    await add_person(hangar, "ann")
    for target, expected in (
        ("/octo/hello/3", "/octo/hello/3"),
        ("//evil.example", "/"),
        ("https://x.y", "/"),
    ):
        answer = await client.post("/login", data={"login": "ann", "password": PASSWORD, "next": target})
        assert answer.headers["location"] == expected


async def test_signing_out_needs_the_csrf_token_and_ends_the_session_for_good(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    cookie = client.cookies[COOKIE]
    refused = await client.post("/logout", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert (await client.get("/api/user")).status_code == 200
    answer = await client.post("/logout", data={"csrf": person.csrf})
    assert answer.status_code == 303
    client.cookies.set(COOKIE, cookie)  # the old cookie, replayed
    assert (await client.get("/api/user")).status_code == 401


async def test_an_expired_session_is_anonymous(client: httpx.AsyncClient, hangar: Services) -> None:
    await add_person(hangar, "ann")
    await sign_in(client, "ann")
    async with hangar.transaction() as (session, _changes):
        expire = update(Token).where(col(Token.kind) == "session").values(expires=time.time() - 1)
        await session.exec(expire)
    assert (await client.get("/api/user")).status_code == 401
    assert "Sign in" in (await client.get("/")).text


async def test_the_admin_password_setting_signs_the_admin_in(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    from server.bootstrap import bootstrap

    hangar.settings.admin_password = "bootstrap-password"
    await bootstrap(hangar)
    person = await sign_in(client, "admin", "bootstrap-password")
    assert "(admin)" in (await person.http.get("/")).text
    assert csrf_of((await person.http.get("/")).text) == person.csrf


async def _token_hashes(hangar: Services) -> list[str]:
    async with hangar.reading() as session:
        return [token.token_hash for token in (await session.exec(select(Token))).all()]


async def test_an_unknown_login_costs_a_password_check_too(
    client: httpx.AsyncClient, hangar: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.crypto import PasswordCheck
    from server.crypto import check_password as real
    from server.web import signin

    checked: list[str] = []

    def counting(password: str, stored: str) -> PasswordCheck:
        checked.append(password)
        return real(password, stored)

    monkeypatch.setattr(signin, "check_password", counting)
    answer = await client.post("/login", data={"login": "nobody", "password": "guess"})
    assert answer.status_code == 401 and checked == ["guess"]  # as long as for a wrong password


async def test_a_signed_in_visitor_mistyping_another_password_is_told_so(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_person(hangar, "ann")
    await add_person(hangar, "bob")
    await sign_in(client, "ann")
    answer = await client.post("/login", data={"login": "bob", "password": "wrong"})
    assert answer.status_code == 401 and "Wrong login or password" in answer.text


async def test_another_site_cannot_sign_the_visitor_in(client: httpx.AsyncClient, hangar: Services) -> None:
    await add_person(hangar, "ann")
    form = {"login": "ann", "password": PASSWORD}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        answer = await client.post("/login", data=form, headers=headers)
        assert answer.status_code == 403, headers
        assert COOKIE not in client.cookies
    same = await client.post("/login", data=form, headers={"Origin": "http://hangar.test"})
    assert same.status_code == 303


async def test_signing_in_again_replaces_the_session_the_browser_came_with(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_person(hangar, "ann")
    await sign_in(client, "ann")
    first = client.cookies[COOKIE]
    await sign_in(client, "ann")
    assert client.cookies[COOKIE] != first
    client.cookies.set(COOKIE, first)
    assert (await client.get("/api/user")).status_code == 401


async def test_a_nul_in_a_form_is_refused(client: httpx.AsyncClient, hangar: Services) -> None:
    answer = await client.post("/login", data={"login": "a\x00b", "password": "x"})
    assert answer.status_code == 400 and "NUL" in answer.text


async def test_guessing_a_password_is_stopped_for_a_while(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    from server.web.signin import MAX_FAILURES

    await add_person(hangar, "ann")
    await add_person(hangar, "bob")
    for _ in range(MAX_FAILURES["login"]):
        assert (await client.post("/login", data={"login": "ann", "password": "guess"})).status_code == 401
    stopped = await client.post("/login", data={"login": "ann", "password": PASSWORD})
    assert stopped.status_code == 429 and "try again later" in stopped.text
    assert int(stopped.headers["retry-after"]) > 0
    assert COOKIE not in client.cookies
    await sign_in(client, "bob")  # other people are not locked out


async def _stored_hash(hangar: Services, login: str) -> str:
    async with hangar.reading() as session:
        user = await find_user(session, login)
    assert user is not None
    return user.password_hash


async def _set_hash(hangar: Services, login: str, password_hash: str) -> None:
    async with hangar.transaction() as (session, _changes):
        await session.exec(update(User).where(col(User.login) == login).values(password_hash=password_hash))


@pytest.mark.parametrize("kind", ["legacy scrypt", "weak argon2id", "argon2-cffi defaults"])
async def test_an_outdated_hash_signs_in_and_is_replaced_by_argon2id_in_that_sign_in(
    client: httpx.AsyncClient, hangar: Services, kind: str
) -> None:
    await add_person(hangar, "ann")
    outdated = {
        "legacy scrypt": LEGACY_SCRYPT_HASH,
        "weak argon2id": weak_argon2id_hash(PASSWORD),
        "argon2-cffi defaults": argon2_cffi_default_hash(PASSWORD),
    }[kind]
    await _set_hash(hangar, "ann", outdated)
    await sign_in(client, "ann")
    assert (await client.get("/api/user")).json()["login"] == "ann"
    upgraded = await _stored_hash(hangar, "ann")
    assert upgraded.startswith("$argon2id$") and upgraded != outdated
    await sign_in(client, "ann")  # the new hash signs in, and is kept
    assert await _stored_hash(hangar, "ann") == upgraded
    answer = await client.post("/login", data={"login": "ann", "password": "wrong password"})
    assert answer.status_code == 401


async def test_a_wrong_password_on_a_legacy_hash_is_refused_and_leaves_the_hash(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_person(hangar, "ann")
    await _set_hash(hangar, "ann", LEGACY_SCRYPT_HASH)
    answer = await client.post("/login", data={"login": "ann", "password": "wrong password"})
    assert answer.status_code == 401 and COOKIE not in client.cookies
    assert await _stored_hash(hangar, "ann") == LEGACY_SCRYPT_HASH


async def test_the_admin_password_setting_upgrades_a_legacy_admin_hash(hangar: Services) -> None:
    from server.bootstrap import ADMIN_LOGIN, bootstrap

    hangar.settings.admin_password = PASSWORD
    await bootstrap(hangar)
    await _set_hash(hangar, ADMIN_LOGIN, LEGACY_SCRYPT_HASH)
    await bootstrap(hangar)  # the next start, with the same password
    upgraded = await _stored_hash(hangar, ADMIN_LOGIN)
    assert upgraded.startswith("$argon2id$")
    await bootstrap(hangar)
    assert await _stored_hash(hangar, ADMIN_LOGIN) == upgraded  # current: left as it is


async def test_upgrading_a_hash_never_undoes_a_password_changed_meanwhile(hangar: Services) -> None:
    from server.crypto import hash_password
    from server.store.users import replace_password_hash

    user = await add_person(hangar, "ann")
    assert user.id is not None
    changed = await _stored_hash(hangar, "ann")  # the hash now stored (a new password)
    async with hangar.transaction() as (session, _changes):  # a sign-in that had checked the earlier hash
        await replace_password_hash(session, user.id, LEGACY_SCRYPT_HASH, hash_password(PASSWORD))
    assert await _stored_hash(hangar, "ann") == changed
    upgraded = hash_password(PASSWORD)
    async with hangar.transaction() as (session, _changes):
        await replace_password_hash(session, user.id, changed, upgraded)
    assert await _stored_hash(hangar, "ann") == upgraded


@pytest.mark.parametrize(
    "path", ["/login/forge", "/login/callback?code=x&state=y", "/-/repos", "/api/user/repos"]
)
async def test_without_a_forge_its_pages_do_not_exist(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path, headers=admin_headers())
    assert answer.status_code == 404
    assert "Sign in with" not in (await client.get("/login")).text
