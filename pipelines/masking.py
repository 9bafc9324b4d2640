"""Secret masking: every secret value, in every line of every step, becomes `******`."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "******"
MIN_SECRET_LENGTH = 2


class Masker:
    """Replaces secret values in log lines; multi-line secrets are masked line by line, as Drone does."""

    def __init__(self, secrets: Iterable[str]) -> None:
        parts = {
            form
            for secret in secrets
            for part in secret.splitlines()
            if len(part.strip()) >= MIN_SECRET_LENGTH
            for form in (part.strip(), *shell_traced(part.strip()))
        }
        ordered = sorted(parts, key=lambda p: (-len(p), p))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        encoded = [part.encode() for part in ordered]
        self.byte_pattern = re.compile(b"|".join(map(re.escape, encoded))) if encoded else None
        """The same secrets as UTF-8 bytes, to find them in output not yet split into lines."""
        self.reach = max(map(len, encoded), default=0)
        """The longest secret part, in bytes."""

    def __bool__(self) -> bool:
        return self._pattern is not None

    def mask(self, line: str) -> str:
        """The line with every secret value replaced."""
        return self._pattern.sub(MASK, line) if self._pattern else line

    def mask_lines(self, lines: list[str]) -> list[str]:
        """Every line masked, in one pass over the batch.

        Joining on newlines is safe because no secret part holds one (secrets are split into lines), and
        the lines hold none (they come from splitting output on newlines).
        """
        if self._pattern is None or not lines:
            return lines
        return self._pattern.sub(MASK, "\n".join(lines)).split("\n")


def shell_traced(part: str) -> tuple[str, ...]:
    """How shells write a value holding a single quote when they trace a command (`set -x`): inside single
    quotes, each quote closed, escaped and reopened (busybox and dash `'"'"'`, bash `'\\''`)."""
    if "'" not in part:
        return ()
    return (part.replace("'", "'\"'\"'"), part.replace("'", "'\\''"))
