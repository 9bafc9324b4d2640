"""Infrastructure failures told apart from code failures: what went wrong around a step rather than in
the code it ran (memory, image, runner, engine, disk, clone). Pure: from the words of errors and logs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

OUT_OF_MEMORY = "out of memory"
IMAGE_NOT_FOUND = "image not found"
RUNNER_LOST = "runner lost"
ENGINE_RESTARTED = "engine restarted"
DISK_FULL = "disk full"
CLONE_FAILED = "clone failed"
ENGINE_ERROR = "engine error"

_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), label)
    for pattern, label in (
        (r"^out of memory\b|\bOOMKilled\b", OUT_OF_MEMORY),
        (r"^could not pull image |^image \S+ is not on this host|\bpull access denied\b", IMAGE_NOT_FOUND),
        (r"^runner '.*' lost\b", RUNNER_LOST),
        (r"Docker engine stopped \(or restarted\)|lost the Docker engine|cannot reach the Docker engine",
         ENGINE_RESTARTED),
        (r"no space left on device", DISK_FULL),
        (r"^could not (?:set up the stage|copy the files into the workspace|create the container|start the)",
         ENGINE_ERROR),
    )
)  # fmt: skip
_DISK_FULL_LINE = re.compile(r"no space left on device", re.IGNORECASE)
LOG_LINES_LOOKED_AT = 20
"""A failed step's last lines checked for a full disk."""


@dataclass(frozen=True, slots=True)
class Failed:
    """A failed step (or stage) as the classifier sees it."""

    error: str = ""
    clone: bool = False
    last_lines: tuple[str, ...] = ()


def infrastructure_cause(failed: Failed) -> str:
    """The infrastructure failure behind a failed step or stage ("" when it is the code's)."""
    for pattern, label in _ERRORS:
        if failed.error and pattern.search(failed.error):
            return label
    if failed.clone:
        return CLONE_FAILED
    if any(_DISK_FULL_LINE.search(line) for line in failed.last_lines[-LOG_LINES_LOOKED_AT:]):
        return DISK_FULL
    return ""


def build_cause(failures: Iterable[Failed]) -> str:
    """A failed build's infrastructure label: the first failure's, when every failure is the
    infrastructure's ("" when any is the code's, or nothing failed)."""
    labels = [infrastructure_cause(failure) for failure in failures]
    return labels[0] if labels and all(labels) else ""
