"""The repository settings page: administrators only, validated, secrets whose values never come back."""

from __future__ import annotations

import httpx

from server.services import Services
from server.store.repos import find_repo
from server.store.secrets import find_secret
from tests.server.api.seed import add_repo
from tests.server.web.conftest import add_person, sign_in

FORM = {
    "trusted": "on", "timeout": "15", "config_path": ".woodpecker.yml", "default_branch": "trunk",
    "email_policy": "always", "email_recipients": "team@example.com, ops@example.com",
}  # fmt: skip


async def test_an_administrator_changes_the_settings(client: httpx.AsyncClient, hangar: Services) -> None:
    await add_repo(hangar)
    await add_person(hangar, "root", admin=True)
    person = await sign_in(client, "root")
    assert "Settings" in (await client.get("/octo/hello")).text
    answer = await client.post("/octo/hello/settings", data=FORM | {"csrf": person.csrf})
    assert answer.status_code == 303
    async with hangar.reading() as session:
        repo = await find_repo(session, "octo", "hello")
    assert repo is not None
    assert (repo.trusted, repo.timeout, repo.config_path, repo.default_branch) == (
        True, 15, ".woodpecker.yml", "trunk",
    )  # fmt: skip
    assert repo.email_policy == "always" and repo.email_recipients == ["team@example.com", "ops@example.com"]
    assert not repo.private  # an unticked box is off
    page = (await client.get("/octo/hello/settings?saved")).text
    assert "Saved." in page and 'value="15"' in page


async def test_a_wrong_value_is_explained_and_nothing_changes(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_repo(hangar)
    await add_person(hangar, "root", admin=True)
    person = await sign_in(client, "root")
    for wrong, words in (({"timeout": "0"}, "timeout"), ({"email_recipients": "not-an-address"}, "email")):
        answer = await client.post("/octo/hello/settings", data=FORM | wrong | {"csrf": person.csrf})
        assert answer.status_code == 400
        assert "Nothing was changed" in answer.text and words in answer.text
    async with hangar.reading() as session:
        repo = await find_repo(session, "octo", "hello")
    assert repo is not None and repo.timeout == 60


async def test_only_administrators_reach_the_settings(client: httpx.AsyncClient, hangar: Services) -> None:
    await add_repo(hangar)
    assert (await client.get("/octo/hello/settings")).status_code == 303  # anonymous: sign in first
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    assert (await client.get("/octo/hello/settings")).status_code == 403
    answer = await client.post("/octo/hello/settings", data=FORM | {"csrf": person.csrf})
    assert answer.status_code == 403


async def test_secrets_are_added_and_deleted_and_their_values_never_shown(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    await add_person(hangar, "root", admin=True)
    person = await sign_in(client, "root")
    value = "s3cr3t-value-never-shown"
    answer = await client.post(
        "/octo/hello/settings/secrets", data={"csrf": person.csrf, "name": "DEPLOY_KEY", "value": value}
    )
    assert answer.status_code == 303
    page = (await client.get("/octo/hello/settings")).text
    assert "DEPLOY_KEY" in page and value not in page
    async with hangar.reading() as session:
        stored = await find_secret(session, repo.id or 0, "DEPLOY_KEY")
    assert stored is not None and value not in stored.value and hangar.cipher.decrypt(stored.value) == value
    again = await client.post(
        "/octo/hello/settings/secrets", data={"csrf": person.csrf, "name": "DEPLOY_KEY", "value": "x"}
    )
    assert again.status_code == 409 and value not in again.text
    bad = await client.post(
        "/octo/hello/settings/secrets", data={"csrf": person.csrf, "name": "1x", "value": "v"}
    )
    assert bad.status_code == 400
    gone = await client.post("/octo/hello/settings/secrets/DEPLOY_KEY/delete", data={"csrf": person.csrf})
    assert gone.status_code == 303
    assert "DEPLOY_KEY" not in (await client.get("/octo/hello/settings")).text


async def test_the_approval_mode_and_protected_mode_are_set_in_the_form(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    await add_repo(hangar)
    await add_person(hangar, "root", admin=True)
    person = await sign_in(client, "root")
    page = (await client.get("/octo/hello/settings")).text
    assert '<option value="forks" selected>' in page  # the default
    form = FORM | {"csrf": person.csrf, "approval": "all", "protected": "on"}
    assert (await client.post("/octo/hello/settings", data=form)).status_code == 303
    async with hangar.reading() as session:
        repo = await find_repo(session, "octo", "hello")
    assert repo is not None and (repo.approval, repo.protected) == ("all", True)
    page = (await client.get("/octo/hello/settings")).text
    assert '<option value="all" selected>' in page and 'name="protected" checked' in page
    wrong = await client.post("/octo/hello/settings", data=form | {"approval": "sometimes"})
    assert wrong.status_code == 400 and "approval" in wrong.text
    assert (await client.post("/octo/hello/settings", data=FORM | {"csrf": person.csrf})).status_code == 303
    async with hangar.reading() as session:
        repo = await find_repo(session, "octo", "hello")
    assert repo is not None and (repo.approval, repo.protected) == ("all", False)  # no mode sent: kept
