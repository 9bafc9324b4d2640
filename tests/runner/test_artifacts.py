"""A finished step's artifacts: the files its globs and folders name, read from its container whatever its
outcome and handed to a store with their checksums; what matched nothing and the limits said in its log."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

import httpx

from pipelines.runner_api import CHECKSUM_HEADER
from pipelines.status import Status
from runner.artifact_stores import FolderArtifacts, ServerArtifacts
from runner.artifacts import ArtifactNotKept, ArtifactOptions
from runner.client import Backoff, RunnerClient
from runner.executor import StageOptions, run_stage
from tests.runner.fake_engine import Behaviour, FakeEngine
from tests.runner.support import RecordingReporter, plan_of

PIPELINE = """
kind: pipeline
name: default
clone: {disable: true}
steps:
  - name: build
    image: python:3.11
    commands: [make]
    artifacts: [dist/*.whl, coverage/, report.txt, missing/*.zip]
"""
WORKSPACE = "/drone/src"
WRITTEN = {
    f"{WORKSPACE}/dist/app-1.0.whl": b"wheel bytes",
    f"{WORKSPACE}/dist/app-1.0.tar.gz": b"not declared",
    f"{WORKSPACE}/coverage/index.html": b"<p>93%</p>",
    f"{WORKSPACE}/coverage/css/site.css": b"p {}",
    f"{WORKSPACE}/report.txt": b"all good",
    "/tmp/elsewhere.whl": b"outside the workspace",
}


class MemoryStore:
    """Keeps what it is given, by path; refuses the paths in `refuse`."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.kept: dict[str, tuple[int, bytes, str]] = {}
        self.refuse = refuse

    async def keep(self, step: int, path: str, content: IO[bytes], size: int, sha256: str) -> None:
        if path in self.refuse:
            raise ArtifactNotKept("the disk is full")
        data = content.read()
        assert len(data) == size
        self.kept[path] = (step, data, sha256)


async def run(behaviour: Behaviour, store: MemoryStore, **limits: int) -> tuple[RecordingReporter, Status]:
    engine, reporter = FakeEngine({"build": behaviour}), RecordingReporter()
    options = StageOptions(artifacts=ArtifactOptions(store, **limits))
    report = await run_stage(engine, reporter, plan_of(PIPELINE), options=options)
    return reporter, report.step("build").status


async def test_the_files_the_globs_and_folders_name_are_kept_with_their_checksums_even_when_the_step_fails():
    store = MemoryStore()
    reporter, status = await run(Behaviour(exit_code=2, written=WRITTEN), store)

    assert status == Status.FAILURE
    assert sorted(store.kept) == [
        "coverage/css/site.css",
        "coverage/index.html",
        "dist/app-1.0.whl",
        "report.txt",
    ]
    step, data, sha256 = store.kept["dist/app-1.0.whl"]
    assert (step, data, sha256) == (1, b"wheel bytes", hashlib.sha256(b"wheel bytes").hexdigest())
    log = reporter.text("build")
    assert any(line.startswith("[hangar] artifact dist/app-1.0.whl (11 B) kept in ") for line in log), log
    assert "[hangar] artifacts: 'missing/*.zip' matched no file" in log
    assert any(line.startswith("[hangar] artifacts: kept 4 files (33 B) in ") for line in log), log


async def test_the_limits_per_step_and_a_refusing_store_are_noted_and_the_outcome_is_unchanged():
    store = MemoryStore(refuse=("report.txt",))
    reporter, status = await run(Behaviour(written=WRITTEN), store, max_files=2)

    assert status == Status.SUCCESS and len(store.kept) == 2
    log = reporter.text("build")
    assert any("the limit of 2 files per step is reached" in line for line in log), log
    assert not any("matched no file" in line for line in log), "not looked for past the limit"

    store = MemoryStore(refuse=("report.txt",))
    reporter, _ = await run(Behaviour(written={f"{WORKSPACE}/report.txt": b"x"}), store)
    log = reporter.text("build")
    assert "[hangar] artifact report.txt was not kept: the disk is full" in log
    assert not any(line.startswith("[hangar] artifacts: kept") for line in log), "a refused file is not kept"

    store = MemoryStore()
    reporter, _ = await run(Behaviour(written=WRITTEN), store, max_bytes=15)
    assert sum(len(data) for _, data, _ in store.kept.values()) <= 15
    assert any("the limit of 15 B per step is reached" in line for line in reporter.text("build"))


async def test_without_a_store_nothing_is_read(tmp_path: Path):
    engine, reporter = FakeEngine({"build": Behaviour(written=WRITTEN)}), RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(PIPELINE))
    assert report.status == Status.SUCCESS
    assert not any("artifact" in line for line in reporter.text("build"))


async def test_a_folder_store_copies_the_files_at_their_paths(tmp_path: Path):
    store = FolderArtifacts(tmp_path / "out")
    engine, reporter = FakeEngine({"build": Behaviour(written=WRITTEN)}), RecordingReporter()
    options = StageOptions(artifacts=ArtifactOptions(store))
    await run_stage(engine, reporter, plan_of(PIPELINE), options=options)
    copied = {
        path.relative_to(tmp_path / "out").as_posix()
        for path in (tmp_path / "out").rglob("*")
        if path.is_file()
    }
    assert copied == {"coverage/css/site.css", "coverage/index.html", "dist/app-1.0.whl", "report.txt"}
    assert (tmp_path / "out" / "dist" / "app-1.0.whl").read_bytes() == b"wheel bytes"


async def test_an_upload_is_sent_again_whole_while_the_server_is_briefly_away(tmp_path: Path):
    bodies: list[bytes] = []

    def server(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        if len(bodies) < 3:
            return httpx.Response(503)
        assert request.headers[CHECKSUM_HEADER] == hashlib.sha256(b"wheel bytes").hexdigest()
        assert request.url.params["path"] == "dist/app.whl" and request.url.params["step"] == "2"
        info = {"path": "dist/app.whl", "size": 11, "sha256": request.headers[CHECKSUM_HEADER], "step": 2}
        return httpx.Response(201, json=info)

    client = RunnerClient("http://hangar.test", "secret", "r", transport=httpx.MockTransport(server))
    store = ServerArtifacts(client, 7, "lease-1", backoff=Backoff(first=0.01, cap=0.01))
    content = tmp_path / "app.whl"
    content.write_bytes(b"wheel bytes")
    with content.open("rb") as opened:
        await store.keep(2, "dist/app.whl", opened, 11, hashlib.sha256(b"wheel bytes").hexdigest())
    assert bodies == [b"wheel bytes"] * 3
    await client.close()
