"""Web UI fixtures: people with passwords, signed in through the sign-in form like a browser."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from server.crypto import hash_password
from server.db.models import User
from server.services import Services
from server.sessions import COOKIE
from server.store.users import create_user

PASSWORD = "correct horse battery"


@dataclass
class Person:
    """A signed-in browser: its client (carrying the session cookie) and the CSRF token its pages show."""

    http: httpx.AsyncClient
    csrf: str


async def add_person(hangar: Services, login: str, admin: bool = False) -> User:
    """A user who signs in with `PASSWORD`."""
    async with hangar.transaction() as (session, _changes):
        user = User(
            login=login, email=f"{login}@example.com", admin=admin, password_hash=hash_password(PASSWORD)
        )
        return await create_user(session, user)


async def sign_in(client: httpx.AsyncClient, login: str, password: str = PASSWORD) -> Person:
    """Sign in through the form; the client keeps the cookie; the CSRF token is read off a page."""
    answer = await client.post("/login", data={"login": login, "password": password, "next": "/"})
    assert answer.status_code == 303, answer.text
    assert COOKIE in client.cookies
    return Person(client, csrf_of((await client.get("/")).text))


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)
