"""The REST API under `/api` (filled in by the REST API modules)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
