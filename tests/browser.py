"""Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ChromiumMissingError(RuntimeError):
    """Debian's chromium is not installed (Playwright's own browser downloads are not possible here)."""


@contextlib.asynccontextmanager
async def open_browser() -> AsyncIterator[Browser]:
    """A headless Chromium, closed (with Playwright) on leaving the block."""
    if not CHROMIUM.exists():
        raise ChromiumMissingError(
            f"{CHROMIUM} is missing: install Debian's chromium: apt-get install chromium"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
