"""Log lines as `line` events, and the live message carrying a batch of them."""

from __future__ import annotations

import json

from server.api.streams import sse
from server.log_events import line_event, line_events, lines_message, read_lines_message


def test_a_line_event_is_the_sse_of_its_line_view() -> None:
    for seconds, text in [(0.25, "plain"), (3.0, 'quote " and \\ and é ✓\tand\x1b[31m'), (float("inf"), "")]:
        view = {"pos": 7, "time": seconds, "out": text}
        assert line_event(7, seconds, text) == sse("line", json.dumps(view), 7)


def test_a_live_message_holds_the_events_of_its_lines_from_any_position() -> None:
    lines = [(0.5, f"line {n}") if n % 2 else (1.0, "a \n\n in it") for n in range(6)]
    message = read_lines_message(lines_message(40, lines))
    assert message is not None
    assert (message.first, message.size) == (40, 6)
    whole = line_events((40 + n, seconds, text) for n, (seconds, text) in enumerate(lines))
    assert message.since(40) == message.since(12) == whole
    for position in range(40, 47):
        expected = line_events((40 + n, s, t) for n, (s, t) in enumerate(lines) if 40 + n >= position)
        assert message.since(position) == expected


def test_other_messages_on_the_channel_are_not_lines() -> None:
    assert read_lines_message(json.dumps({"first": 3, "lines": [], "status": "success"})) is None
    assert read_lines_message("lines x y\n") is None
