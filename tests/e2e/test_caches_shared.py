"""Acceptance, through the server: examples/python-app built on runner A, then (a new commit) on runner B with
an empty disk. B restores the automatic pip cache A saved into the server's shared cache, and pip fetches no
wheel the second time (the file has no `cache:` section); both builds' times are printed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.package_index import EXAMPLE, requirement
from tests.e2e.processes import Hangar, hangar_runner, hangar_up
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

pytestmark = pytest.mark.usefixtures("docker_host")


def _pipeline(index_url: str) -> str:
    """The example's file, with the local index's address for pip (this machine reaches no PyPI)."""
    host = urlsplit(index_url).hostname
    return (EXAMPLE / ".ci.yml").read_text() + (
        f"\nenvironment:\n  PIP_INDEX_URL: {index_url}\n  PIP_TRUSTED_HOST: {host}\n"
    )


def _push(hangar: Hangar, repo: PushedRepo, files: dict[str, str], message: str) -> None:
    before, sha = repo.push(files, message)
    body = github_push("octo", "app", before, sha, message)
    answer = httpx.post(f"{hangar.url}/hook", content=body, headers=github_headers(body), trust_env=False)
    assert answer.status_code == 202, answer.text


def _log(hangar: Hangar, number: int) -> list[str]:
    with hangar.api() as api:
        stage = api.get(f"/api/repos/octo/app/builds/{number}").json()["stages"][0]
        lines: list[str] = []
        for step in stage["steps"]:
            answer = api.get(f"/api/repos/octo/app/builds/{number}/logs/1/{step['number']}")
            lines += [line["out"] for line in answer.json()]
    return lines


def _built_by(build: dict[str, Any]) -> str:
    return str(build["stages"][0]["runner"])


def test_runner_b_restores_what_runner_a_saved_through_the_server(
    tmp_path: Path, package_index: tuple[str, Path]
) -> None:
    index_url, access_log = package_index
    name, version = requirement()
    wheel = f"GET /simple/{name}/{name.replace('-', '_')}-{version}-py3-none-any.whl"
    files = {path.name: path.read_text() for path in EXAMPLE.iterdir() if path.is_file()}
    files[".ci.yml"] = _pipeline(index_url)
    assert "cache:" not in files[".ci.yml"]
    repo = PushedRepo(tmp_path / "git")
    with hangar_up(tmp_path / "data", "--no-runner") as hangar:
        with hangar.api() as api:
            body = {"owner": "octo", "name": "app", "clone_url": str(repo.bare)}
            body["webhook_secret"] = WEBHOOK_SECRET
            assert api.post("/api/repos", json=body).status_code == 201
        times = []
        for number, runner in ((1, "runner-a"), (2, "runner-b")):
            with hangar_runner(hangar.url, runner, tmp_path / f"{runner}.log"):
                started = time.monotonic()
                _push(hangar, repo, {**files, "CHANGES": f"build {number}\n"}, f"build {number}")
                build = hangar.wait_for_build("octo/app", number, timeout=300)
                times.append(time.monotonic() - started)
            assert build["status"] == "success", (build, _log(hangar, number))
            assert _built_by(build) == runner, build
        first, second = _log(hangar, 1), _log(hangar, 2)
        with hangar.api() as api:
            shared = api.get("/api/repos/octo/app/caches").json()
    assert any("[cache] saved auto-pip-" in line for line in first), first
    assert any("[cache] restored auto-pip-" in line for line in second), second
    assert any(f"Successfully installed {name}-{version}" in line for line in second), second
    fetched = access_log.read_text()
    assert fetched.count(wheel) == 1, "runner B (its disk empty) fetched the wheel again:\n" + fetched
    assert [entry["key"].startswith("auto-pip-") for entry in shared] == [True], shared
    print(f"\nbuild 1 on runner A {times[0]:.1f} s; build 2 on runner B (restored) {times[1]:.1f} s")
    for line in [*first, *second]:
        if "[cache]" in line:
            print(line)
