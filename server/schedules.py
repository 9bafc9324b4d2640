"""Cron expressions as Drone takes them: standard five fields, Drone's six with seconds first, and the
`@hourly`-style shorthands; when one is next due (UTC)."""

from __future__ import annotations

import datetime as dt

from croniter import croniter
from croniter.croniter import CroniterError

SHORTHANDS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronExpressionError(ValueError):
    """The expression is not one Hangar can schedule (the message says what to write instead)."""


def check_expression(expr: str) -> str:
    """The expression, trimmed, if it is valid; else CronExpressionError saying why."""
    text = " ".join(expr.split())
    fields = SHORTHANDS.get(text.lower(), text).split()
    if text.startswith("@") and text.lower() not in SHORTHANDS:
        raise CronExpressionError(f"unknown shorthand {text!r} (use one of {', '.join(SHORTHANDS)})")
    if len(fields) not in (5, 6):
        raise CronExpressionError(
            f"{text!r} has {len(fields)} fields: write five (minute hour day month weekday, e.g. '0 3 * * *')"
            " or six with seconds first (e.g. '0 0 3 * * *'), or @hourly, @daily, @weekly, @monthly, @yearly"
        )
    try:
        croniter(" ".join(fields), _utc(0.0), second_at_beginning=len(fields) == 6)
    except (CroniterError, ValueError, KeyError) as exc:
        raise CronExpressionError(f"{text!r} is not a valid cron expression: {exc}") from None
    return text


def next_due(expr: str, after: float) -> float:
    """Unix seconds of the first time after `after` (Unix seconds) that the expression is due."""
    text = check_expression(expr)
    fields = SHORTHANDS.get(text.lower(), text).split()
    schedule = croniter(" ".join(fields), _utc(after), second_at_beginning=len(fields) == 6)
    due: dt.datetime = schedule.get_next(dt.datetime)
    return due.timestamp()


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
