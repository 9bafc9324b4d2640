"""What the client prints: rich tables for people, the server's JSON as it came with `--format json`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "json")
Row = dict[str, Any]
Column = tuple[str, Callable[[Row], str]]
"""A table column: its header and how a row (a JSON object of the API) reads in it."""
STATUS_STYLES = {
    "success": "green", "failure": "red", "error": "red", "killed": "red", "declined": "red",
    "running": "yellow", "pending": "yellow", "blocked": "magenta", "waiting_on_dependencies": "yellow",
}  # fmt: skip
TIMES = frozenset({"created", "updated", "started", "finished", "next", "prev", "last_seen"})
"""Fields holding a Unix time."""


def text(value: Any) -> str:
    """A JSON value as a table cell: yes/no, lists joined by commas, nothing for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={text(item)}" for key, item in value.items())
    return str(value)


def when(seconds: Any) -> str:
    """A Unix time as local date and time (nothing when unset)."""
    if not isinstance(seconds, int | float) or not seconds:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def duration(row: Row) -> str:
    """How long something ran from `started` to `finished` (till now while it runs): 1m05s."""
    started, finished = row.get("started"), row.get("finished")
    if not isinstance(started, int | float) or not started:
        return ""
    seconds = int((finished if isinstance(finished, int | float) and finished else time.time()) - started)
    minutes, seconds = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def field(name: str) -> Callable[[Row], str]:
    """A column reading one field of the row (a time as local date and time)."""
    if name in TIMES:
        return lambda row: when(row.get(name))
    return lambda row: text(row.get(name))


def first_line(name: str, width: int = 60) -> Callable[[Row], str]:
    """A column reading the first line of a text field, cut to `width` characters."""

    def read(row: Row) -> str:
        line = text(row.get(name)).strip().split("\n", 1)[0]
        return line if len(line) <= width else line[: width - 1] + "…"

    return read


class Output:
    """Prints answers as tables (`table`) or as JSON (`json`)."""

    def __init__(self, kind: str) -> None:
        self.json = kind == "json"
        wide = None if sys.stdout.isatty() else 400  # piped: lines as long as they are, never squeezed
        self.console = Console(highlight=False, width=wide)

    def rows(self, items: Sequence[Row], columns: Sequence[Column], empty: str = "nothing yet") -> None:
        """A list of objects: one row each (JSON: the list)."""
        if self.json:
            return self.raw(items)
        if not items:
            return self.note(empty)
        self.console.print(table(items, columns))

    def record(self, item: Row, fields: Iterable[tuple[str, Callable[[Row], str]]] | None = None) -> None:
        """One object: a field per line (JSON: the object)."""
        if self.json:
            return self.raw(item)
        shown = fields or [(key, field(key)) for key in item]
        grid = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
        grid.add_column(style="bold")
        grid.add_column()
        for label, read in shown:
            grid.add_row(Text(label), styled(label, read(item)))
        self.console.print(grid)

    def print(self, renderable: Any) -> None:
        """Something more for people (nothing in JSON)."""
        if not self.json:
            self.console.print(renderable)

    def raw(self, value: Any) -> None:
        """The value as JSON on stdout."""
        click.echo(json.dumps(value, indent=2))

    def note(self, message: str) -> None:
        """A message for people on stderr (JSON output stays clean)."""
        click.echo(message, err=True)


def table(items: Sequence[Row], columns: Sequence[Column], title: str = "") -> Table:
    """A table of objects, cells as plain text (never rich markup: `[ci skip]` stays as written)."""
    grid = Table(title=title or None, title_justify="left")
    for header, _read in columns:
        grid.add_column(header)
    for item in items:
        grid.add_row(*(styled(header, read(item)) for header, read in columns))
    return grid


def styled(header: str, value: str) -> Text:
    """A cell; a status word in its colour (the word itself always says it)."""
    return Text(value, style=STATUS_STYLES.get(value, "") if header == "status" else "")
