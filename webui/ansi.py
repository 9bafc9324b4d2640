"""Terminal output for the browser: ANSI SGR colours become spans, every other escape sequence is dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from markupsafe import Markup, escape

# A colour is one of the 16 named ones (a class index 0..15) or an exact "#rrggbb"; None is the default.
Colour = int | str | None

_SEQUENCE = re.compile(
    r"""
      (?P<cr>\r)
    | (?:\x1b\[|\x9b) (?P<params>[\x30-\x3f]*) (?P<intermediates>[\x20-\x2f]*) (?P<final>[\x40-\x7e])?
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) [^\x07\x1b\x9c\n]* (?:\x07|\x1b\\|\x9c)?
    | \x1b(?:[\x21-\x2f][\x20-\x2f]*[\x30-\x7e]|[\x30-\x5f]|c(?![A-Za-z]))
    | \x1b
    | [\x00-\x08\x0b-\x1f\x7f-\x9f]
    """,
    re.VERBOSE,
)
"""CR; CSI (maybe cut short); OSC, DCS, SOS, PM and APC strings (to BEL, ST or the end of the line);
the other ESC sequences; a lone ESC; any other control character. Of the two-character ESC sequences only
those with a digit, symbol or capital and a lone RIS (ESC c) count, so that a stray ESC before a word or
a space takes no text with it."""

_PLAIN_LINE = re.compile(r"[^\x00-\x08\x0b-\x1f\x7f-\x9f]*")
_PLAIN_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""A text without any control character once its plain SGR sequences are gone had nothing else to remove."""
_SGR_PARAMS = re.compile(r"[0-9;:]*")
_NUMBER = re.compile(r"[0-9]+")
_HUGE = 10**9
"""What a parameter of more than nine significant digits counts as: no code, no colour channel, no index
(and never an int() of thousands of digits, which Python refuses)."""
_CUBE_LEVELS = (0, 95, 135, 175, 215, 255)
_SGR_CHANGES: dict[int, dict[str, Any]] = {
    1: {"bold": True},
    2: {"dim": True},
    3: {"italic": True},
    4: {"underline": True},
    22: {"bold": False, "dim": False},
    23: {"italic": False},
    24: {"underline": False},
    39: {"fg": None},
    49: {"bg": None},
    **{30 + index: {"fg": index} for index in range(8)},
    **{90 + index: {"fg": 8 + index} for index in range(8)},
    **{40 + index: {"bg": index} for index in range(8)},
    **{100 + index: {"bg": 8 + index} for index in range(8)},
}
"""What each plain SGR code but 0 (the reset) changes: attributes, and colours by their index (0..15)."""


@dataclass(frozen=True)
class _Style:
    """The text attributes a terminal would be drawing with."""

    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    fg: Colour = None
    bg: Colour = None

    def span(self) -> str:
        """The opening tag that draws text in this style."""
        classes = [name for name, on in self._flags() if on]
        styles = []
        for kind, colour, css in (("fg", self.fg, "color"), ("bg", self.bg, "background-color")):
            if isinstance(colour, int):
                classes.append(f"ansi-{kind}-{colour}")
            elif isinstance(colour, str):
                styles.append(f"{css}:{colour}")
        attributes = f' class="{" ".join(classes)}"' if classes else ""
        attributes += f' style="{";".join(styles)}"' if styles else ""
        return f"<span{attributes}>"

    def _flags(self) -> tuple[tuple[str, bool], ...]:
        return (
            ("ansi-bold", self.bold),
            ("ansi-dim", self.dim),
            ("ansi-italic", self.italic),
            ("ansi-underline", self.underline),
        )


_DEFAULT = _Style()


def ansi_to_html(text: str) -> Markup:
    """Escaped HTML of terminal output: colours and attributes as `ansi-*` spans, other escapes removed.

    Each line is closed on its own (spans reopen on the next line), and of a line rewritten with carriage
    returns only the last text is kept, as a terminal would show it.
    """
    style = _DEFAULT
    lines: list[str] = []
    for line in text.split("\n"):
        runs, style = _visible_runs(line, style)
        lines.append("".join(_render_run(run_style, run_text) for run_style, run_text in _merged(runs)))
    return Markup("\n".join(lines))


def strip_ansi(text: str) -> str:
    """The plain text a terminal would show, without any escape sequence (for searching logs)."""
    style = _DEFAULT
    lines: list[str] = []
    for line in text.split("\n"):
        runs, style = _visible_runs(line, style)
        lines.append("".join(run_text for _, run_text in runs))
    return "\n".join(lines)


def without_sequences(text: str) -> str:
    """`text` with every escape sequence, carriage return and control character removed: fast, and it holds
    `strip_ansi(text)` of each of its lines as a part, so a search can rule lines out with it first."""
    quick = _PLAIN_SGR.sub("", text)  # colours are most of what logs hold: a tenth of the full pattern's time
    return quick if _CONTROL.search(quick) is None else _SEQUENCE.sub("", text)


def xterm_colour(index: int) -> str:
    """The "#rrggbb" of an xterm 256-colour palette entry from 16 up (the 6x6x6 cube, then the greys)."""
    if index >= 232:
        grey = 8 + 10 * (index - 232)
        return f"#{grey:02x}{grey:02x}{grey:02x}"
    cube = index - 16
    red, green, blue = (_CUBE_LEVELS[cube // 36], _CUBE_LEVELS[cube // 6 % 6], _CUBE_LEVELS[cube % 6])
    return f"#{red:02x}{green:02x}{blue:02x}"


def _visible_runs(line: str, style: _Style) -> tuple[list[tuple[_Style, str]], _Style]:
    """The styled pieces of text a terminal would show for one line, and the style in force after it."""
    if _PLAIN_LINE.fullmatch(line):
        return ([(style, line)] if line else []), style
    tokens = list(_tokens(line))
    shown_segment = 0  # the last carriage-return segment holding any text
    segment = 0
    for kind, _ in tokens:
        if kind == "cr":
            segment += 1
        elif kind == "text":
            shown_segment = segment
    runs: list[tuple[_Style, str]] = []
    segment = 0
    for kind, value in tokens:
        if kind == "cr":
            segment += 1
        elif kind == "sgr":
            style = _apply_sgr(style, value)
        elif segment == shown_segment:
            runs.append((style, value))
    return runs, style


def _tokens(line: str) -> Iterator[tuple[str, str]]:
    """("text", text), ("sgr", parameters) and ("cr", "") of one line; all other sequences dropped."""
    position = 0
    for match in _SEQUENCE.finditer(line):
        if match.start() > position:
            yield "text", line[position : match.start()]
        position = match.end()
        if match.group("cr"):
            yield "cr", ""
        elif match.group("final") == "m" and not match.group("intermediates"):
            params = match.group("params")
            if _SGR_PARAMS.fullmatch(params):
                yield "sgr", params
    if position < len(line):
        yield "text", line[position:]


def _apply_sgr(style: _Style, params: str) -> _Style:
    """The style after one SGR sequence ("" means reset); unknown or malformed parts are ignored."""
    groups = params.split(";")
    index = 0
    while index < len(groups):
        group = groups[index]
        index += 1
        if ":" in group:
            style = _apply_colon_group(style, group.split(":"))
            continue
        code = _code(group)
        if code in (38, 48):
            colour, used = _extended_colour(groups[index:])
            index += used
            if colour is not None:
                style = replace(style, fg=colour) if code == 38 else replace(style, bg=colour)
        elif code is not None:
            style = _apply_code(style, code)
    return style


def _apply_colon_group(style: _Style, parts: list[str]) -> _Style:
    """ITU-style sub-parameters: 38:5:n, 38:2:r:g:b, 38:2:space:r:g:b (and 48:...), 4:n underline styles."""
    code = _code(parts[0])
    if code in (38, 48):
        rest = parts[1:]
        if len(rest) == 5 and rest[0] == "2":  # the colour space id before r:g:b
            rest = ["2", *rest[2:]]
        colour, _ = _extended_colour(rest)
        if colour is None:
            return style
        return replace(style, fg=colour) if code == 38 else replace(style, bg=colour)
    if code == 4 and len(parts) > 1:
        return replace(style, underline=parts[1] not in ("", "0"))
    return style if code is None else _apply_code(style, code)


def _number(part: str) -> int | None:
    """The number a parameter spells, None unless it is all (ASCII) digits; past nine digits it is _HUGE."""
    if not _NUMBER.fullmatch(part):
        return None
    significant = part.lstrip("0")
    return int(significant or "0") if len(significant) <= 9 else _HUGE


def _code(part: str) -> int | None:
    """The SGR code a parameter spells: an empty one is 0 (reset), a malformed one None."""
    return _number(part) if part else 0


def _extended_colour(rest: list[str]) -> tuple[Colour, int]:
    """The colour of the parameters after 38 or 48, and how many of them it took (None if malformed)."""
    if not rest:
        return None, 0
    mode = rest[0]
    if mode == "5":
        index = _number(rest[1]) if len(rest) >= 2 else None
        if index is None or index > 255:
            return None, min(2, len(rest))
        return (index if index < 16 else xterm_colour(index)), 2
    if mode == "2":
        channels = [channel for channel in map(_number, rest[1:4]) if channel is not None and channel <= 255]
        if len(channels) < 3:
            return None, min(4, len(rest))
        red, green, blue = channels
        return f"#{red:02x}{green:02x}{blue:02x}", 4
    return None, 1


def _apply_code(style: _Style, code: int) -> _Style:
    """The style after one plain SGR code."""
    if code == 0:
        return _DEFAULT
    changes = _SGR_CHANGES.get(code)
    return replace(style, **changes) if changes else style


def _merged(runs: list[tuple[_Style, str]]) -> Iterator[tuple[_Style, str]]:
    """Neighbouring runs in the same style joined, so a style change with no effect opens no new span."""
    pending: tuple[_Style, str] | None = None
    for style, text in runs:
        if pending is not None and pending[0] == style:
            pending = (style, pending[1] + text)
            continue
        if pending is not None:
            yield pending
        pending = (style, text)
    if pending is not None:
        yield pending


def _render_run(style: _Style, text: str) -> str:
    """One run as escaped HTML, wrapped in a span unless it is in the default style."""
    if style == _DEFAULT:
        return str(escape(text))
    return f"{style.span()}{escape(text)}</span>"
