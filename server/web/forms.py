"""Reading the pages' forms: refused whole when a field holds a NUL (no name, path or setting has one, and
PostgreSQL refuses them in text)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request


async def read_form(request: Request) -> FormData:
    """The request's form fields; 400 when one holds a NUL character."""
    form = await request.form()
    for key, value in form.multi_items():
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise HTTPException(400, "NUL characters are not allowed")
    return form


def same_site(request: Request, own_url: str) -> bool:
    """Whether a form post comes from this server's own pages (`Sec-Fetch-Site` and `Origin`, if sent)."""
    if request.headers.get("sec-fetch-site", "same-origin") == "cross-site":
        return False
    origin = request.headers.get("origin", "")
    if not origin:
        return True
    host = request.headers.get("host", "")
    return origin in (f"{request.url.scheme}://{host}", _origin_of(own_url))


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
