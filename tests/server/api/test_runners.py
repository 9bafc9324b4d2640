"""Registering runners through the REST API: the token is shown once and works until it is revoked."""

from __future__ import annotations

from pipelines.runner_api import RUNNER_HEADER
from server.services import Services
from tests.server.api.conftest import RecordingClient
from tests.server.api.seed import add_user
from tests.server.conftest import admin_headers


async def runner_api_accepts(api: RecordingClient, token: str) -> bool:
    """Whether the runner API takes the token (watching a stage that does not exist answers at once)."""
    answer = await api.get(
        "/api/runner/stages/987654321/watch", headers={"Authorization": f"Bearer {token}", RUNNER_HEADER: "x"}
    )
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


async def test_a_registered_runner_token_is_shown_once_and_works_until_revoked(api: RecordingClient) -> None:
    created = await api.post("/api/runners", json={"name": "builder-1"}, headers=admin_headers())
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert created.json()["name"] == "builder-1"
    assert await runner_api_accepts(api, token)
    assert not await runner_api_accepts(api, token + "x")

    listed = await api.get("/api/runners", headers=admin_headers())
    assert [runner["name"] for runner in listed.json()] == ["builder-1"]
    assert token not in listed.text

    again = await api.post("/api/runners", json={"name": "builder-1"}, headers=admin_headers())
    assert again.status_code == 409
    assert await runner_api_accepts(api, token)

    assert (await api.delete("/api/runners/builder-1", headers=admin_headers())).status_code == 204
    assert not await runner_api_accepts(api, token)
    assert (await api.get("/api/runners", headers=admin_headers())).json() == []
    assert (await api.delete("/api/runners/builder-1", headers=admin_headers())).status_code == 404


async def test_a_runner_name_is_validated(api: RecordingClient) -> None:
    for body in ({}, {"name": ""}, {"name": "two words"}, {"name": 7}, {"name": "ok", "token": "mine"}):
        refused = await api.post("/api/runners", json=body, headers=admin_headers())
        assert refused.status_code == 400, body
        assert "invalid" in refused.json()["error"]
    assert (await api.get("/api/runners", headers=admin_headers())).json() == []


async def test_only_administrators_manage_runners(api: RecordingClient, hangar: Services) -> None:
    assert (await api.post("/api/runners", json={"name": "r"}, headers=admin_headers())).status_code == 201
    jane = await add_user(hangar, "jane")
    for headers, expected in (({}, 401), (jane, 403)):
        assert (await api.get("/api/runners", headers=headers)).status_code == expected
        assert (await api.post("/api/runners", json={"name": "s"}, headers=headers)).status_code == expected
        assert (await api.delete("/api/runners/r", headers=headers)).status_code == expected
    listed = await api.get("/api/runners", headers=admin_headers())
    assert [runner["name"] for runner in listed.json()] == ["r"]
