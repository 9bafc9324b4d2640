"""Hangar signing in with a stand-in forge (GitHub, Gitea, GitLab: every test runs with each): the forge
served on 127.0.0.1, Hangar in process, people who sign in through the OAuth flow as a browser would
(following the redirects by hand)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from server.app import create_app
from server.services import Services
from server.settings import GiteaSettings, GitHubSettings, GitLabSettings, Settings
from tests.server.conftest import make_settings, opened
from tests.server.forges.standin.forge import CLIENT_ID, CLIENT_SECRET, StandinForge
from tests.server.forges.standin.gitea import StandinGitea
from tests.server.forges.standin.github import StandinGitHub
from tests.server.forges.standin.gitlab import StandinGitLab
from tests.server.forges.standin.serve import serve
from tests.server.web.conftest import csrf_of

PERMISSION_SECONDS = 2.0


STANDINS: dict[str, type[StandinForge]] = {
    "github": StandinGitHub,
    "gitea": StandinGitea,
    "gitlab": StandinGitLab,
}


@pytest.fixture(params=sorted(STANDINS))
def forge(request: pytest.FixtureRequest) -> Iterator[StandinForge]:
    """A stand-in forge (users alice, bob, carol), served; no request or answer may break its documents."""
    forge = STANDINS[request.param]()
    for login in ("alice", "bob", "carol"):
        forge.add_user(login, f"{login}@example.com")
    with serve(forge.app) as url:
        forge.url = url
        yield forge
    assert forge.problems == [], "\n".join(forge.problems)


def forge_settings(data: Path, database_url: str, forge: StandinForge, **overrides: object) -> Settings:
    """Settings of a Hangar whose people sign in with the stand-in forge."""
    kinds = {"github": GitHubSettings, "gitea": GiteaSettings, "gitlab": GitLabSettings}
    chosen = kinds[forge.kind](client_id=CLIENT_ID, client_secret=CLIENT_SECRET, url=forge.url)
    values: dict[str, object] = {
        forge.kind: chosen,
        "admins": "alice",
        "permission_seconds": PERMISSION_SECONDS,
    }
    return make_settings(str(data), database_url, **(values | overrides))


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str, forge: StandinForge) -> Settings:
    """Settings over a fresh SQLite database, signing in with the stand-in forge."""
    return forge_settings(tmp_path, sqlite_url, forge)


@pytest.fixture
async def hangar(settings: Settings, redis_url: str) -> AsyncIterator[Services]:
    """The services, with the stand-in as their forge."""
    async with opened(settings, redis_url) as services:
        yield services


@dataclass
class Visitor:
    """A browser: a client of Hangar keeping its cookies, and the CSRF token of its pages once signed in."""

    http: httpx.AsyncClient
    csrf: str = ""


class Browsers:
    """New browsers of the in-process application, closed at the end of the test."""

    def __init__(self, hangar: Services, redis_url: str, forge: StandinForge) -> None:
        self.app = create_app(hangar.settings, redis_url, hangar)
        self.forge = forge
        self.clients: list[httpx.AsyncClient] = []

    def visitor(self) -> Visitor:
        """A fresh browser with no cookie."""
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://hangar.test")
        self.clients.append(client)
        return Visitor(client)

    async def signed_in(self, login: str) -> Visitor:
        """A browser signed in with the stand-in forge as `login`."""
        visitor = self.visitor()
        answer = await forge_sign_in(visitor, self.forge, login)
        assert answer.status_code == 303, answer.text
        return visitor


@pytest.fixture
async def browsers(hangar: Services, redis_url: str, forge: StandinForge) -> AsyncIterator[Browsers]:
    """Browsers of the application (in process), closed at the end."""
    made = Browsers(hangar, redis_url, forge)
    yield made
    for client in made.clients:
        await client.aclose()


async def forge_sign_in(visitor: Visitor, forge: StandinForge, login: str) -> httpx.Response:
    """Sign in with the stand-in GitHub as `login`: Hangar's redirect, the forge's Authorize, Hangar's
    callback. The callback's answer."""
    start = await visitor.http.get("/login/forge?next=/")
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    query = {key: values[0] for key, values in parse_qs(urlsplit(authorize).query).items()}
    async with httpx.AsyncClient(trust_env=False) as browser:
        page = await browser.get(authorize)
        assert page.status_code == 200, page.text
        back = await browser.post(authorize.split("?")[0], data=query | {"login": login})
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    answer = await visitor.http.get(f"{callback.path}?{callback.query}")
    if answer.status_code == 303:
        visitor.csrf = csrf_of((await visitor.http.get("/")).text)
    return answer
