"""The artifact routes over SQLite and PostgreSQL: a runner's upload kept only when whole and matching, the
same path replacing, the list and the download with the repository's read permission."""

from __future__ import annotations

import hashlib
import os

import httpx

from pipelines.runner_api import LEASE_HEADER, RUNNER_HEADER
from server.services import Services
from tests.server.api.seed import add_user
from tests.server.artifacts.conftest import Running, hold, put
from tests.server.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BUILD = "/api/repos/octo/hello/builds/1"


async def test_an_upload_is_listed_and_downloads_byte_identical(
    api: httpx.AsyncClient, running: Running
) -> None:
    wheel = os.urandom(300_000)
    answer = await put(api, running, "dist/app-1.0-py3-none-any.whl", wheel)
    assert answer.status_code == 201, answer.text
    digest = hashlib.sha256(wheel).hexdigest()
    assert answer.json() == {
        "path": "dist/app-1.0-py3-none-any.whl",
        "size": 300_000,
        "sha256": digest,
        "step": 2,
    }

    listed = (await api.get(f"{BUILD}/artifacts")).json()
    assert [(a["path"], a["size"], a["sha256"], a["stage"], a["step"]) for a in listed] == [
        ("dist/app-1.0-py3-none-any.whl", 300_000, digest, 1, 2)
    ]
    link = listed[0]["link"]
    assert link == f"http://hangar.test{BUILD}/artifacts/dist/app-1.0-py3-none-any.whl"
    download = await api.get(link.removeprefix("http://hangar.test"))
    assert download.status_code == 200 and download.content == wheel
    assert download.headers["content-disposition"].startswith("attachment;")
    assert 'filename="app-1.0-py3-none-any.whl"' in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "application/octet-stream", "a wheel is no text"
    assert (await api.get(f"{BUILD}/artifacts/dist/other.whl")).status_code == 404


async def test_the_same_path_twice_replaces_the_first_file(api: httpx.AsyncClient, running: Running) -> None:
    assert (await put(api, running, "coverage/index.html", b"<p>first</p>")).status_code == 201
    assert (await put(api, running, "coverage/index.html", b"<p>second</p>", step=1)).status_code == 201
    listed = (await api.get(f"{BUILD}/artifacts")).json()
    assert [(a["path"], a["size"], a["step"]) for a in listed] == [("coverage/index.html", 13, 1)]
    download = await api.get(f"{BUILD}/artifacts/coverage/index.html")
    assert download.content == b"<p>second</p>"
    assert download.headers["content-type"].startswith("text/html")
    assert download.headers["content-disposition"].startswith("attachment;"), "never shown as a page"
    assert [path.read_bytes() for path in running.files()] == [b"<p>second</p>"], "the first file is gone"


async def test_a_checksum_mismatch_or_a_short_body_keeps_nothing(
    api: httpx.AsyncClient, running: Running
) -> None:
    wrong = await put(api, running, "dist/app.whl", b"the bytes", checksum="0" * 64)
    assert wrong.status_code == 400 and "checksum" in wrong.json()["error"]
    short = await put(api, running, "dist/app.whl", b"half of it", headers={"Content-Length": "20"})
    assert short.status_code == 400 and "ended" in short.json()["error"]
    assert (await api.get(f"{BUILD}/artifacts")).json() == []
    assert running.files() == [], "no temporary file and no stored file is left"


async def test_an_upload_needs_the_stage_its_lease_a_safe_path_and_a_checksum(
    api: httpx.AsyncClient, running: Running
) -> None:
    stale = await put(api, running, "a.txt", b"x", headers={LEASE_HEADER: "an-earlier-lease"})
    other = await put(api, running, "a.txt", b"x", headers={RUNNER_HEADER: "someone-else"})
    assert stale.status_code == other.status_code == 409
    for path in ("../etc/passwd", "/etc/passwd", "a/../../b", "", "a//b"):
        assert (await put(api, running, path, b"x")).status_code == 400, path
    assert (await put(api, running, "a.txt", b"x", checksum="nope")).status_code == 400
    assert (await put(api, running, "a.txt", b"x", step=9)).status_code == 404
    assert running.files() == []


async def test_a_private_repositorys_artifacts_are_hidden_from_anonymous_visitors(
    api: httpx.AsyncClient, hangar_each_db: Services
) -> None:
    private = await hold(hangar_each_db, private=True)
    assert (await put(api, private, "dist/secret.whl", b"private bytes")).status_code == 201
    reader = await add_user(hangar_each_db, "jane")
    for address in (f"{BUILD}/artifacts", f"{BUILD}/artifacts/dist/secret.whl"):
        assert (await api.get(address)).status_code == 404, address
        assert (await api.get(address, headers=reader)).status_code == 200, address
        assert (await api.get(address, headers=ADMIN)).status_code == 200, address
    download = await api.get(f"{BUILD}/artifacts/dist/secret.whl", headers=reader)
    assert download.content == b"private bytes"
