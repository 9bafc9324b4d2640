"""Failure triage: the lines of a failed step's log that did not appear in the same step of the branch's last
green build. Lines are compared normalised, so times, durations, hex ids and temporary paths that differ
from run to run are no news. Pure: lines in, lines out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pipelines.testresults.findings import plain

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # 2026-12-07T02:05:28.554887503Z, 2026-12-07 02:05:28,123, 02:05:28.5
        (r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?", "<time>"),
        (r"\b\d{1,2}:\d\d:\d\d(?:[.,]\d+)?\b", "<time>"),
        # 0.09s, 12 ms, 1m 05s, 3.2 seconds, 250µs
        (r"\b\d+(?:[.,]\d+)?\s?(?:ns|µs|us|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h)\b", "<duration>"),
        # commit shas, container and image ids, uuids, addresses: hex runs with at least one digit
        (r"\b(?=[0-9a-fA-F-]*\d)(?=[0-9a-fA-F-]*[a-fA-F])[0-9a-fA-F]{7,}(?:-[0-9a-fA-F]{4,})*\b", "<hex>"),
        (r"\b0x[0-9a-fA-F]+\b", "<hex>"),
        # temporary folders: /tmp/pytest-of-root/pytest-3/x, /var/folders/…, a Windows user's Temp
        (r"(?:/private)?/(?:tmp|var/tmp|var/folders)/\S*", "<tmp>"),
        (r"[A-Za-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp\\\S*", "<tmp>"),
        # process and thread ids printed in brackets: "thread 'x' (4136) panicked", "[pid 812]"
        (r"\((?:pid )?\d{2,}\)|\[(?:pid )?\d{2,}\]", "(<id>)"),
        (r"\s+", " "),
    )
)
MAX_NEW = 200
"""New lines kept at most (the first ones)."""


def normalise(line: str) -> str:
    """The line with what differs from run to run (times, durations, ids, temporary paths) made alike."""
    text = plain(line)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


def new_lines(
    current: Sequence[tuple[int, str]], baseline: Iterable[str], limit: int = MAX_NEW
) -> list[tuple[int, str]]:
    """The (position, text) lines of `current` whose normalised text is in no line of `baseline`
    (blank lines are never news), the first `limit` of them."""
    seen = {normalise(line) for line in baseline}
    fresh: list[tuple[int, str]] = []
    for position, text in current:
        key = normalise(text)
        if key and key not in seen:
            fresh.append((position, text))
            seen.add(key)  # a line repeated is news once
            if len(fresh) >= limit:
                break
    return fresh
