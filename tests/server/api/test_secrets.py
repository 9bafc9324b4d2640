"""Repository secrets through the REST API: administrators only, values stored encrypted and never shown."""

from __future__ import annotations

import pytest

from server.db.models import Secret
from server.services import Services
from server.store.secrets import find_secret
from tests.server.api.conftest import RecordingClient
from tests.server.api.seed import add_repo, add_user
from tests.server.conftest import admin_headers

SECRETS = "/api/repos/octo/hello/secrets"
VALUE = "hunter2-secret-value"
NEW_VALUE = "correct-horse-battery"


async def stored(hangar: Services, repo_id: int, name: str) -> Secret | None:
    async with hangar.reading() as session:
        return await find_secret(session, repo_id, name)


async def test_secrets_are_managed_without_their_values_ever_shown(
    api: RecordingClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    created = await api.post(
        SECRETS,
        json={"name": "docker_password", "value": VALUE, "pull_request": True},
        headers=admin_headers(),
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "docker_password"
    assert created.json()["pull_request"] is True
    added = await api.post(SECRETS, json={"name": "api.key-2", "value": VALUE}, headers=admin_headers())
    assert added.status_code == 201, added.text

    listed = (await api.get(SECRETS, headers=admin_headers())).json()
    assert [(secret["name"], secret["pull_request"]) for secret in listed] == [
        ("api.key-2", False),
        ("docker_password", True),
    ]
    secret = await stored(hangar, repo.id or 0, "docker_password")
    assert secret is not None
    assert secret.value != VALUE
    assert hangar.cipher.decrypt(secret.value) == VALUE

    changed = await api.patch(
        f"{SECRETS}/docker_password",
        json={"value": NEW_VALUE, "pull_request": False},
        headers=admin_headers(),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["pull_request"] is False
    secret = await stored(hangar, repo.id or 0, "docker_password")
    assert secret is not None
    assert hangar.cipher.decrypt(secret.value) == NEW_VALUE
    flag_only = await api.patch(
        f"{SECRETS}/docker_password", json={"pull_request": True}, headers=admin_headers()
    )
    assert flag_only.json()["pull_request"] is True
    assert (await api.get(f"{SECRETS}/docker_password", headers=admin_headers())).status_code == 200

    assert (await api.delete(f"{SECRETS}/docker_password", headers=admin_headers())).status_code == 204
    assert (await api.get(f"{SECRETS}/docker_password", headers=admin_headers())).status_code == 404
    assert await stored(hangar, repo.id or 0, "docker_password") is None
    api.assert_never_shown(VALUE, NEW_VALUE)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "1password", "value": "v"}, "name"),
        ({"name": "with space", "value": "v"}, "name"),
        ({"name": "a/b", "value": "v"}, "name"),
        ({"name": "", "value": "v"}, "name"),
        ({"name": "token"}, "value"),
        ({"name": "token", "value": ""}, "value"),
        ({"name": "token", "value": 42}, "value"),
        ({"name": "token", "value": "v", "pull_request": "yes"}, "pull_request"),
        ({"name": "token", "value": "v", "events": ["push"]}, "events"),
    ],
)
async def test_an_invalid_secret_is_refused_naming_the_field(
    api: RecordingClient, hangar: Services, body: dict[str, object], field: str
) -> None:
    await add_repo(hangar)
    refused = await api.post(SECRETS, json=body, headers=admin_headers())
    assert refused.status_code == 400
    assert field in refused.json()["error"]
    assert (await api.get(SECRETS, headers=admin_headers())).json() == []


async def test_adding_a_secret_twice_is_a_conflict(api: RecordingClient, hangar: Services) -> None:
    repo = await add_repo(hangar)
    assert (
        await api.post(SECRETS, json={"name": "t", "value": VALUE}, headers=admin_headers())
    ).status_code == 201
    again = await api.post(SECRETS, json={"name": "t", "value": NEW_VALUE}, headers=admin_headers())
    assert again.status_code == 409
    secret = await stored(hangar, repo.id or 0, "t")
    assert secret is not None
    assert hangar.cipher.decrypt(secret.value) == VALUE
    api.assert_never_shown(VALUE, NEW_VALUE)


async def test_only_administrators_see_or_touch_secrets(api: RecordingClient, hangar: Services) -> None:
    repo = await add_repo(hangar)
    assert (
        await api.post(SECRETS, json={"name": "t", "value": VALUE}, headers=admin_headers())
    ).status_code == 201
    jane = await add_user(hangar, "jane")
    for headers, expected in (({}, 401), (jane, 403)):
        assert (await api.get(SECRETS, headers=headers)).status_code == expected
        assert (
            await api.post(SECRETS, json={"name": "u", "value": "x"}, headers=headers)
        ).status_code == expected
        assert (await api.patch(f"{SECRETS}/t", json={"value": "x"}, headers=headers)).status_code == expected
        assert (await api.delete(f"{SECRETS}/t", headers=headers)).status_code == expected
    secret = await stored(hangar, repo.id or 0, "t")
    assert secret is not None
    assert hangar.cipher.decrypt(secret.value) == VALUE
    assert await stored(hangar, repo.id or 0, "u") is None
    missing = await api.get("/api/repos/octo/nothing/secrets", headers=admin_headers())
    assert missing.status_code == 404
    assert (await api.patch(f"{SECRETS}/nothing", json={}, headers=admin_headers())).status_code == 404
