"""Odd and hostile input gets a clear 4xx, on both databases: huge numbers, non-ASCII digits, NUL bytes,
non-ASCII names in downloads; and the bootstrap admin token can be rotated."""

from __future__ import annotations

import pytest

from server.bootstrap import bootstrap
from server.services import Services
from tests.server.api.conftest import RecordingClient
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo
from tests.server.conftest import admin_headers

BUILDS = "/api/repos/octo/hello/builds"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{BUILDS}/2147483648", 404),
        (f"{BUILDS}/99999999999999999999", 404),
        (f"{BUILDS}/١", 404),
        (f"{BUILDS}/1_0", 404),
        (f"{BUILDS}/1/logs/1/2147483648", 404),
        (f"{BUILDS}?before=2147483648", 400),
        (f"{BUILDS}?limit=-1", 400),
        (f"{BUILDS}/1/logs/1/1?start=99999999999", 400),
        ("/api/repos/oc%00to/hello", 400),
        ("/api/repos/%0Aocto/hello/secrets", 400),  # a newline: no mount matches it, so it reached the pages
        ("/octo/hel%7Flo", 400),
        (f"{BUILDS}?branch=ma%00in", 400),
    ],
)
async def test_odd_numbers_and_nul_bytes_are_refused_not_crashed_on(
    api_each_db: RecordingClient, hangar_each_db: Services, path: str, status: int
) -> None:
    repo = await add_repo(hangar_each_db)
    await add_build(hangar_each_db, repo, stages=[StageSeed("test", steps=[("unit", "success")])])
    assert (await api_each_db.get(path)).status_code == status
    deleted = await api_each_db.delete(path.split("?", maxsplit=1)[0], headers=admin_headers())
    assert deleted.status_code in (400, 404, 405), "refused, never a 500"


async def test_a_nul_in_a_setting_is_refused(api_each_db: RecordingClient, hangar_each_db: Services) -> None:
    await add_repo(hangar_each_db)
    answer = await api_each_db.patch(
        "/api/repos/octo/hello", json={"clone_url": "a\u0000b"}, headers=admin_headers()
    )
    assert answer.status_code == 400 and "NUL" in answer.json()["error"]


async def test_a_log_of_a_step_with_a_non_ascii_name_downloads(
    api: RecordingClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(hangar, repo, stages=[StageSeed("tést", steps=[("测试 step", "success")])])
    await add_lines(hangar, seeded.steps[(1, 1)], [f"line {i}" for i in range(12_000)])
    answer = await api.get(f"{BUILDS}/1/logs/1/1?format=text")
    assert answer.status_code == 200
    assert answer.text.splitlines() == [f"line {i}" for i in range(12_000)], "every line, over several pages"
    assert 'filename="octo-hello-1-t_st-__' in answer.headers["content-disposition"]
    page = await api.get(f"{BUILDS}/1/logs/1/1?start=11990&limit=5")
    assert [line["pos"] for line in page.json()] == [11990, 11991, 11992, 11993, 11994]


async def test_a_rotated_admin_token_replaces_the_old_one(api: RecordingClient, hangar: Services) -> None:
    assert (await api.get("/api/user", headers=admin_headers())).status_code == 200
    old = hangar.settings.admin_token
    hangar.settings.admin_token = "the-new-admin-token"
    await bootstrap(hangar)
    assert (await api.get("/api/user", headers={"Authorization": f"Bearer {old}"})).status_code == 401
    new = await api.get("/api/user", headers={"Authorization": "Bearer the-new-admin-token"})
    assert new.status_code == 200 and new.json()["admin"] is True
