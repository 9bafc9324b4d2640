"""The build page's log viewer (webui/static/log-viewer.js) in headless Chromium, served by log_harness."""

from __future__ import annotations

import asyncio
import contextlib
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import Browser, Expect, Page

from tests.browser import open_browser
from tests.webui.log_harness import PAGE_PATH, GeneratedLines, HarnessLog, serve
from webui.ansi import ansi_to_html, strip_ansi

expect = Expect()  # this module's own, so its timeout changes no other test's
expect.set_options(timeout=20_000)  # a loaded 2-core machine; these are waits, never timing assertions

DONE = {"status": "success", "exit_code": 0}
SECTION = "document.getElementById('log')"
ROWS = "#log .log-body .line"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium for one test."""
    async with open_browser() as launched:
        yield launched


@contextlib.asynccontextmanager
async def log_page(browser: Browser, log: HarnessLog, fragment: str = "") -> AsyncIterator[Page]:
    """The harness serving `log`, and a page showing it with the viewer mounted; no script error allowed."""
    with serve(log) as base:
        context = await browser.new_context(viewport={"width": 1280, "height": 720})
        errors: list[str] = []
        try:
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{base}{PAGE_PATH}{fragment}")
            await page.wait_for_function(f"() => {SECTION}.hangarLog !== undefined")
            yield page
        finally:
            await context.close()
        assert errors == []


def numbered(position: int) -> str:
    """The text of a generated line."""
    return f"line {position + 1}: compiling module {position % 97}"


async def total_lines(page: Page) -> int:
    """The lines the viewer knows of."""
    total: int = await page.evaluate(f"() => {SECTION}.hangarLog.totalLines()")
    return total


async def wait_for_total(page: Page, count: int) -> None:
    """Wait until the viewer knows exactly `count` lines."""
    await page.wait_for_function(f"(n) => {SECTION}.hangarLog.totalLines() === n", arg=count)


async def loaded_texts(page: Page) -> list[str | None]:
    """Every line's text as the viewer holds it (None where not loaded)."""
    texts: list[str | None] = await page.evaluate(
        f"() => {{ const log = {SECTION}.hangarLog; "
        "return [...Array(log.totalLines()).keys()].map(log.loadedLineText); }"
    )
    return texts


async def rendered_rows(page: Page) -> list[tuple[str, str]]:
    """(id, text) of the rows in the DOM, in DOM order."""
    rows: list[tuple[str, str]] = await page.evaluate(
        f"() => [...document.querySelectorAll('{ROWS}')].map(row => [row.id, row.lastChild.textContent])"
    )
    return rows


async def scroll_to_line(page: Page, n: int) -> None:
    """Scroll the viewer so line n (1-based) is in view."""
    await page.evaluate(f"(n) => {SECTION}.hangarLog.scrollToLine(n)", n)


async def after_two_frames(page: Page) -> None:
    """Wait until the page has rendered two more frames (the viewer draws in animation frames)."""
    await page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


async def line_in_view(page: Page, n: int) -> bool:
    """Whether line n's row is in the DOM and inside the scroller's visible area."""
    in_view: bool = await page.evaluate(
        """(n) => {
            const row = document.getElementById("L" + n);
            if (!row) return false;
            const box = row.getBoundingClientRect(), view = row.closest(".log-body").getBoundingClientRect();
            return box.bottom > view.top && box.top < view.bottom;
        }""",
        n,
    )
    return in_view


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait until the harness side sees `condition` (polling; gives up after about 20 s)."""
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


# ---------------------------------------------------------------- long finished logs


async def test_a_long_log_shows_its_start_and_keeps_few_rows_and_pages_wherever_it_is_scrolled(
    browser: Browser,
) -> None:
    log = HarnessLog(lines=GeneratedLines(200_000, numbered), done=DONE)
    async with log_page(browser, log) as page:
        await expect(page.locator("#L1 .text")).to_have_text(numbered(0))
        await expect(page.locator("#L1")).to_be_in_viewport()
        await expect(page.locator("#log .log-pages")).to_be_hidden()  # the no-JS page links
        assert await page.locator(ROWS).count() < 300
        assert await total_lines(page) == 200_000

        for n in range(1, 200_001, 3_999):  # 51 places: more pages than the viewer may keep
            await scroll_to_line(page, n)
            await expect(page.locator(f"#L{n} .text")).to_have_text(numbered(n - 1))
            await expect(page.locator(f"#L{n}")).to_be_in_viewport()
        stats = await page.evaluate("() => window.hangarLogStats")
        assert stats["pagesCached"] <= 40
        assert stats["linesKnown"] == 200_000
        assert stats["firstLinePaintedAt"] is not None

        await page.locator("#log .log-body").focus()
        await page.keyboard.press("End")
        await expect(page.locator("#L200000 .text")).to_have_text(numbered(199_999))
        await expect(page.locator("#L200000")).to_be_in_viewport()
        assert await page.locator(ROWS).count() < 300
        assert (await page.evaluate("() => window.hangarLogStats"))["pagesCached"] <= 40

        await page.keyboard.press("Home")
        await expect(page.locator("#L1 .text")).to_have_text(numbered(0))  # fetched again after eviction
        await expect(page.locator("#L1")).to_be_in_viewport()
        await page.keyboard.press("PageDown")
        await expect(page.locator("#L1")).not_to_be_in_viewport()
        await expect(page.locator("#L30")).to_be_in_viewport()
        await page.keyboard.press("PageUp")
        await expect(page.locator("#L1")).to_be_in_viewport()


async def test_a_million_line_log_is_reachable_to_its_last_line(browser: Browser) -> None:
    log = HarnessLog(lines=GeneratedLines(1_000_000, numbered), done=DONE)
    async with log_page(browser, log) as page:
        await expect(page.locator("#L1 .text")).to_have_text(numbered(0))
        body = page.locator("#log .log-body")
        await body.focus()
        await page.keyboard.press("End")
        await expect(page.locator("#L1000000 .text")).to_have_text(numbered(999_999))
        await expect(page.locator("#L1000000")).to_be_in_viewport()

        await body.evaluate(
            "b => { b.scrollTop = (b.scrollHeight - b.clientHeight) / 2; }"
        )  # the scrollbar's middle
        await expect(page.locator("#L499995 .text")).to_have_text(numbered(499_994))
        await expect(page.locator("#L499995")).to_be_in_viewport()

        await scroll_to_line(page, 765_432)
        await expect(page.locator("#L765432 .text")).to_have_text(numbered(765_431))
        await expect(page.locator("#L765432")).to_be_in_viewport()
        assert await page.locator(ROWS).count() < 300


async def test_a_line_anchor_opens_the_log_at_that_line_highlighted(browser: Browser) -> None:
    log = HarnessLog(lines=GeneratedLines(5_000, numbered), done=DONE)
    async with log_page(browser, log, fragment="#L1500") as page:
        row = page.locator("#L1500")
        await expect(row.locator(".text")).to_have_text(numbered(1_499))
        await expect(row).to_be_in_viewport()
        await expect(row).to_have_class(re.compile(r"\bselected\b"))
        assert await page.locator(f"{ROWS}.selected").count() == 1
        await expect(page.locator("#L1")).not_to_be_in_viewport()


async def test_clicking_a_line_number_selects_the_line_and_puts_it_in_the_address(browser: Browser) -> None:
    log = HarnessLog(lines=[(0.1 * i, f"output {i + 1}") for i in range(20)], done=DONE)
    async with log_page(browser, log) as page:
        await page.locator("#L3 a.ln").click()
        await expect(page.locator("#L3")).to_have_class(re.compile(r"\bselected\b"))
        assert page.url.endswith("#L3")
        await page.locator("#L5 a.ln").click()
        await expect(page.locator("#L5")).to_have_class(re.compile(r"\bselected\b"))
        await expect(page.locator("#L3")).not_to_have_class(re.compile(r"\bselected\b"))
        assert page.url.endswith("#L5")


# ---------------------------------------------------------------- what a line shows

ANSI_SAMPLES = [
    "\x1b[31mFAILED\x1b[0m tests/test_app.py::test_login",
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2"> & "quotes"',
    "\x1b[1;38;5;196mbold red\x1b[22m not bold\x1b[38;2;10;20;30m truecolour\x1b[39;44m on blue\x1b[0m",
    "progress  10%\rprogress 100%\r",
    "\x1b[?25l\x1b]0;window title\x07hidden cursor\x1b(B\x1b[m \x1b[Kdone",
    "\x1b[2;3;4;97;101mall attributes\x1b[23;24mno italic or underline\x1b[49m",
    "\x1b[38:2::255:128:0mcolon truecolour\x1b[4:0m\x1b[38;5;9m bright by 256",
    # Malformed colour parameters: skipped, never an exception or a NaN colour.
    "\x1b[38;5;1:2mcoloured",
    "\x1b[38;2;1;2;3:4mtruecolour with a colon\x1b[48;5;:m background",
    "\x1b[38;2;300:1;2;3mchannel\x1b[38;2;1:2;3;4m channels",
    "\x1b[1;38;5;1:2;4mbold and underlined\x1b[31;48;2;1;2;3:4;22m red",
    "\x1b[38;5;mempty\x1b[38;2;;;m parts\x1b[38;2;1;;3m here\x1b[38:5:m\x1b[38:2:1::3m and here",
    "\x1b[38;5;256mout of range\x1b[38;2;1;2;256m too\x1b[38;2;1;2m too few",
    "\x1b[38;5;99999999999999999999mhuge\x1b[38;2;99999999999999999999;0;0m number\x1b[99999999999999999999m",
    "\x1b[00000000000000000031mleading zeros\x1b[38;5;0000000000000000000196m 256",
    f"\x1b[{'9' * 5000};1mthousands of digits\x1b[38;5;{'1' * 5000}m in a parameter",
    "\x1b[1:2:3:4:5:6:7:8msub-parameters\x1b[:::;;:m reset",
    # Stray escapes and control characters: removed alone, taking no text with them.
    "\x1bhello",
    "a\x1b world",
    "\x1bc reset\x1bcargo \x1b7saved\x1b=keypad \x1b(Bcharset \x1b%Gutf-8\x1b",
    "nul\x00 bell\x07 del\x7f c1\x85 tab\tkept\x1b[1 q cursor",
    "\x9b31meight-bit CSI\x9b0m \x1b]8;;https://example.com/\x1b\\link\x1b]8;;\x1b\\ text\x1b]0;unterminated",
]


def server_runs(text: str) -> list[list[str]]:
    """[classes, style, text] of each run as the server-side renderer (webui/ansi.py) writes the line."""
    root = ET.fromstring(f"<pre>{ansi_to_html(text)}</pre>")
    runs = [["", "", root.text]] if root.text else []
    for span in root:
        runs.append([span.get("class", ""), span.get("style", ""), span.text or ""])
        if span.tail:
            runs.append(["", "", span.tail])
    return runs


async def test_colours_become_the_shared_classes_and_markup_in_a_log_shows_as_text(browser: Browser) -> None:
    log = HarnessLog(lines=[(0.0, text) for text in ANSI_SAMPLES], done=DONE)
    async with log_page(browser, log) as page:
        red = page.locator("#L1 .text span.ansi-fg-1")
        await expect(red).to_have_text("FAILED")
        await expect(page.locator("#L1 .text")).to_have_text("FAILED tests/test_app.py::test_login")

        await expect(page.locator("#L2 .text")).to_have_text("<script>window.__pwned = 1</script>")
        await expect(page.locator("#L3 .text")).to_have_text(
            '<img src=x onerror="window.__pwned = 2"> & "quotes"'
        )
        assert await page.locator("#log script, #log img").count() == 0
        assert await page.evaluate("() => window.__pwned") is None

        await expect(page.locator("#L4 .text span.ansi-bold")).to_have_css("color", "rgb(255, 0, 0)")
        await expect(page.locator("#L4 .text span.ansi-bg-4")).to_have_text(" on blue")
        await expect(page.locator("#L5 .text")).to_have_text("progress 100%")
        await expect(page.locator("#L6 .text")).to_have_text("hidden cursor done")
        all_attributes = page.locator(
            "#L7 .text span.ansi-dim.ansi-italic.ansi-underline.ansi-fg-15.ansi-bg-9"
        )
        await expect(all_attributes).to_have_text("all attributes")

        # The same spans as the page the server renders for readers without JavaScript.
        as_runs = "line => HangarLog.parseAnsi(line).map(s => [s.classes, s.css.slice(0, -1), s.text])"
        viewer_runs = await page.evaluate(f"lines => lines.map({as_runs})", ANSI_SAMPLES)
        assert viewer_runs == [server_runs(text) for text in ANSI_SAMPLES]

        # The same text as the server searches in, held and shown.
        plain = [strip_ansi(text) for text in ANSI_SAMPLES]
        assert await loaded_texts(page) == plain
        await page.wait_for_function(
            "n => document.querySelectorAll('#log .log-body .line:not(.pending)').length === n",
            arg=len(plain),
        )
        shown = dict(await rendered_rows(page))
        assert shown == {f"L{n}": text for n, text in enumerate(plain, start=1)}


async def test_the_timestamps_checkbox_shows_each_line_s_time(browser: Browser) -> None:
    log = HarnessLog(
        lines=[(0.41, "started"), (62.44, "a minute later"), (3725.25, "an hour later")], done=DONE
    )
    async with log_page(browser, log) as page:
        await expect(page.locator("#L2 .text")).to_have_text("a minute later")
        await expect(page.locator("#L1 .time")).to_be_hidden()
        await page.locator(".log-times").check()
        await expect(page.locator("#L1 .time")).to_have_text("0:00.4")
        await expect(page.locator("#L2 .time")).to_have_text("1:02.4")
        await expect(page.locator("#L3 .time")).to_have_text("62:05.3")
        await expect(page.locator("#L2 .time")).to_be_visible()
        await page.locator(".log-times").uncheck()
        await expect(page.locator("#L2 .time")).to_be_hidden()


async def test_a_long_line_scrolls_sideways_instead_of_wrapping(browser: Browser) -> None:
    long_line = "x" * 600 + " \x1b[32mEND\x1b[0m"
    log = HarnessLog(lines=[(0.0, "short"), (0.1, long_line), (0.2, "short again")], done=DONE)
    async with log_page(browser, log) as page:
        end = page.locator("#L2 .text span.ansi-fg-2")
        await expect(end).to_have_text("END")
        heights = await page.evaluate(
            "() => [1, 2, 3].map(n => document.getElementById('L' + n).getBoundingClientRect().height)"
        )
        assert heights[0] == heights[1] == heights[2]  # one line each: nothing wrapped
        await expect(end).not_to_be_in_viewport()
        await page.locator("#log .log-body").evaluate("b => { b.scrollLeft = b.scrollWidth; }")
        await expect(end).to_be_in_viewport()


# ---------------------------------------------------------------- search


def with_needles(position: int) -> str:
    """Generated lines where every 20,000th says NEEDLE."""
    return numbered(position) + (" NEEDLE found" if (position + 1) % 20_000 == 0 else "")


async def test_search_finds_lines_in_pages_not_loaded_and_moves_between_them(browser: Browser) -> None:
    log = HarnessLog(lines=GeneratedLines(200_000, with_needles), done=DONE)
    async with log_page(browser, log) as page:
        await expect(page.locator("#L1 .text")).to_have_text(numbered(0))
        assert await page.evaluate(f"() => {SECTION}.hangarLog.loadedLineText(19999)") is None
        result = page.locator(".log-search-result")
        query = page.locator(".log-search input[name=q]")

        await query.fill("needle")
        await query.press("Enter")
        await expect(result).to_have_text("1 of 10 matches")
        first = page.locator("#L20000")
        await expect(first).to_be_in_viewport()
        await expect(first).to_have_class(re.compile(r"\bcurrent-match\b"))
        await expect(first.locator("mark")).to_have_text("NEEDLE")
        assert page.url.endswith(PAGE_PATH)  # the form did not navigate

        await query.press("Enter")
        await expect(result).to_have_text("2 of 10 matches")
        await expect(page.locator("#L40000")).to_be_in_viewport()
        await expect(page.locator("#L40000")).to_have_class(re.compile(r"\bcurrent-match\b"))

        next_button = page.get_by_role("button", name="Next", exact=True)
        await next_button.focus()
        await page.keyboard.press("Enter")
        await expect(result).to_have_text("3 of 10 matches")
        await expect(page.locator("#L60000")).to_be_in_viewport()

        await page.get_by_role("button", name="Prev", exact=True).click()
        await expect(result).to_have_text("2 of 10 matches")
        await expect(page.locator("#L40000")).to_be_in_viewport()
        await page.get_by_role("button", name="Prev", exact=True).click()
        await page.get_by_role("button", name="Prev", exact=True).click()
        await expect(result).to_have_text("10 of 10 matches")
        await expect(page.locator("#L200000")).to_be_in_viewport()

        await query.fill("no such words")
        await query.press("Enter")
        await expect(result).to_have_text("no match")
        assert await page.locator(f"{ROWS}.match").count() == 0
        assert await page.locator("#log mark").count() == 0


# ---------------------------------------------------------------- live logs


def live_log(count: int) -> HarnessLog:
    """A running step that has printed `count` lines."""
    log = HarnessLog()
    for n in range(1, count + 1):
        log.append(f"live line {n}")
    return log


async def watch_for_done(page: Page) -> None:
    """Record the detail of the section's hangar:log-done event in window.logDone."""
    await page.evaluate(
        "() => { window.logDone = null; "
        f"{SECTION}.addEventListener('hangar:log-done', event => (window.logDone = event.detail)); }}"
    )


async def assert_every_line_once_in_order(page: Page, expected: list[str]) -> None:
    """The viewer holds exactly `expected`, and its rows (seen from top to bottom) show it, each once."""
    assert await loaded_texts(page) == expected
    seen: dict[str, str] = {}
    for n in (1, len(expected) // 2, len(expected)):
        await scroll_to_line(page, n)
        await expect(page.locator(f"#L{n} .text")).to_have_text(expected[n - 1])
        rows = await rendered_rows(page)
        ids = [int(row_id[1:]) for row_id, _ in rows]
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # no row twice, none missing, in order
        seen.update(rows)
    assert seen == {f"L{n}": text for n, text in enumerate(expected, start=1)}


async def test_live_lines_appear_in_order_and_survive_a_dropped_stream_and_a_502(browser: Browser) -> None:
    log = live_log(5)
    async with log_page(browser, log) as page:
        await watch_for_done(page)
        await expect(page.locator(".log-follow")).to_be_checked()
        await eventually(lambda: log.open_streams == 1, "the live stream")
        assert log.stream_requests[0].start == 5

        for n in range(6, 41):  # one at a time, each seen before the next
            log.append(f"live line {n}")
            await expect(page.locator(f"#L{n} .text")).to_have_text(f"live line {n}")
        await expect(page.locator("#L40")).to_be_in_viewport()  # following the end
        await expect(page.locator("#L1")).not_to_be_in_viewport()

        log.fail_streams = 1  # the browser's own reconnect meets a restarting server
        log.drop_streams()
        await eventually(lambda: len(log.stream_requests) >= 2, "the browser's reconnect")
        for n in range(41, 61):
            log.append(f"live line {n}")
        await wait_for_total(page, 60)
        await expect(page.locator("#L60")).to_be_in_viewport()
        refused, reopened = log.stream_requests[1], log.stream_requests[2]
        assert refused.status == 502
        assert refused.last_event_id is not None
        assert reopened.last_event_id is None  # a new EventSource, at the next line
        assert reopened.start == refused.last_event_id + 1

        log.finish()
        await page.wait_for_function("() => window.logDone !== null")
        assert await page.evaluate("() => window.logDone") == DONE
        await expect(page.locator("#log")).to_have_attribute("data-done", "1")
        await assert_every_line_once_in_order(page, [f"live line {n}" for n in range(1, 61)])


async def test_a_resumed_stream_repeating_lines_or_skipping_one_still_shows_each_line_once(
    browser: Browser,
) -> None:
    log = live_log(10)
    async with log_page(browser, log) as page:
        await eventually(lambda: log.open_streams == 1, "the live stream")
        log.append("live line 11")  # an event with an id, which a reconnecting browser sends back
        await expect(page.locator("#L11 .text")).to_have_text("live line 11")

        log.replay_on_resume = 6  # the server resumes six lines before Last-Event-ID
        log.drop_streams()
        await eventually(lambda: len(log.stream_requests) == 2 and log.open_streams == 1, "the reconnect")
        assert log.stream_requests[1].last_event_id == 10
        for n in range(12, 21):
            log.append(f"live line {n}")
        await wait_for_total(page, 20)

        log.skip_once = {24}  # line 25 never comes over the stream
        for n in range(21, 31):
            log.append(f"live line {n}")
        await wait_for_total(page, 30)
        await expect(page.locator("#L25 .text")).to_have_text("live line 25")
        log.finish()
        await expect(page.locator("#log")).to_have_attribute("data-done", "1")
        await assert_every_line_once_in_order(page, [f"live line {n}" for n in range(1, 31)])


async def test_a_restarted_step_replaces_the_log_with_the_new_one(browser: Browser) -> None:
    log = live_log(30)
    async with log_page(browser, log) as page:
        await eventually(lambda: log.open_streams == 1, "the live stream")
        await expect(page.locator("#L30 .text")).to_have_text("live line 30")

        log.restart([(0.0, "second run 1"), (0.1, "second run 2")])
        await wait_for_total(page, 2)
        await expect(page.locator("#L1 .text")).to_have_text("second run 1")
        await expect(page.locator("#L3")).to_have_count(0)
        log.append("second run 3")
        await expect(page.locator("#L3 .text")).to_have_text("second run 3")
        log.finish()
        await expect(page.locator("#log")).to_have_attribute("data-done", "1")
        assert await loaded_texts(page) == ["second run 1", "second run 2", "second run 3"]


async def test_follow_stops_when_scrolling_up_and_resumes_at_the_bottom(browser: Browser) -> None:
    log = live_log(100)
    async with log_page(browser, log) as page:
        follow = page.locator(".log-follow")
        await expect(follow).to_be_checked()
        await expect(page.locator("#L100")).to_be_in_viewport()
        await eventually(lambda: log.open_streams == 1, "the live stream")

        await page.locator("#log .log-body").hover()
        await page.mouse.wheel(0, -400)
        await expect(follow).not_to_be_checked()
        top = await page.evaluate(f"() => {SECTION}.querySelector('.log-body').scrollTop")
        for n in range(101, 111):
            log.append(f"live line {n}")
        await wait_for_total(page, 110)
        await after_two_frames(page)
        assert not await line_in_view(page, 110)  # the view stayed where the reader is
        assert await page.evaluate(f"() => {SECTION}.querySelector('.log-body').scrollTop") == top
        await expect(follow).not_to_be_checked()

        await page.locator("#log .log-body").focus()
        await page.keyboard.press("End")  # back at the very bottom of a live log: following again
        await expect(follow).to_be_checked()
        log.append("live line 111")
        await expect(page.locator("#L111")).to_be_in_viewport()

        await page.keyboard.press("Home")
        await expect(follow).not_to_be_checked()
        await expect(page.locator("#L1")).to_be_in_viewport()
        await follow.check()  # checking it jumps to the end
        await expect(page.locator("#L111")).to_be_in_viewport()
        log.append("live line 112")
        await expect(page.locator("#L112")).to_be_in_viewport()
