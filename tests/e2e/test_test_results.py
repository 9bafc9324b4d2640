"""End to end, all real: a Python project's tests run with real pytest in `python:3.11`; the failing tests
reach the Tests view (Chromium), the email (aiosmtpd), the commit status (a recording forge) and the API,
from JUnit reports or from the log alone; a restart that passes marks the test flaky; a missing image and a
step killed for memory end as infrastructure failures."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from tests.browser import open_browser
from tests.e2e.processes import Hangar
from tests.e2e.test_browser import SCREENSHOTS
from tests.e2e.test_push_to_build import _finished, _until, hangar, push_and_hook, register, statuses_for
from tests.peers import RecordingForge, SmtpServer
from tests.server.support import PushedRepo

__all__ = ["hangar"]  # the fixture, shared with test_push_to_build

FAILING = {7, 21, 33}
WITH_REPORTS = """\
kind: pipeline
name: test
steps:
  - name: pytest
    image: python:3.11
    pull: always
    commands: ["python3 -m pytest -p no:cacheprovider --junitxml=build/junit.xml tests"]
    reports: ["build/*.xml"]
"""
LOG_ONLY = """\
kind: pipeline
name: test
steps:
  - name: pytest
    image: python:3.11
    pull: always
    commands: ["python3 -m pytest -p no:cacheprovider tests"]
"""
FLAKY = """\
kind: pipeline
name: test
steps:
  - name: pytest
    image: python:3.11
    pull: always
    commands: ["python3 -m pytest -p no:cacheprovider --junitxml=$HANGAR_REPORTS/junit.xml tests"]
"""
MISSING_IMAGE = """\
kind: pipeline
name: test
steps:
  - name: build
    image: nope/does-not-exist:1
    commands: [true]
"""
OUT_OF_MEMORY = """\
kind: pipeline
name: test
steps:
  - name: hungry
    image: python:3.11
    mem_limit: 64m
    memswap_limit: 64m
    commands: ["python3 -c 'blocks = [bytearray(16 << 20) for _ in range(64)]'"]
"""


def project() -> dict[str, str]:
    """40 tests, numbers 7, 21 and 33 failing with an assertion message naming them."""
    tests = ["def _check(number):", "    assert number not in (7, 21, 33), f'test {number} broke'", ""]
    for number in range(40):
        tests += [f"def test_{number:02d}():", f"    _check({number})", ""]
    return {"tests/test_app.py": "\n".join(tests)}


def flaky_project() -> dict[str, str]:
    """A test that fails in build 1 and passes when the same commit is built again."""
    return {
        "tests/test_flaky.py": "import os\n\n\ndef test_payment():\n"
        "    assert os.environ['DRONE_BUILD_NUMBER'] != '1', 'payment gateway timed out'\n"
    }


async def _three_of_forty(hangar: Hangar, forge: RecordingForge, smtp: SmtpServer, sha: str) -> None:
    """What everyone is told about build 1: the API, the commit status and the email agree."""
    build = await _finished(hangar, 1)
    assert build["status"] == "failure", build
    with hangar.api() as api:
        tests = api.get("/api/repos/octo/app/builds/1/tests", params={"outcome": "failed"}).json()
    names = [test["name"] for test in tests["tests"]]
    assert names == ["test_07", "test_21", "test_33"]
    assert "test 21 broke" in tests["tests"][1]["message"]
    await _until(lambda: statuses_for(forge, sha)[-1:] == ["failure"], "the failure status")
    final = [r.body for r in forge.requests if r.body.get("state") == "failure"][-1]
    assert final["description"] == "3 of 40 tests failed: test_07, test_21, test_33"
    await _until(lambda: len(smtp.inbox.messages) == 1, "the email")
    message = email.message_from_bytes(smtp.inbox.messages[0].content, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Failing tests (3 of 40 tests failed):" in text
    assert all(f"x test_{n:02d}" in text for n in FAILING)


async def test_three_failing_tests_of_forty_from_junit_reach_the_page_the_email_the_forge_and_the_api(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    sha = push_and_hook(hangar, repo, {".ci.yml": WITH_REPORTS, **project()}, "three tests broke")

    await _three_of_forty(hangar, forge, smtp_server, sha)
    with hangar.api() as api:
        everything = api.get("/api/repos/octo/app/builds/1/tests").json()
    assert everything["counts"] == {"passed": 37, "failed": 3, "errors": 0, "skipped": 0, "total": 40}

    async with open_browser() as browser:
        page = await browser.new_page()
        await page.goto(f"{hangar.url}/octo/app/1")
        listed = await page.locator(".failing-test .test-name").all_inner_texts()
        messages = await page.locator(".failing-test .test-message").all_inner_texts()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "tests-failing.png"), full_page=True)
        await page.goto(f"{hangar.url}/octo/app/1/tests")
        first = await page.locator(".test-list .test-name").all_inner_texts()
        await page.screenshot(path=str(SCREENSHOTS / "tests-view.png"), full_page=True)
    assert listed == ["test_07", "test_21", "test_33"]
    assert all("broke" in message for message in messages)
    assert first[:3] == ["test_07", "test_21", "test_33"] and len(first) == 40


async def test_without_reports_the_failures_are_recognised_from_the_log_alone(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    sha = push_and_hook(hangar, repo, {".ci.yml": LOG_ONLY, **project()}, "three tests broke")

    await _three_of_forty(hangar, forge, smtp_server, sha)
    with hangar.api() as api:
        failed = api.get("/api/repos/octo/app/builds/1/tests").json()
    assert failed["counts"]["total"] == 40
    assert all(test["log_line"] is not None for test in failed["tests"])


async def test_a_test_that_fails_then_passes_on_a_restart_is_flaky(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    push_and_hook(hangar, repo, {".ci.yml": FLAKY, **flaky_project()}, "pay")
    assert (await _finished(hangar, 1))["status"] == "failure"
    with hangar.api() as api:
        assert api.post("/api/repos/octo/app/builds/1").status_code == 201
    assert (await _finished(hangar, 2))["status"] == "success"

    with hangar.api() as api:
        key = api.get("/api/repos/octo/app/builds/1/tests").json()["tests"][0]["key"]
        history = api.get(f"/api/repos/octo/app/tests/{key}").json()
        flakiest = api.get("/api/repos/octo/app/tests").json()
        page = api.get("/octo/app").text
    assert [(h["build"], h["outcome"], h["flaky"]) for h in history["history"]] == [
        (2, "passed", True),
        (1, "failed", True),
    ]
    assert [test["name"] for test in flakiest["flaky"]] == ["test_payment"]
    assert "<strong>test_payment</strong>" in page


async def test_a_missing_image_and_a_step_out_of_memory_are_infrastructure_failures(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    with hangar.api() as api:
        assert api.patch("/api/repos/octo/app", json={"trusted": True}).status_code == 200
    push_and_hook(hangar, repo, {".ci.yml": MISSING_IMAGE}, "a typo in the image")
    push_and_hook(hangar, repo, {".ci.yml": OUT_OF_MEMORY}, "a hungry step")

    missing, hungry = await _finished(hangar, 1), await _finished(hangar, 2)

    assert missing["status"] == "error" and missing["infrastructure"] == "image not found"
    assert hungry["status"] == "failure" and hungry["infrastructure"] == "out of memory", hungry
    await _until(lambda: len(smtp_server.inbox.messages) == 2, "two emails")
    subjects = sorted(
        str(email.message_from_bytes(m.content, policy=email.policy.default)["Subject"])
        for m in smtp_server.inbox.messages
    )
    assert subjects == [
        "[octo/app] main #1 error (infrastructure: image not found)",
        "[octo/app] main #2 failure (infrastructure: out of memory)",
    ]
