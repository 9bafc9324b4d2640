"""The build status badge: a shields.io-style flat SVG whose message says the outcome in words."""

from __future__ import annotations

import hashlib
import math
import unicodedata

from markupsafe import escape

from pipelines.status import Status

BADGE_CACHE_CONTROL = "no-cache, max-age=0"
"""Badges are embedded in READMEs behind image proxies (GitHub's camo): they must never be cached stale."""

_LABEL_COLOUR = "#555"
_GREEN = "#2e7d32"  # each message colour keeps 4.5:1 contrast with the white text
_RED = "#c62828"
_ORANGE = "#b45309"
_BLUE = "#0862cc"
_AMBER = "#8f5f00"
_GREY = "#6e7781"

_MESSAGES: dict[str, tuple[str, str]] = {
    Status.SUCCESS: ("passing", _GREEN),
    Status.FAILURE: ("failing", _RED),
    Status.ERROR: ("error", _RED),
    Status.KILLED: ("killed", _ORANGE),
    Status.RUNNING: ("running", _BLUE),
    Status.PENDING: ("pending", _AMBER),
    Status.WAITING: ("pending", _AMBER),
    Status.BLOCKED: ("pending", _AMBER),
    Status.SKIPPED: ("skipped", _GREY),
    Status.DECLINED: ("declined", _GREY),
}
_NO_BUILDS = ("no builds", _GREY)
_UNKNOWN = ("unknown", _GREY)

_HEIGHT = 20
_PADDING = 5  # on each side of a text
_FONT_SIZE = 11
_UNITS_PER_EM = 2048

# Advance widths of Verdana (units of 2048 per em), which shields.io measures its badges in.
_VERDANA_UNITS: dict[str, int] = {
    char: units
    for units, chars in (
        (562, "il"),
        (614, "'"),
        (687, "j"),
        (720, " f"),
        (745, ",."),
        (807, "t"),
        (817, "!"),
        (862, "I"),
        (874, "r"),
        (909, "()-:;[]|"),
        (934, "J"),
        (1064, '"'),
        (1067, "csz"),
        (1118, "?"),
        (1174, "L"),
        (1178, "Fkvxy"),
        (1192, "e"),
        (1217, "o"),
        (1229, "a"),
        (1235, "P"),
        (1251, "TY"),
        (1260, "bdgpq"),
        (1292, "hnu"),
        (1294, "E"),
        (1300, "{}"),
        (1303, "0123456789$*/\\_`"),
        (1401, "AV"),
        (1403, "SXZ"),
        (1405, "B"),
        (1423, "K"),
        (1425, "R"),
        (1430, "C"),
        (1492, "&"),
        (1499, "U"),
        (1532, "N"),
        (1540, "H"),
        (1577, "D"),
        (1587, "G"),
        (1612, "OQ"),
        (1636, "#+<=>^~w"),
        (1726, "M"),
        (1985, "m"),
        (2025, "W"),
        (2048, "@"),
        (2210, "%"),
    )
    for char in chars
}
_OTHER_UNITS = 1303
_WIDE_UNITS = 2048


def badge_svg(label: str, status: str | None) -> str:
    """The SVG badge "label | message" for the status of the latest build (None: "no builds")."""
    label = _printable(label)
    message, colour = _message(status)
    title = f"{label}: {message}" if label else message
    label_width = _part_width(label) if label else 0
    message_width = _part_width(message)
    width = label_width + message_width
    texts = _texts(label, label_width / 2) if label else ""
    texts += _texts(message, label_width + message_width / 2)
    ids = hashlib.sha1(title.encode(errors="replace"), usedforsecurity=False).hexdigest()[
        :8
    ]  # several badges on one page
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_HEIGHT}" role="img"'
        f' aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<linearGradient id="s{ids}" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r{ids}"><rect width="{width}" height="{_HEIGHT}" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r{ids})"><rect width="{label_width}" height="{_HEIGHT}" fill="{_LABEL_COLOUR}"/>'
        f'<rect x="{label_width}" width="{message_width}" height="{_HEIGHT}" fill="{colour}"/>'
        f'<rect width="{width}" height="{_HEIGHT}" fill="url(#s{ids})"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif"'
        f' text-rendering="geometricPrecision" font-size="{_FONT_SIZE * 10}">{texts}</g></svg>'
    )


def text_width(text: str) -> float:
    """The approximate width in pixels of text in Verdana 11px."""
    units = 0
    for char in text:
        if char in _VERDANA_UNITS:
            units += _VERDANA_UNITS[char]
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            units += _WIDE_UNITS
        elif not unicodedata.combining(char):
            units += _OTHER_UNITS
    return units * _FONT_SIZE / _UNITS_PER_EM


def _message(status: str | None) -> tuple[str, str]:
    """The message word and its colour for a status."""
    if status is None:
        return _NO_BUILDS
    return _MESSAGES.get(status, _UNKNOWN)


def _printable(text: str) -> str:
    """The text without control characters (not allowed in XML), on one line."""
    return "".join(char for char in text if unicodedata.category(char) != "Cc").strip()


def _part_width(text: str) -> int:
    """The width of one half of the badge: the text and its padding, in whole pixels."""
    return math.ceil(text_width(text)) + 2 * _PADDING


def _texts(text: str, centre: float) -> str:
    """A text with its shadow, drawn at ten times the size and scaled down like shields.io does it."""
    x = round(centre * 10)
    length = round(text_width(text) * 10)
    content = escape(text)
    return (
        f'<text aria-hidden="true" x="{x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)"'
        f' textLength="{length}">{content}</text>'
        f'<text x="{x}" y="140" transform="scale(.1)" fill="#fff" textLength="{length}">{content}</text>'
    )
