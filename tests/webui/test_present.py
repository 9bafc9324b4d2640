"""The view helpers: status symbols and words, durations, times and commit text as users read them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.status import Status
from webui.present import (
    elapsed,
    first_line,
    format_duration,
    iso_time,
    short_sha,
    status_icon,
    status_label,
    time_ago,
    utc_time,
)

NOW = datetime(2026, 11, 26, 9, 12, 3, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("status", "icon", "label"),
    [
        (Status.SUCCESS, "✓", "success"),
        (Status.FAILURE, "✗", "failure"),
        (Status.ERROR, "!", "error"),
        (Status.KILLED, "⊘", "killed"),
        (Status.SKIPPED, "↷", "skipped"),
        (Status.DECLINED, "⊘", "declined"),
        (Status.RUNNING, "●", "running"),
        (Status.PENDING, "○", "pending"),
        (Status.WAITING, "◔", "waiting"),
        (Status.BLOCKED, "⏸", "blocked"),
    ],
)
def test_every_status_has_a_symbol_and_words(status: Status, icon: str, label: str) -> None:
    assert status_icon(status) == icon
    assert status_icon(status.value) == icon  # plain strings from the database work the same
    assert status_label(status.value) == label


def test_an_unknown_status_is_a_question_mark_and_readable_words() -> None:
    assert status_icon("exploded") == "?"
    assert status_label("on_fire") == "on fire"


def test_the_failed_outcomes_have_symbols_that_tell_them_apart_from_success() -> None:
    symbols = {status_icon(status) for status in (Status.FAILURE, Status.ERROR, Status.KILLED)}
    assert status_icon(Status.SUCCESS) not in symbols
    assert len(symbols) == 3


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0, "0s"),
        (0.4, "0s"),
        (-3, "0s"),
        (45, "45s"),
        (59.6, "59s"),
        (59.9, "59s"),
        (60, "1m 00s"),
        (63, "1m 03s"),
        (190, "3m 10s"),
        (3599, "59m 59s"),
        (3600, "1h 00m"),
        (2 * 3600 + 5 * 60 + 59, "2h 05m"),
        (30 * 3600, "30h 00m"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_elapsed_runs_to_the_finish_or_to_now() -> None:
    assert elapsed(None, None, NOW) is None
    assert elapsed(None, NOW, NOW) is None
    assert elapsed(100.0, 163.0, NOW) == 63.0
    assert elapsed(NOW - 12, None, NOW) == 12.0
    assert elapsed(NOW + 5, None, NOW) == 0.0  # a runner clock a little ahead never gives a negative time


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (0, "just now"),
        (9, "just now"),
        (-30, "just now"),
        (12, "12 s ago"),
        (59, "59 s ago"),
        (60, "1 min ago"),
        (3 * 60 + 50, "3 min ago"),
        (2 * 3600 + 1, "2 h ago"),
        (23 * 3600 + 3599, "23 h ago"),
        (86400, "1 day ago"),
        (4 * 86400 + 3600, "4 days ago"),
        (29 * 86400, "29 days ago"),
    ],
)
def test_time_ago(ago: float, text: str) -> None:
    assert time_ago(NOW - ago, NOW) == text


def test_time_ago_gives_a_date_for_old_builds_and_nothing_without_a_time() -> None:
    assert time_ago(datetime(2026, 10, 2, 23, 59, tzinfo=UTC).timestamp(), NOW) == "2026-10-02"
    assert time_ago(None, NOW) == ""


def test_iso_time_is_utc_to_the_second() -> None:
    assert iso_time(NOW) == "2026-11-26T09:12:03Z"
    assert iso_time(NOW + 0.999) == "2026-11-26T09:12:03Z"
    assert iso_time(0) == "1970-01-01T00:00:00Z"
    assert iso_time(None) == ""


def test_utc_time_reads_as_a_date_and_a_clock_time() -> None:
    assert utc_time(datetime(2026, 12, 8, 3, 0, tzinfo=UTC).timestamp()) == "2026-12-08 03:00 UTC"
    assert utc_time(NOW) == "2026-11-26 09:12:03 UTC"  # seconds only when it has some (six-field crons)
    assert utc_time(None) == ""


def test_short_sha() -> None:
    assert short_sha("3f786850e387550fdab836ed7e6dc881de23001b") == "3f786850"
    assert short_sha("abc") == "abc"


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("Fix the runner\n\nLong explanation.", "Fix the runner"),
        ("\n\n   Leading blank lines  \nsecond", "Leading blank lines"),
        ("windows line\r\nnext", "windows line"),
        ("", ""),
        ("   \n \n", ""),
    ],
)
def test_first_line(message: str, line: str) -> None:
    assert first_line(message) == line


def test_first_line_cuts_long_subjects_to_100_characters_with_an_ellipsis() -> None:
    subject = "word " * 40
    cut = first_line(subject + "\nbody")
    assert len(cut) <= 100
    assert cut.endswith("…")
    assert subject.startswith(cut[:-1])
    exactly_100 = "x" * 100
    assert first_line(exactly_100) == exactly_100


def test_log_times_read_as_minutes_seconds_and_tenths() -> None:
    from webui.present import format_clock

    assert [format_clock(s) for s in (0, 0.41, 62.44, 3725.3, -1)] == [
        "0:00.0",
        "0:00.4",
        "1:02.4",
        "62:05.3",
        "0:00.0",
    ]
