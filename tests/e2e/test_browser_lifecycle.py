"""Builds that are not pushes, in a real browser (Debian's Chromium driven by Playwright) against a real
`hangar up` whose runner runs them in Docker: a build run from the repository page with a parameter, promoted
from its page to a target, and a blocked build approved from its page; screenshots of each page."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from playwright.async_api import Error as PlaywrightError

from tests.browser import open_browser
from tests.e2e.processes import Hangar, hangar_up
from tests.e2e.test_browser import shoot, sign_in
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

SHOWING = """\
kind: pipeline
name: deploy
steps:
  - name: show
    image: busybox
    commands:
      - echo "version is $VERSION"
      - echo "deploying to $DRONE_DEPLOY_TO"
"""


@pytest.fixture
def hangar(tmp_path: Path, docker_host: str) -> Iterator[Hangar]:
    with hangar_up(tmp_path / "data") as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with open_browser() as opened:
        yield opened


def register(hangar: Hangar, repo: PushedRepo) -> None:
    """Register the repository as octo/app."""
    body = {"owner": "octo", "name": "app", "clone_url": str(repo.bare), "webhook_secret": WEBHOOK_SECRET}
    with hangar.api() as api:
        assert api.post("/api/repos", json=body).status_code == 201


def push(hangar: Hangar, repo: PushedRepo, pipeline: str, message: str) -> None:
    """Push the pipeline and tell Hangar, as GitHub would."""
    before, sha = repo.push({".ci.yml": pipeline}, message)
    hook = github_push("octo", "app", before, sha, message)
    answer = httpx.post(f"{hangar.url}/hook", content=hook, headers=github_headers(hook), trust_env=False)
    assert answer.status_code == 202, answer.text


def wait_for_status(hangar: Hangar, number: int, status: str, timeout: float = 60) -> dict[str, Any]:
    """The build once it has that status."""
    deadline = time.monotonic() + timeout
    with hangar.api() as api:
        while time.monotonic() < deadline:
            answer = api.get(f"/api/repos/octo/app/builds/{number}")
            if answer.status_code == 200 and answer.json()["status"] == status:
                build: dict[str, Any] = answer.json()
                return build
            time.sleep(0.1)
    raise AssertionError(f"build {number} never became {status}:\n{hangar.output()[-3000:]}")


async def log_shows(page: Page, hangar: Hangar, number: int, text: str) -> None:
    """The log of the build's `show` step (stage 1, step 2, after the clone) has the line."""
    step_page = f"{hangar.url}/octo/app/{number}/1/2"
    for attempt in range(3):
        try:
            await page.goto(step_page)
            break
        except PlaywrightError as exc:  # the page being left, still catching up on its events, moved on
            if "interrupted by another navigation" not in str(exc) or attempt == 2:  # by itself meanwhile
                raise  # (the build page follows the running step: `?auto`; a page drawn early reloads once)
            await page.wait_for_load_state()
    await expect(page.get_by_text(text, exact=True)).to_be_visible(timeout=30_000)


async def test_a_build_run_from_the_page_with_a_parameter_is_promoted_from_its_page(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo)
    repo.push({".ci.yml": SHOWING}, "Ship the parser")  # no webhook: the first build is run from the page
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await sign_in(page, hangar)
    await page.goto(f"{hangar.url}/octo/app")
    await page.get_by_text("Run a build").click()
    await expect(page.get_by_label("Branch")).to_have_value("main")  # the default branch
    await page.get_by_label("Parameters").fill("VERSION=1.2.3")
    await page.screenshot(path=shoot("lifecycle-run-form"), full_page=True)
    await page.get_by_role("button", name="Run build").click()
    await expect(page).to_have_url(f"{hangar.url}/octo/app/1")
    await expect(page.locator("#parameters")).to_contain_text("VERSION=1.2.3")
    built = hangar.wait_for_build("octo/app", 1)
    assert (built["status"], built["event"], built["parameters"]) == (
        "success",
        "custom",
        {"VERSION": "1.2.3"},
    )
    await log_shows(page, hangar, 1, "version is 1.2.3")
    await page.screenshot(path=shoot("lifecycle-custom-build"), full_page=True)

    await page.locator("#promote summary").click()
    await page.get_by_label("Target").fill("production")
    await page.get_by_label("Parameters").fill("VERSION=1.2.3")
    await page.screenshot(path=shoot("lifecycle-promote-form"), full_page=True)
    await page.get_by_role("button", name="Promote", exact=True).click()
    await expect(page).to_have_url(f"{hangar.url}/octo/app/2")
    await expect(page.locator(".meta .event")).to_have_text("promote → production")
    promoted = hangar.wait_for_build("octo/app", 2)
    assert (promoted["status"], promoted["event"], promoted["deploy_to"]) == (
        "success",
        "promote",
        "production",
    )
    assert promoted["parent"] == 1 and promoted["sha"] == built["sha"]
    await log_shows(page, hangar, 2, "deploying to production")
    await page.screenshot(path=shoot("lifecycle-promoted-build"), full_page=True)
    await page.goto(f"{hangar.url}/octo/app")
    await expect(page.locator("table.builds")).to_contain_text("promote → production")
    await page.screenshot(path=shoot("lifecycle-repository"), full_page=True)
    await page.close()


async def test_a_blocked_build_is_approved_in_the_page_and_runs_to_success(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await sign_in(page, hangar)
    await page.goto(f"{hangar.url}/octo/app/settings")
    await page.locator("select[name=approval]").select_option("all")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await expect(page.locator("select[name=approval]")).to_have_value("all")
    await page.get_by_label("Cron", exact=True).fill("nightly")
    await page.get_by_label("Expression").fill("0 3 * *")
    await page.get_by_role("button", name="Add cron").click()
    await expect(page.locator("#cron-problem")).to_contain_text("has 4 fields")  # told beside the form
    await page.locator("#crons").screenshot(path=shoot("lifecycle-cron-problem"))
    await page.get_by_label("Expression").fill("0 3 * * *")
    await page.get_by_role("button", name="Add cron").click()
    await expect(page.locator("#cron-nightly")).to_contain_text("03:00 UTC")
    await page.screenshot(path=shoot("lifecycle-settings"), full_page=True)

    push(hangar, repo, SHOWING, "Needs a look first")
    wait_for_status(hangar, 1, "blocked")
    await page.goto(f"{hangar.url}/octo/app/1")
    await expect(page.locator("#approval")).to_contain_text(
        "every build of this repository is approved first"
    )
    await expect(page.locator("#build-status")).to_have_attribute("data-status", "blocked")
    await page.screenshot(path=shoot("lifecycle-blocked-build"), full_page=True)
    await page.get_by_role("button", name="Approve").click()
    await expect(page.locator("#build-status")).to_have_attribute("data-status", "success", timeout=120_000)
    await expect(page.locator("#approval")).to_have_count(0)
    await expect(page.locator("#build-error")).to_contain_text("approved by admin")
    assert hangar.wait_for_build("octo/app", 1)["status"] == "success"
    await page.screenshot(path=shoot("lifecycle-approved-build"), full_page=True)
    await page.close()


LIMITED = """\
kind: pipeline
name: deploy
concurrency:
  limit: 1
steps:
  - name: slow
    image: busybox
    commands: [echo started, sleep 6]
"""


async def test_a_stage_waiting_for_its_concurrency_limit_says_why_until_it_runs(
    hangar: Hangar, tmp_path: Path, browser: Browser
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo)
    repo.push({".ci.yml": LIMITED})
    with hangar.api() as api:
        for _ in range(2):
            assert api.post("/api/repos/octo/app/builds").status_code == 201
    wait_for_status(hangar, 1, "running")
    page = await browser.new_page(viewport={"width": 1280, "height": 700})
    await page.goto(f"{hangar.url}/octo/app/2")
    waiting = page.locator("#stage-1 .stage-waiting")
    await expect(waiting).to_have_text("waiting: 1 of 1 'deploy' already running in #1")
    await page.screenshot(path=shoot("lifecycle-waiting-stage"), full_page=True)
    await expect(waiting).to_be_hidden(timeout=60_000)  # live: #1 finished, this one runs
    await expect(page.locator("#build-status")).to_have_attribute("data-status", "success", timeout=60_000)
    await page.close()
