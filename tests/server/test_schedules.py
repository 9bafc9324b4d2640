"""Cron expressions: the forms Drone accepts, the next due time in UTC, and clear refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from server.schedules import CronExpressionError, check_expression, next_due


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    ("expr", "after", "due"),
    [
        ("* * * * *", "2026-12-07 10:15:30", "2026-12-07 10:16:00"),
        ("*/5 * * * *", "2026-12-07 10:15:30", "2026-12-07 10:20:00"),
        ("0 3 * * *", "2026-12-07 10:15:30", "2026-12-08 03:00:00"),
        ("30 0 3 * * *", "2026-12-07 10:15:30", "2026-12-08 03:00:30"),  # Drone's six fields: seconds first
        ("@hourly", "2026-12-07 10:15:30", "2026-12-07 11:00:00"),
        ("@daily", "2026-12-07 10:15:30", "2026-12-08 00:00:00"),
        ("@weekly", "2026-12-07 10:15:30", "2026-12-13 00:00:00"),  # Sunday
        ("@monthly", "2026-12-07 10:15:30", "2027-01-01 00:00:00"),
        ("@yearly", "2026-12-07 10:15:30", "2027-01-01 00:00:00"),
        ("0 0 * * *", "2026-12-07 00:00:00", "2026-12-08 00:00:00"),  # strictly after
    ],
)
def test_the_next_due_time(expr: str, after: str, due: str) -> None:
    assert next_due(expr, at(after)) == at(due)


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ("61 * * * *", "not a valid cron expression"),
        ("* * * *", "has 4 fields"),
        ("0 0 0 1 1 * 2027", "has 7 fields"),
        ("@often", "unknown shorthand"),
        ("", "has 0 fields"),
        ("a b c d e", "not a valid cron expression"),
    ],
)
def test_a_bad_expression_is_refused_saying_why(expr: str, says: str) -> None:
    with pytest.raises(CronExpressionError, match=says):
        check_expression(expr)


def test_spacing_is_tidied() -> None:
    assert check_expression("  0   3 * * * ") == "0 3 * * *"
