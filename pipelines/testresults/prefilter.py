"""A batch of log lines searched at once for what any test tool could react to, so that the lines no
recogniser would look at are skipped without being read one by one (most of a long log is such lines).

A trigger is a piece of text that every line a tool reacts to contains (when the tool waits for a new
report, see `waiting`): a line without any trigger changes nothing, so skipping it keeps the results
exactly what feeding it would give. A trigger starting with a newline is one at the start of a line.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate


class TriggerSearch:
    """Finds, in a batch of lines, the next one holding any trigger (each trigger searched once a batch)."""

    def __init__(self, triggers: Sequence[str]) -> None:
        unique = dict.fromkeys(triggers)
        self.triggers = tuple(t for t in unique if not any(o != t and o in t for o in unique))
        """Each once, and none holding another (the other finds its lines)."""
        self.keys = tuple(_key(trigger) for trigger in self.triggers)

    def start(self, lines: Sequence[str]) -> BatchSearch:
        """A search over these lines (their texts joined, each after a newline)."""
        return BatchSearch(self, lines)


class BatchSearch:
    """The search of one batch; asked for lines in increasing order."""

    def __init__(self, search: TriggerSearch, lines: Sequence[str]) -> None:
        self.text = "\n" + "\n".join(lines)
        self.count = len(lines)
        self.lines = lines
        self.starts: list[int] | None = None
        """Where each line starts in the text (built on the first trigger found)."""
        pairs = zip(search.triggers, search.keys, strict=True)
        self.ahead: list[tuple[int, str]] = [(-1, trigger) for trigger, key in pairs if key in self.text]
        """(Where a trigger's next line starts, the trigger): a heap. A trigger is left out when its rarest
        character is nowhere in the batch."""

    def next_line(self, index: int) -> int:
        """The first line at `index` or after holding a trigger (the number of lines when none does)."""
        ahead = self.ahead
        if not ahead:
            return self.count
        starts = self.starts
        if starts is None:
            starts = self.starts = list(accumulate((len(line) + 1 for line in self.lines), initial=1))
        origin = starts[index]
        text = self.text
        while ahead and ahead[0][0] < origin:
            trigger = ahead[0][1]
            found = text.find(trigger, origin - 1)
            if found < 0:
                heapq.heappop(ahead)
            else:
                heapq.heapreplace(ahead, (found + 1 if trigger[0] == "\n" else found, trigger))
        if not ahead:
            return self.count
        return bisect_right(starts, ahead[0][0]) - 1


def _key(trigger: str) -> str:
    """One character of the trigger (not its leading newline): looked for first, as it is fast to find."""
    body = trigger.lstrip("\n") or trigger
    return max(body, key=lambda char: (char != " ", char.isupper() or not char.isalnum(), ord(char)))
