"""The application's start-up: a serving process freezes what start-up made (the garbage collector's full
collections then skip it); an application made for tests leaves the collector as it is."""

from __future__ import annotations

import gc

from server.app import create_app
from server.services import Services


async def test_a_serving_process_freezes_what_start_up_made(hangar: Services, redis_url: str) -> None:
    gc.unfreeze()
    try:
        app = create_app(hangar.settings, redis_url, hangar, freeze_start_up=True)
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
        gc.unfreeze()
        app = create_app(hangar.settings, redis_url, hangar)
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()  # the test process's objects are collected as before
