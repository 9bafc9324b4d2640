"""`/api/user` and `/api/repos`: who is calling, registering and changing repositories, who sees what."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from server.db.models import Build, Outbox, Repo
from server.services import Services
from server.store.outbox import EMAIL, STATUS, create_outbox
from server.store.repos import find_repo
from tests.server.api.conftest import RecordingClient
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo, add_user
from tests.server.conftest import admin_headers

WEBHOOK_SECRET = "webhook-secret-9f8e7d"
API_TOKEN = "forge-api-token-1a2b3c"
CLONE_PASSWORD = "clone-password-4d5e6f"


def new_repo(**changes: Any) -> dict[str, Any]:
    """A complete registration body."""
    body = {
        "owner": "octo", "name": "hello", "clone_url": "https://gitea.example.com/octo/hello.git",
        "forge": "gitea", "webhook_secret": WEBHOOK_SECRET, "api_url": "https://gitea.example.com/api/v1",
        "api_token": API_TOKEN, "clone_login": "ci-bot", "clone_password": CLONE_PASSWORD,
        "email_recipients": ["team@example.com"], "email_policy": "always", "trusted": True,
        "config_path": ".hangar.yml", "timeout": 30, "private": True, "default_branch": "trunk",
        "link": "https://gitea.example.com/octo/hello",
    }  # fmt: skip
    return body | changes


async def stored_repo(hangar: Services, owner: str = "octo", name: str = "hello") -> Repo | None:
    async with hangar.reading() as session:
        return await find_repo(session, owner, name)


async def test_the_user_endpoint_names_the_token_holder(api: RecordingClient, hangar: Services) -> None:
    jane = await add_user(hangar, "jane")
    assert (await api.get("/api/user")).status_code == 401
    assert (await api.get("/api/user", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    admin = await api.get("/api/user", headers=admin_headers())
    assert admin.json() == {"login": "admin", "email": "", "admin": True}
    user = await api.get("/api/user", headers=jane)
    assert user.json() == {"login": "jane", "email": "jane@example.com", "admin": False}


async def test_registering_stores_credentials_encrypted_and_never_shows_them(
    api: RecordingClient, hangar: Services
) -> None:
    created = await api.post("/api/repos", json=new_repo(), headers=admin_headers())
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["slug"] == "octo/hello"
    assert view["forge"] == "gitea"
    assert view["email_recipients"] == ["team@example.com"]
    assert view["timeout"] == 30
    assert view["default_branch"] == "trunk"
    assert view["webhook_secret_set"] and view["api_token_set"] and view["clone_password_set"]
    assert "webhook_secret" not in view  # given by the caller: not echoed

    repo = await stored_repo(hangar)
    assert repo is not None
    for column, plain in (
        (repo.webhook_secret, WEBHOOK_SECRET),
        (repo.api_token, API_TOKEN),
        (repo.clone_password, CLONE_PASSWORD),
    ):
        assert column != plain
        assert hangar.cipher.decrypt(column) == plain

    await api.get("/api/repos", headers=admin_headers())
    await api.get("/api/repos/octo/hello", headers=admin_headers())
    changed = await api.patch(
        "/api/repos/octo/hello", json={"api_token": "rotated-token-7g8h"}, headers=admin_headers()
    )
    assert changed.status_code == 200, changed.text
    api.assert_never_shown(WEBHOOK_SECRET, API_TOKEN, CLONE_PASSWORD, "rotated-token-7g8h")
    repo = await stored_repo(hangar)
    assert repo is not None
    assert hangar.cipher.decrypt(repo.api_token) == "rotated-token-7g8h"


async def test_a_generated_webhook_secret_is_shown_once(api: RecordingClient, hangar: Services) -> None:
    body = {"owner": "octo", "name": "hello", "clone_url": "https://github.com/octo/hello.git"}
    created = await api.post("/api/repos", json=body, headers=admin_headers())
    assert created.status_code == 201, created.text
    secret = created.json()["webhook_secret"]
    assert len(secret) >= 32
    repo = await stored_repo(hangar)
    assert repo is not None
    assert hangar.cipher.decrypt(repo.webhook_secret) == secret
    assert (repo.forge, repo.email_policy, repo.timeout, repo.private) == ("github", "change", 60, False)
    shown = await api.get("/api/repos/octo/hello", headers=admin_headers())
    assert secret not in shown.text
    assert shown.json()["webhook_secret_set"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"clone_url": None}, "clone_url"),
        ({"clone_url": ""}, "clone_url"),
        ({"forge": "bitbucket"}, "forge"),
        ({"email_policy": "sometimes"}, "email_policy"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 1441}, "timeout"),
        ({"timeout": "30"}, "timeout"),
        ({"owner": "octo/cat"}, "owner"),
        ({"name": ""}, "name"),
        ({"email_recipients": ["not an address"]}, "email_recipients"),
        ({"private": "yes"}, "private"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_an_invalid_registration_is_refused_naming_the_field(
    api: RecordingClient, hangar: Services, changes: dict[str, Any], field: str
) -> None:
    body = {key: value for key, value in new_repo(**changes).items() if value is not None}
    refused = await api.post("/api/repos", json=body, headers=admin_headers())
    assert refused.status_code == 400
    assert field in refused.json()["error"]
    assert await stored_repo(hangar) is None


async def test_a_body_that_is_not_json_is_refused(api: RecordingClient) -> None:
    refused = await api.post("/api/repos", content=b"owner=octo", headers=admin_headers())
    assert refused.status_code == 400
    assert "error" in refused.json()


async def test_registering_twice_is_a_conflict(api: RecordingClient) -> None:
    assert (await api.post("/api/repos", json=new_repo(), headers=admin_headers())).status_code == 201
    again = await api.post(
        "/api/repos", json=new_repo(clone_url="https://x.test/y.git"), headers=admin_headers()
    )
    assert again.status_code == 409
    assert "octo/hello" in again.json()["error"]


async def test_only_administrators_write(api: RecordingClient, hangar: Services) -> None:
    await add_repo(hangar)
    jane = await add_user(hangar, "jane")
    for headers, expected in (({}, 401), (jane, 403)):
        assert (
            await api.post("/api/repos", json=new_repo(name="other"), headers=headers)
        ).status_code == expected
        assert (await api.patch("/api/repos/octo/hello", json={}, headers=headers)).status_code == expected
        assert (await api.delete("/api/repos/octo/hello", headers=headers)).status_code == expected
    assert await stored_repo(hangar, "octo", "other") is None
    assert await stored_repo(hangar) is not None


async def test_private_repositories_are_invisible_to_anonymous_callers(
    api: RecordingClient, hangar: Services
) -> None:
    await add_repo(hangar, "octo", "public", clone_url="https://example.com/public.git")
    await add_repo(hangar, "octo", "secret", private=True)
    jane = await add_user(hangar, "jane")

    anonymous = await api.get("/api/repos")
    assert [repo["slug"] for repo in anonymous.json()] == ["octo/public"]
    hidden = await api.get("/api/repos/octo/secret")
    missing = await api.get("/api/repos/octo/nothing")
    assert hidden.status_code == missing.status_code == 404

    signed_in = await api.get("/api/repos", headers=jane)
    assert [repo["slug"] for repo in signed_in.json()] == ["octo/public", "octo/secret"]
    shown = await api.get("/api/repos/octo/secret", headers=jane)
    assert shown.status_code == 200
    assert "clone_url" not in shown.json()  # settings are for administrators
    assert (await api.get("/api/repos/octo/public", headers=admin_headers())).json()["clone_url"] == (
        "https://example.com/public.git"
    )


async def test_a_change_applies_only_the_fields_given(api: RecordingClient, hangar: Services) -> None:
    assert (await api.post("/api/repos", json=new_repo(), headers=admin_headers())).status_code == 201
    changed = await api.patch(
        "/api/repos/octo/hello", json={"timeout": 90, "private": False}, headers=admin_headers()
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["timeout"], changed.json()["private"], changed.json()["trusted"]) == (
        90,
        False,
        True,
    )
    assert (await api.get("/api/repos/octo/hello")).status_code == 200  # now public
    repo = await stored_repo(hangar)
    assert repo is not None
    assert hangar.cipher.decrypt(repo.api_token) == API_TOKEN
    refused = await api.patch("/api/repos/octo/hello", json={"timeout": -1}, headers=admin_headers())
    assert refused.status_code == 400
    assert "timeout" in refused.json()["error"]
    assert (await api.patch("/api/repos/octo/none", json={}, headers=admin_headers())).status_code == 404


async def test_forgetting_a_repository_forgets_its_builds(api: RecordingClient, hangar: Services) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, "success", [StageSeed("test", "success")], finished=1.0)
    await add_lines(hangar, seeded.steps[1, 2], ["ok"])
    secret = await api.post(
        "/api/repos/octo/hello/secrets", json={"name": "token", "value": "v"}, headers=admin_headers()
    )
    assert secret.status_code == 201
    async with hangar.transaction() as (session, _changes):  # its email and status not sent yet (forge down)
        await create_outbox(
            session, [Outbox(build_id=seeded.build.id or 0, kind=kind) for kind in (STATUS, EMAIL)]
        )

    assert (await api.delete("/api/repos/octo/hello", headers=admin_headers())).status_code == 204
    assert (await api.get("/api/repos/octo/hello")).status_code == 404
    assert (await api.delete("/api/repos/octo/hello", headers=admin_headers())).status_code == 404
    async with hangar.reading() as session:
        assert (await session.exec(select(Build))).all() == []
        assert (await session.exec(select(Outbox))).all() == [], "its notifications forgotten too"

    again = await api.post("/api/repos", json=new_repo(), headers=admin_headers())
    assert again.status_code == 201
    assert (await api.get("/api/repos/octo/hello/builds", headers=admin_headers())).json() == []
    assert (await api.get("/api/repos/octo/hello/secrets", headers=admin_headers())).json() == []
