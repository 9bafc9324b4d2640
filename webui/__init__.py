"""What people see: page templates, static assets (CSS, the log viewer) and small presentation helpers."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
