"""A user's forge access token, refreshed before it expires; a refresh the forge refuses is recorded, and the
user must sign in again."""

from __future__ import annotations

import logging
import time

from server.db.models import ForgeAccount, Repo
from server.forges.oauth import OAuthRefused, OAuthUnavailable, Tokens, expires_soon
from server.keys import token_lock_key
from server.services import Services
from server.store.accounts import find_account, save_account, set_owner_token
from server.store.repos import find_repo_by_id

REFRESH_MARGIN_SECONDS = 300.0
"""A token expiring within this long is refreshed before it is used."""

_log = logging.getLogger("hangar.accounts")


class SignInAgain(Exception):
    """The user's forge token is expired or was revoked: they must sign in again."""


async def access_token(hangar: Services, user_id: int) -> str:
    """The user's forge access token, refreshed first when it expires soon.

    Raises SignInAgain when the user has no forge account or the forge refused the refresh, and
    OAuthUnavailable when the forge did not answer.
    """
    async with hangar.reading() as session:
        account = await find_account(session, user_id)
    if account is None:
        raise SignInAgain("this user did not sign in with the forge")
    if not account.refresh_failed and not expires_soon(account.expires, REFRESH_MARGIN_SECONDS):
        return hangar.cipher.decrypt(account.access_token)
    async with hangar.redis.lock(token_lock_key(user_id), timeout=60, blocking_timeout=60):
        return await _refresh(hangar, user_id)


async def _refresh(hangar: Services, user_id: int) -> str:
    async with hangar.reading() as session:  # again under the lock: another process may have refreshed it
        account = await find_account(session, user_id)
    assert account is not None
    if account.refresh_failed:
        raise SignInAgain(account.refresh_failed)
    if not expires_soon(account.expires, REFRESH_MARGIN_SECONDS):
        return hangar.cipher.decrypt(account.access_token)
    refresh = hangar.cipher.decrypt(account.refresh_token)
    if hangar.forge is None or not refresh:
        return await _refused(hangar, account, "the forge token expired and cannot be refreshed")
    try:
        tokens = await hangar.forge.oauth.renew(refresh)
    except OAuthRefused as exc:
        return await _refused(hangar, account, str(exc))
    except OAuthUnavailable:
        if account.expires is not None and account.expires > time.time():
            return hangar.cipher.decrypt(account.access_token)  # still good for a while: try again later
        raise
    await store_tokens(hangar, account, tokens)
    return tokens.access


async def store_tokens(hangar: Services, account: ForgeAccount, tokens: Tokens) -> None:
    """Keep new tokens (encrypted) for the account and the repositories its user switched on."""
    account.access_token = hangar.cipher.encrypt(tokens.access)
    account.refresh_token = hangar.cipher.encrypt(tokens.refresh)
    account.expires = tokens.expires
    account.refresh_failed = ""
    account.updated = time.time()
    async with hangar.transaction() as (session, _changes):
        await save_account(session, account)
        await set_owner_token(session, account.user_id, account.access_token)


async def _refused(hangar: Services, account: ForgeAccount, reason: str) -> str:
    _log.warning("forge token of %s: %s", account.login, reason)
    account.refresh_failed = f"{reason}: {account.login} must sign in to Hangar again"
    async with hangar.transaction() as (session, _changes):
        await save_account(session, account)
    raise SignInAgain(account.refresh_failed)


async def owner_must_sign_in_again(hangar: Services, owner_id: int | None) -> str:
    """Why a repository's owner must sign in again ('' when their token works, or it has no owner)."""
    if owner_id is None:
        return ""
    async with hangar.reading() as session:
        account = await find_account(session, owner_id)
    return account.refresh_failed if account is not None else ""


async def fresh_owner_token(hangar: Services, repo: Repo) -> Repo:
    """The repository with its owner's token refreshed, if it was switched on from the forge and the token
    expires soon (before a commit status is sent or the repository fetched with it); a refused refresh is
    recorded for the settings page, not raised."""
    if repo.owner_id is None:
        return repo
    try:
        await access_token(hangar, repo.owner_id)
    except (SignInAgain, OAuthUnavailable) as exc:
        _log.warning("%s: the owner's forge token: %s", repo.slug, exc)
        return repo
    async with hangar.reading() as session:
        return await find_repo_by_id(session, repo.id or 0) or repo
