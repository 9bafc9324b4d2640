"""`/api/user` (the caller) and `/api/users` (administrators): people who sign in to the web UI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.auth import require_admin, require_user
from server.api.common import read_model, services
from server.api.views import user_view
from server.crypto import hash_password, verify_password
from server.db.models import User
from server.sessions import COOKIE
from server.store.users import create_user, delete_sessions, find_user, list_users, update_user

LOGIN_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
MIN_PASSWORD = 8


class NewUser(BaseModel):
    """A person to add; without a password they can use API tokens only."""

    model_config = ConfigDict(extra="forbid", strict=True)

    login: str = Field(max_length=200, pattern=LOGIN_PATTERN)
    password: str = Field(default="", max_length=1000)
    email: str = ""
    admin: bool = False


class PasswordChange(BaseModel):
    """A new password, given with the current one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    current: str = ""
    new: str = Field(min_length=MIN_PASSWORD, max_length=1000)


async def signed_in_user(request: Request) -> Response:
    """`GET /api/user`: who the token or session belongs to; 401 for anonymous callers."""
    return JSONResponse(user_view(await require_user(request)))


async def change_password(request: Request) -> Response:
    """`PATCH /api/user`: change one's own password (the current one is required when there is one); every
    other browser session of the user ends (a stolen one with it)."""
    user = await require_user(request)
    body = await read_model(request, PasswordChange)
    if user.password_hash and not await run_in_threadpool(verify_password, body.current, user.password_hash):
        raise HTTPException(403, "the current password is wrong")
    user.password_hash = await run_in_threadpool(hash_password, body.new)
    async with services(request).transaction() as (session, _changes):
        await update_user(session, user)
        await delete_sessions(session, user, keep=request.cookies.get(COOKIE, ""))
    return JSONResponse(user_view(user))


async def index(request: Request) -> Response:
    """`GET /api/users`: everyone (administrators only)."""
    await require_admin(request)
    async with services(request).reading() as session:
        users = await list_users(session)
    return JSONResponse([user_view(user) for user in users])


async def add(request: Request) -> Response:
    """`POST /api/users`: add a person (administrators only): 201; 409 when the login is taken."""
    await require_admin(request)
    body = await read_model(request, NewUser)
    if body.password and len(body.password) < MIN_PASSWORD:
        raise HTTPException(400, f"a password needs at least {MIN_PASSWORD} characters")
    user = User(login=body.login, email=body.email, admin=body.admin)
    user.password_hash = await run_in_threadpool(hash_password, body.password) if body.password else ""
    conflict = HTTPException(409, f"there is already a user {body.login!r}")
    try:
        async with services(request).transaction() as (session, _changes):
            if await find_user(session, body.login) is not None:
                raise conflict
            await create_user(session, user)
    except IntegrityError:
        raise conflict from None
    return JSONResponse(user_view(user), status_code=201)


routes = [
    Route("/user", signed_in_user, methods=["GET"]),
    Route("/user", change_password, methods=["PATCH"]),
    Route("/users", index, methods=["GET"]),
    Route("/users", add, methods=["POST"]),
]
