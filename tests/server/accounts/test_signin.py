"""Signing in with GitHub: OAuth2 with state and PKCE, the user made on first sign-in, administrators from
HANGAR_ADMINS, sign-in limited to organisations, tokens kept encrypted."""

from __future__ import annotations

import httpx
from sqlmodel import select

from server.db.models import ForgeAccount, User
from server.services import Services
from server.store.users import find_user
from tests.server.accounts.conftest import Browsers, forge_sign_in
from tests.server.forges.standin.forge import StandinForge
from tests.server.web.conftest import add_person


async def test_signing_in_makes_the_user_from_the_forge_and_admins_from_the_setting(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    alice, bob = await browsers.signed_in("alice"), await browsers.signed_in("bob")
    me = (await alice.http.get("/api/user")).json()
    assert me == {"login": "alice", "email": "alice@example.com", "admin": True}
    assert (await bob.http.get("/api/user")).json()["admin"] is False
    page = (await bob.http.get("/")).text
    assert "bob" in page and 'href="/-/repos"' in page
    async with hangar.reading() as session:
        accounts = (await session.exec(select(ForgeAccount))).all()
    assert {account.login for account in accounts} == {"alice", "bob"}
    issued = set(forge.oauth.access)
    for account in accounts:  # encrypted at rest, readable with the key
        assert account.access_token not in issued
        assert hangar.cipher.decrypt(account.access_token) in issued
        assert account.expires is not None and hangar.cipher.decrypt(account.refresh_token)


async def test_signing_in_again_is_the_same_user(hangar: Services, browsers: Browsers) -> None:
    for _ in range(2):
        await browsers.signed_in("bob")
    async with hangar.reading() as session:
        assert len((await session.exec(select(User).where(User.login == "bob"))).all()) == 1


async def test_a_callback_whose_state_was_not_issued_to_this_browser_signs_no_one_in(
    browsers: Browsers,
) -> None:
    victim, attacker = browsers.visitor(), browsers.visitor()
    start = await attacker.http.get("/login/forge")
    state = httpx.URL(start.headers["location"]).params["state"]
    answer = await victim.http.get(f"/login/callback?code=whatever&state={state}")
    assert answer.status_code == 400
    assert "did not start here" in answer.text
    assert (await victim.http.get("/api/user")).status_code == 401
    forged = await attacker.http.get("/login/callback?code=whatever&state=made-up")
    assert forged.status_code == 400


async def test_sign_in_can_be_limited_to_members_of_organisations(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    hangar.settings.open = False
    hangar.settings.orgs = "Acme, other"
    forge.orgs["bob"] = {"acme"}
    refused = await forge_sign_in(browsers.visitor(), forge, "carol")
    assert refused.status_code == 403
    assert "not a member of an organisation allowed" in refused.text
    await browsers.signed_in("bob")
    async with hangar.reading() as session:
        assert await find_user(session, "carol") is None


async def test_a_local_user_with_the_same_login_is_not_taken_over(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    await add_person(hangar, "carol", admin=True)
    answer = await forge_sign_in(browsers.visitor(), forge, "carol")
    assert answer.status_code == 403
    assert "a local user named carol exists" in answer.text


async def test_the_sign_in_page_offers_the_forge_and_keeps_the_password_form(
    forge: StandinForge, browsers: Browsers
) -> None:
    page = await browsers.visitor().http.get("/login?next=/octo/app")
    assert f"Sign in with {forge.title}" in page.text
    assert 'href="/login/forge?next=/octo/app"' in page.text.replace("%2F", "/")
    assert 'name="password"' in page.text
