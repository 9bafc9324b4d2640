"""Sizes as people read them, one format for logs, pages and emails."""

from __future__ import annotations


def format_size(size: int) -> str:
    """A size in bytes for people, in decimal units: "512 B", "12.3 kB", "4.5 MB", "1.2 GB"."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"
