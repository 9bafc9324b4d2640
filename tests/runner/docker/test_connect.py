"""Connecting to the engine: one request checks it, settles the API version and tells the platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from runner.docker import DockerEngine
from runner.engine import EngineError

VERSION = {"ApiVersion": "1.41", "Os": "linux", "Arch": "arm64"}


@pytest.fixture
async def stand_in(tmp_path: Path) -> AsyncIterator[tuple[str, list[str]]]:
    """A Docker API stand-in on a unix socket answering `/version`; the paths it was asked."""
    asked: list[str] = []

    async def version(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.json_response(VERSION)

    app = web.Application()
    app.router.add_get("/version", version)
    app.router.add_get("/v1.41/version", version)
    runner = web.AppRunner(app)
    await runner.setup()
    socket = tmp_path / "docker.sock"
    await web.UnixSite(runner, str(socket)).start()
    try:
        yield f"unix://{socket}", asked
    finally:
        await runner.cleanup()


async def test_connecting_asks_the_version_once_for_the_check_the_api_version_and_the_platform(
    stand_in: tuple[str, list[str]],
) -> None:
    url, asked = stand_in
    async with await DockerEngine.connect(url) as engine:
        assert engine.docker.api_version == "v1.41"
        native = {"Os": "linux", "Architecture": "arm64"}
        assert await engine._images._digests.native(native)
        assert not await engine._images._digests.native({**native, "Architecture": "amd64"})
    assert asked == ["/version"]


async def test_an_engine_that_does_not_answer_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="cannot reach the Docker engine"):
        await DockerEngine.connect(f"unix://{tmp_path / 'none.sock'}")
