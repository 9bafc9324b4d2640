"""Small view helpers for the templates: status symbols and words, durations, times, commit text."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.status import Status

_ICONS: dict[str, str] = {
    Status.SUCCESS: "✓",
    Status.FAILURE: "✗",
    Status.ERROR: "!",
    Status.KILLED: "⊘",
    Status.SKIPPED: "↷",
    Status.DECLINED: "⊘",
    Status.RUNNING: "●",
    Status.PENDING: "○",
    Status.WAITING: "◔",
    Status.BLOCKED: "⏸",
}

_LABELS: dict[str, str] = {
    Status.SUCCESS: "success",
    Status.FAILURE: "failure",
    Status.ERROR: "error",
    Status.KILLED: "killed",
    Status.SKIPPED: "skipped",
    Status.DECLINED: "declined",
    Status.RUNNING: "running",
    Status.PENDING: "pending",
    Status.WAITING: "waiting",
    Status.BLOCKED: "blocked",
}

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_JUST_NOW = 10  # seconds
_DAYS_BEFORE_A_DATE = 30
_FIRST_LINE_LIMIT = 100


def status_icon(status: str) -> str:
    """The symbol shown beside a status, so that it is never told by colour alone ("?" when unknown)."""
    return _ICONS.get(status, "?")


def status_label(status: str) -> str:
    """The status in plain words ("waiting" for waiting_on_dependencies); unknown values as they are."""
    return _LABELS.get(status, status.replace("_", " "))


def format_duration(seconds: float | None) -> str:
    """A duration for people: "" for None, "0s", "45s", "1m 03s", "2h 05m".

    Whole seconds, cut down as a clock counts (59.6 s is "59s", as the build page's ticking timer shows it):
    the one format of pages, emails and commit statuses.
    """
    if seconds is None:
        return ""
    whole = max(0, int(seconds))
    if whole < _MINUTE:
        return f"{whole}s"
    if whole < _HOUR:
        return f"{whole // _MINUTE}m {whole % _MINUTE:02d}s"
    return f"{whole // _HOUR}h {whole % _HOUR // _MINUTE:02d}m"


def elapsed(started: float | None, finished: float | None, now: float) -> float | None:
    """Seconds from start to finish, or to now while still going; None if it never started."""
    if started is None:
        return None
    end = finished if finished is not None else now
    return max(0.0, end - started)


def time_ago(timestamp: float | None, now: float) -> str:
    """How long ago: "just now", "12 s ago", "3 min ago", "2 h ago", "4 days ago", then a UTC date."""
    if timestamp is None:
        return ""
    seconds = int(now - timestamp)
    if seconds < _JUST_NOW:
        return "just now"
    if seconds < _MINUTE:
        return f"{seconds} s ago"
    if seconds < _HOUR:
        return f"{seconds // _MINUTE} min ago"
    if seconds < _DAY:
        return f"{seconds // _HOUR} h ago"
    days = seconds // _DAY
    if days < _DAYS_BEFORE_A_DATE:
        return "1 day ago" if days == 1 else f"{days} days ago"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def iso_time(timestamp: float | None) -> str:
    """The moment in UTC ISO 8601, to the second ("2026-11-26T09:12:03Z"); "" for None."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_time(timestamp: float | None) -> str:
    """The moment for people, in UTC: "2026-11-26 09:12 UTC" (with seconds when it has some); "" for None."""
    if timestamp is None:
        return ""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if moment.second else "%Y-%m-%d %H:%M UTC")


def short_sha(sha: str) -> str:
    """The first 8 characters of a commit hash."""
    return sha[:8]


def first_line(message: str) -> str:
    """The first non-empty line of a commit message, stripped, cut to 100 characters with "…"."""
    line = next((stripped for raw in message.splitlines() if (stripped := raw.strip())), "")
    if len(line) > _FIRST_LINE_LIMIT:
        return line[: _FIRST_LINE_LIMIT - 1].rstrip() + "…"
    return line


def format_clock(seconds: float) -> str:
    """Seconds since a step started, as the log shows them: `m:ss.s` (e.g. `1:02.4`), like the log viewer."""
    tenths = max(0, round(seconds * 10))
    return f"{tenths // 600}:{(tenths % 600) / 10:04.1f}"
