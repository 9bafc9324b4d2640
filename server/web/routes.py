"""Every route of the web UI, in the order they must match (fixed paths before `/{owner}/{name}/…`)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from server.web import actions, badge, forge_repos, forge_signin, pages, settings_page, signin, tests_page
from webui import STATIC

routes: list[BaseRoute] = [
    Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    *forge_signin.routes,
    *signin.routes,
    *forge_repos.routes,
    *badge.routes,
    *settings_page.routes,
    *actions.routes,
    *tests_page.routes,
    *pages.routes,
]
