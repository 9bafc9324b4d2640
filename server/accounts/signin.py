"""Signing in with the forge: the user is made on first sign-in from the forge's login, name, email and
avatar (`HANGAR_ADMINS` makes administrators; `HANGAR_OPEN=false` admits members of `HANGAR_ORGS` only),
and their tokens are kept encrypted."""

from __future__ import annotations

import time

from server.db.models import ForgeAccount, User
from server.forges.oauth import Tokens
from server.forges.remote import ForgeUser
from server.services import Services
from server.store.accounts import find_account_by_forge_id, save_account, set_owner_token
from server.store.users import create_user, find_user, update_user


class SignInRefused(Exception):
    """The forge's user may not sign in to this Hangar (the words say why)."""


async def admit(hangar: Services, tokens: Tokens) -> User:
    """The Hangar user of whoever the tokens belong to (made on their first sign-in); SignInRefused when
    sign-in is limited to organisations they are not in, or a local user has their login."""
    forge = hangar.forge
    assert forge is not None
    who = await forge.user(tokens.access)
    settings = hangar.settings
    if not settings.open:
        theirs = {org.casefold() for org in await forge.organisations(tokens.access)}
        if not theirs & settings.org_names:
            raise SignInRefused(f"{who.login} is not a member of an organisation allowed to sign in here")
    async with hangar.transaction() as (session, _changes):
        account = await find_account_by_forge_id(session, forge.kind, who.id)
        user = await session.get(User, account.user_id) if account is not None else None
        if user is None:
            if await find_user(session, who.login) is not None:
                raise SignInRefused(
                    f"a local user named {who.login} exists: an administrator must rename or remove it first"
                )
            user = await create_user(session, User(login=who.login, email=who.email))
            account = ForgeAccount(user_id=user.id or 0, forge=forge.kind, forge_user_id=who.id)
        assert account is not None
        _update_user(user, who, settings.admin_logins, await find_user(session, who.login))
        await update_user(session, user)
        _update_account(hangar, account, who, tokens)
        await save_account(session, account)
        await set_owner_token(session, user.id or 0, account.access_token)
    return user


def _update_user(user: User, who: ForgeUser, admins: frozenset[str], taken: User | None) -> None:
    if who.login != user.login and taken is None:  # renamed on the forge
        user.login = who.login
    if who.email:
        user.email = who.email
    if who.login.casefold() in admins:
        user.admin = True


def _update_account(hangar: Services, account: ForgeAccount, who: ForgeUser, tokens: Tokens) -> None:
    account.login, account.name, account.avatar = who.login, who.name, who.avatar
    account.access_token = hangar.cipher.encrypt(tokens.access)
    account.refresh_token = hangar.cipher.encrypt(tokens.refresh)
    account.expires = tokens.expires
    account.refresh_failed = ""
    account.updated = time.time()
