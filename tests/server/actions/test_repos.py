"""The repository actions the API and the pages share: registering, changing settings, forgetting."""

from __future__ import annotations

import pytest

from server.actions.errors import Conflict, NotFound
from server.actions.repos import NewRepo, change_settings, forget, register
from server.actions.secrets import NewSecret, add_secret, remove_secret
from server.services import Services
from server.store.repos import find_repo


def new_repo() -> NewRepo:
    """A repository to register, without a webhook secret."""
    return NewRepo(owner="octo", name="hello", clone_url="https://example.com/octo/hello.git")


async def test_registering_generates_a_webhook_secret_once_and_refuses_a_second_repository(
    hangar: Services,
) -> None:
    repo, generated = await register(hangar, new_repo())
    assert generated and hangar.cipher.decrypt(repo.webhook_secret) == generated
    with pytest.raises(Conflict, match="already registered"):
        await register(hangar, new_repo())


async def test_a_changed_forge_api_sends_statuses_at_once(hangar: Services) -> None:
    repo, _secret = await register(hangar, new_repo())
    assert not await hangar.notifies.forge(repo.id or 0), "no forge API yet (and now cached)"
    await change_settings(hangar, "octo", "hello", {"api_url": "https://api.example.com", "api_token": "t"})
    assert await hangar.notifies.forge(repo.id or 0)
    async with hangar.reading() as session:
        stored = await find_repo(session, "octo", "hello")
    assert stored is not None and hangar.cipher.decrypt(stored.api_token) == "t", "stored encrypted"
    with pytest.raises(NotFound, match="no repository octo/none"):
        await change_settings(hangar, "octo", "none", {"timeout": 5})


async def test_secrets_are_added_once_and_removed_and_a_forgotten_repository_is_gone(
    hangar: Services,
) -> None:
    await register(hangar, new_repo())
    secret = NewSecret(name="token", value="hunter2")
    await add_secret(hangar, "octo", "hello", secret)
    with pytest.raises(Conflict, match="exists"):
        await add_secret(hangar, "octo", "hello", secret)
    await remove_secret(hangar, "octo", "hello", "token")
    with pytest.raises(NotFound, match="has no secret 'token'"):
        await remove_secret(hangar, "octo", "hello", "token")
    await forget(hangar, "octo", "hello")
    with pytest.raises(NotFound):
        await forget(hangar, "octo", "hello")
