"""End to end, all real: steps in Docker keep their files (`artifacts:`), the runner uploads them to
`hangar up`, and they download byte-identical from the API, the build page (Chromium) and the email's
links; a failing step's files are kept too, a glob matching nothing is said in the log, a private
repository's files are hidden from anonymous visitors. Acceptance: a 500 MB artifact goes up and comes back
with the server's memory flat."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import re
import tempfile
import time
from pathlib import Path

import httpx

from tests.browser import open_browser
from tests.e2e.processes import Hangar, hangar_up
from tests.e2e.test_browser import SCREENSHOTS
from tests.e2e.test_push_to_build import _finished, _until, hangar, push_and_hook, register
from tests.peers import RecordingForge, SmtpServer
from tests.server.support import PushedRepo

__all__ = ["hangar"]  # the fixture, shared with test_push_to_build

WHEEL = "dist/app-1.0-py3-none-any.whl"
PIPELINE = f"""\
kind: pipeline
name: build
steps:
  - name: package
    image: busybox
    commands:
      - mkdir -p dist coverage/css
      - head -c 3000000 /dev/urandom > {WHEEL}
      - echo "not declared" > dist/notes.txt
      - echo "<p>93%</p>" > coverage/index.html
      - echo "p {{}}" > coverage/css/site.css
      - sha256sum {WHEEL} coverage/index.html coverage/css/site.css
    artifacts: [dist/*.whl, coverage/, missing/*.zip]
  - name: check
    image: busybox
    commands:
      - echo "checked, and it failed" > report.txt
      - sha256sum report.txt
      - exit 1
    artifacts: [report.txt]
"""
BIG = "big.bin"
BIG_BYTES = 500 * 1000 * 1000
BIG_PIPELINE = """\
kind: pipeline
name: big
steps:
  - name: write
    image: busybox
    commands:
      - head -c {size} /dev/urandom > big.bin
      - sha256sum big.bin
    artifacts: [big.bin]
"""
MEMORY_ALLOWANCE = 100 * 1024 * 1024
"""How much the server's peak memory may grow over a 500 MB upload and download (a fifth of the file)."""


def _checksums(hangar: Hangar, step: int, build: int = 1) -> dict[str, str]:
    """What `sha256sum` printed in the step's log, by path."""
    with hangar.api() as api:
        lines = [line["out"] for line in api.get(f"/api/repos/octo/app/builds/{build}/logs/1/{step}").json()]
    found = (re.fullmatch(r"([0-9a-f]{64})  (\S+)", line.strip()) for line in lines)
    return {match.group(2): match.group(1) for match in found if match}


def _log(hangar: Hangar, step: int, build: int = 1) -> list[str]:
    with hangar.api() as api:
        return [line["out"] for line in api.get(f"/api/repos/octo/app/builds/{build}/logs/1/{step}").json()]


async def test_a_builds_files_are_kept_listed_and_downloaded_byte_identical(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    push_and_hook(hangar, repo, {".ci.yml": PIPELINE}, "package it")
    build = await _finished(hangar, 1)
    assert build["status"] == "failure", build
    printed = _checksums(hangar, 2) | _checksums(hangar, 3)

    with hangar.api() as api:
        listed = api.get("/api/repos/octo/app/builds/1/artifacts").json()
        assert [(a["path"], a["stage"], a["step"]) for a in listed] == [
            ("coverage/css/site.css", 1, 2),
            ("coverage/index.html", 1, 2),
            (WHEEL, 1, 2),
            ("report.txt", 1, 3),
        ], "the failing step's file too; dist/notes.txt is not declared"
        for artifact in listed:
            download = api.get(artifact["link"])
            assert download.status_code == 200
            assert (
                hashlib.sha256(download.content).hexdigest()
                == printed[artifact["path"]]
                == artifact["sha256"]
            )
        assert next(a["size"] for a in listed if a["path"] == WHEEL) == 3_000_000
    log = _log(hangar, 2)
    assert "[hangar] artifacts: 'missing/*.zip' matched no file" in log
    assert any(
        re.fullmatch(rf"\[hangar\] artifact {WHEEL} \(3\.0 MB\) kept in \d+\.\d s", line) for line in log
    )
    assert any(line.startswith("[hangar] artifacts: kept 3 files (3.0 MB) in ") for line in log), log

    await _until(lambda: len(smtp_server.inbox.messages) == 1, "the email")
    message = email.message_from_bytes(smtp_server.inbox.messages[0].content, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    wheel_link = f"{hangar.url}/api/repos/octo/app/builds/1/artifacts/{WHEEL}"
    assert f"{WHEEL} (3.0 MB): {wheel_link}" in text, text

    async with open_browser() as browser:
        page = await browser.new_page()
        await page.goto(f"{hangar.url}/octo/app/1")
        shown = await page.locator("#artifacts .artifact").all_inner_texts()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "build-artifacts.png"), full_page=True)
        async with page.expect_download() as downloading:
            await page.get_by_role("link", name=WHEEL).click()
        saved = (await (await downloading.value).path()).read_bytes()  # gone with the browser
    assert shown[2] == f"{WHEEL} 3.0 MB", shown
    assert hashlib.sha256(saved).hexdigest() == printed[WHEEL]

    with hangar.api() as api:
        assert api.patch("/api/repos/octo/app", json={"private": True}).status_code == 200
        assert api.get(wheel_link).status_code == 200, "the administrator still reads it"
    for address in (wheel_link, f"{hangar.url}/api/repos/octo/app/builds/1/artifacts"):
        assert httpx.get(address, trust_env=False).status_code == 404, "hidden from anonymous visitors"


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert match, status
    return int(match.group(1)) * 1024


async def test_a_500_mb_artifact_goes_up_and_down_with_the_servers_memory_flat(
    docker_host: str, forge: RecordingForge
) -> None:
    with tempfile.TemporaryDirectory(prefix="hangar-big-artifact-") as folder:
        root = Path(folder)
        with hangar_up(root / "data") as running:
            repo = PushedRepo(root / "git")
            register(running, repo, forge)
            push_and_hook(running, repo, {".ci.yml": BIG_PIPELINE.format(size=1_000_000)}, "a warm-up")
            warm_up = await asyncio.to_thread(running.wait_for_build, "octo/app", 1)
            assert warm_up["status"] == "success", warm_up
            before = _peak_rss(running.process.pid)
            started = time.monotonic()
            push_and_hook(running, repo, {".ci.yml": BIG_PIPELINE.format(size=BIG_BYTES)}, "a big file")
            build = await asyncio.to_thread(running.wait_for_build, "octo/app", 2, 600)
            assert build["status"] == "success", build
            uploaded = time.monotonic() - started
            after_upload = _peak_rss(running.process.pid)
            printed = _checksums(running, 2, build=2)[BIG]
            noted = [line for line in _log(running, 2, build=2) if line.startswith("[hangar] artifact")]
            digest, size, started = hashlib.sha256(), 0, time.monotonic()
            link = f"{running.url}/api/repos/octo/app/builds/2/artifacts/{BIG}"
            with running.api() as api, api.stream("GET", link) as download:
                assert download.status_code == 200
                for chunk in download.iter_bytes(1024 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
            downloaded = time.monotonic() - started
            after_download = _peak_rss(running.process.pid)
    print(
        f"\n500 MB artifact: built and uploaded in {uploaded:.1f} s, downloaded in {downloaded:.1f} s;"
        f" server peak RSS {before / 2**20:.0f} MiB before, {after_upload / 2**20:.0f} MiB after the upload,"
        f" {after_download / 2**20:.0f} MiB after the download; the step's log: {noted}"
    )
    assert (size, digest.hexdigest()) == (BIG_BYTES, printed), "byte-identical"
    assert after_download - before < MEMORY_ALLOWANCE, "the server held the file in memory"
    assert not root.exists()
