"""The web UI in a real browser (Debian's Chromium driven by Playwright) against a real `hangar up` whose
runner runs the builds in Docker: live logs, live states, cancel, private repositories, screenshots."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import open_browser
from tests.e2e.processes import ADMIN_PASSWORD, Hangar, free_port, hangar_runner, hangar_up
from tests.e2e.test_production import start_build, wait_for_step
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

SCREENSHOTS = Path(os.environ.get("HANGAR_SCREENSHOTS", Path(__file__).parents[2] / "build" / "screenshots"))
"""Where the test run saves its screenshots of the pages (to look at them)."""
TICKS = 30

TICKING = f"""\
kind: pipeline
name: test
steps:
  - name: tick
    image: busybox
    commands:
      - for i in $(seq 1 {TICKS}); do echo "tick $i"; sleep 0.2; done
"""

FAILING = """\
kind: pipeline
name: test
steps:
  - name: compile
    image: busybox
    commands: [echo compiled]
  - name: unit
    image: busybox
    commands:
      - for i in $(seq 1 40); do printf '\\033[32mPASS\\033[0m test_%s\\n' $i; done
      - printf '\\033[31mFAIL\\033[0m test_addition expected 4, got 5\\n'
      - exit 3
"""

TWO_STEPS = """\
kind: pipeline
name: test
steps:
  - name: first
    image: busybox
    commands: [echo first, sleep 5]
  - name: second
    image: busybox
    commands:
      - for i in $(seq 1 20); do echo "second $i"; sleep 0.2; done
"""

BROKEN = """\
kind: pipeline
name: test
steps:
  - name: greet
    image: busybox
    commands: [echo hi]
    depends_on: [nosuchstep]
"""

SLEEPING = """\
kind: pipeline
name: test
steps:
  - name: wait
    image: busybox
    commands: [echo started, sleep 120]
  - name: after
    image: busybox
    commands: [echo never]
"""


@pytest.fixture
def hangar(tmp_path: Path, docker_host: str) -> Iterator[Hangar]:
    with hangar_up(tmp_path / "data") as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with open_browser() as opened:
        yield opened


async def sign_in(page: Page, hangar: Hangar) -> None:
    """Sign in as the admin through the sign-in form."""
    await page.goto(f"{hangar.url}/login")
    await page.get_by_label("Login").fill("admin")
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.screenshot(path=shoot("sign-in"))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("admin (admin)")).to_be_visible()


async def log_texts(page: Page) -> list[str | None]:
    """Every line the log viewer holds, in order (None for a line it has not loaded)."""
    texts: list[str | None] = await page.evaluate(
        "() => { const log = document.querySelector('#log').hangarLog;"
        " return Array.from({length: log.totalLines()}, (_, i) => log.loadedLineText(i)); }"
    )
    return texts


def shoot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


async def test_lines_appear_live_and_the_step_and_build_turn_to_success(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    start_build(hangar, PushedRepo(tmp_path / "git"), TICKING)
    wait_for_step(hangar, "running")
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(f"{hangar.url}/octo/app/1/1/2")
    await page.evaluate("() => { window.sameDocument = true; }")
    await expect(page.get_by_text("tick 3", exact=True)).to_be_visible(timeout=30_000)
    assert await page.get_by_text(f"tick {TICKS}", exact=True).count() == 0, (
        "the lines came live, not at once"
    )
    await expect(page.locator("#step-1-2 .status")).to_have_attribute("data-status", "running")
    await expect(page.get_by_text(f"tick {TICKS}", exact=True)).to_be_visible(timeout=60_000)  # followed
    await expect(page.locator("#step-1-2 .status")).to_have_attribute(
        "data-status", "success", timeout=60_000
    )
    await expect(page.locator("#build-status")).to_have_attribute("data-status", "success", timeout=60_000)
    await expect(page.locator("#build-status")).to_contain_text("success")  # words, not colour alone
    assert await page.evaluate("() => window.sameDocument") is True, "the page updated itself, no reload"
    texts = await log_texts(page)
    assert texts[1:] == [f"tick {i}" for i in range(1, TICKS + 1)], "every line once, in order"
    await page.screenshot(path=shoot("build-passing"), full_page=True)

    await page.keyboard.press("Home")  # the steps are reachable by keyboard
    await page.locator("#step-1-1 a").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/octo/app/1/1/1$"))

    await page.goto(f"{hangar.url}/")
    await expect(page.locator(".repo").first).to_contain_text("success")
    await page.screenshot(path=shoot("dashboard"), full_page=True)
    await page.goto(f"{hangar.url}/octo/app")
    await expect(page.locator("table.builds")).to_contain_text("#1")
    await page.screenshot(path=shoot("repository"), full_page=True)
    await page.close()


async def test_the_build_page_moves_on_to_the_step_that_runs_now(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    start_build(hangar, PushedRepo(tmp_path / "git"), TWO_STEPS)
    wait_for_step(hangar, "pending")
    page = await browser.new_page()
    await page.goto(f"{hangar.url}/octo/app/1")
    await expect(page).to_have_url(re.compile(r"/octo/app/1/1/3\?auto$"), timeout=60_000)
    await expect(page.get_by_text("second 5", exact=True)).to_be_visible(timeout=30_000)
    await expect(page.locator("#build-status")).to_have_attribute("data-status", "success", timeout=60_000)
    await page.close()


async def test_a_failing_build_page_shows_the_failing_step_and_its_coloured_lines(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    start_build(hangar, PushedRepo(tmp_path / "git"), FAILING)
    hangar.wait_for_build("octo/app", 1)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{hangar.url}/octo/app/1")
    await expect(page.locator("#build-status")).to_contain_text("failure")
    await expect(page.locator("#step-1-3")).to_have_class(re.compile(r"\bselected\b"))  # the failing step
    failed = page.locator(".log-body .ansi-fg-1", has_text="FAIL")
    await expect(failed).to_be_in_viewport()  # a failed step opens at its end, where the failure is
    await expect(page.locator(".log-title")).to_contain_text("exit code 3")
    await page.screenshot(path=shoot("build-failing"), full_page=True)
    await page.close()


async def test_a_broken_pipeline_shows_which_line_is_wrong(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    start_build(hangar, PushedRepo(tmp_path / "git"), BROKEN)
    with hangar.api() as api:  # open the page as soon as the build exists: the error comes live or drawn
        while api.get("/api/repos/octo/app/builds/1").status_code != 200:
            time.sleep(0.05)
    page = await browser.new_page()
    await page.goto(f"{hangar.url}/octo/app/1")
    error = page.locator("#build-error")
    await expect(error).to_contain_text(".ci.yml:7:", timeout=30_000)
    await expect(error).to_contain_text("nosuchstep")
    await expect(page.locator("#build-status")).to_have_attribute("data-status", "error")
    await expect(page.locator("#no-stages")).to_contain_text("could not be compiled")
    await page.close()


async def test_cancel_from_the_page_stops_the_running_build(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    start_build(hangar, PushedRepo(tmp_path / "git"), SLEEPING)
    page = await browser.new_page()
    await sign_in(page, hangar)
    wait_for_step(hangar, "pending")  # the build exists, its last step not started
    await page.goto(f"{hangar.url}/octo/app/1/1/2")
    await expect(page.get_by_text("started", exact=True)).to_be_visible(timeout=60_000)
    await expect(page.get_by_role("button", name="Restart", exact=True)).to_be_hidden()  # not while it runs
    clicked = time.monotonic()
    await page.get_by_role("button", name="Cancel").click()
    await expect(page.locator("#build-status")).to_have_attribute("data-status", "killed", timeout=30_000)
    elapsed = time.monotonic() - clicked
    await expect(page.locator("#step-1-2 .status")).to_have_attribute("data-status", "killed")
    await expect(page.locator("#step-1-3 .status")).to_have_attribute("data-status", "skipped")
    print(f"cancel: the page showed killed {elapsed:.2f}s after the click")
    await expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
    await expect(page.get_by_role("button", name="Restart", exact=True)).to_be_visible()
    build = hangar.wait_for_build("octo/app", 1, timeout=30)
    assert build["status"] == "killed"
    await page.close()


async def test_an_anonymous_visitor_sees_nothing_of_a_private_repository(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    repo = PushedRepo(tmp_path / "git")
    with hangar.api() as api:
        body = {
            "owner": "acme", "name": "secret-plans", "clone_url": str(repo.bare), "private": True,
            "webhook_secret": WEBHOOK_SECRET,
        }  # fmt: skip
        assert api.post("/api/repos", json=body).status_code == 201
    before, sha = repo.push({".ci.yml": TICKING.replace("tick $i", "classified $i")}, "launch codes")
    hook = github_push("acme", "secret-plans", before, sha, "launch codes")
    httpx.post(f"{hangar.url}/hook", content=hook, headers=github_headers(hook), trust_env=False)
    hangar.wait_for_build("acme/secret-plans", 1)
    anonymous = await browser.new_context()
    page = await anonymous.new_page()
    for path in ("/", "/acme/secret-plans", "/acme/secret-plans/1", "/acme/secret-plans/1/1/2"):
        await page.goto(f"{hangar.url}{path}")
        content = await page.content()
        assert "launch codes" not in content and "classified" not in content, path
    badge = await page.goto(f"{hangar.url}/acme/secret-plans/badge.svg")
    assert badge is not None and badge.status == 404 and "passing" not in await badge.text()
    logs = await page.goto(f"{hangar.url}/api/repos/acme/secret-plans/builds/1/logs/1/2?format=text")
    assert logs is not None and logs.status == 404 and "classified" not in await logs.text()
    await anonymous.close()
    signed_in = await browser.new_page()
    await sign_in(signed_in, hangar)
    await signed_in.goto(f"{hangar.url}/acme/secret-plans/1/1/2")
    await expect(signed_in.get_by_text("classified 5", exact=True)).to_be_visible()
    await signed_in.goto(f"{hangar.url}/acme/secret-plans/settings")
    await signed_in.get_by_label("Name").fill("DEPLOY_KEY")
    await signed_in.get_by_label("Value").fill("not-shown-again")
    await signed_in.get_by_role("button", name="Add secret").click()
    await expect(signed_in.locator("table.secrets")).to_contain_text("DEPLOY_KEY")
    assert "not-shown-again" not in await signed_in.content()
    await signed_in.screenshot(path=shoot("settings"), full_page=True)
    await signed_in.close()


async def test_the_page_resumes_after_the_server_restarts_without_gap_or_duplicate(
    tmp_path: Path, docker_host: str, browser: Browser
) -> None:
    data, port = tmp_path / "data", free_port()
    slow = TICKING.replace(f"seq 1 {TICKS}", "seq 1 60")
    with (
        hangar_up(data, "--no-runner", port=port) as first,
        hangar_runner(first.url, "survivor", tmp_path / "runner.log"),
    ):
        start_build(first, PushedRepo(tmp_path / "git"), slow)
        wait_for_step(first, "running")
        page = await browser.new_page()
        await page.goto(f"{first.url}/octo/app/1/1/2")
        await expect(page.get_by_text("tick 2", exact=True)).to_be_visible(timeout=30_000)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
        time.sleep(3)
        with hangar_up(data, "--no-runner", port=port) as second:
            await expect(page.get_by_text("tick 60", exact=True)).to_be_visible(timeout=90_000)
            await expect(page.locator("#build-status")).to_have_attribute(
                "data-status", "success", timeout=60_000
            )
            second.wait_for_build("octo/app", 1)
        texts = await log_texts(page)
        assert texts[1:] == [f"tick {i}" for i in range(1, 61)], (
            "every line once, in order, across the restart"
        )
        await page.close()
