"""Shared helpers of the security sweeps: every route of the app, raw ASGI requests, and finding secrets
(in their plain and usual encoded forms) in anything a person can see."""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message

from pipelines.masking import MIN_SECRET_LENGTH, shell_traced

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class RouteInfo:
    """One route of the app: its full path template and the methods it answers."""

    template: str
    methods: frozenset[str]

    @property
    def params(self) -> list[str]:
        """The names of its path parameters, in order."""
        return _PARAM.findall(self.template)


def every_route(routes: Iterable[BaseRoute], prefix: str = "") -> list[RouteInfo]:
    """Every HTTP route, recursively through Mounts (a mounted app, e.g. static files, as `prefix/{path}`)."""
    found: list[RouteInfo] = []
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                found += every_route(route.routes, prefix + route.path)
            else:
                found.append(RouteInfo(prefix + route.path + "/{path}", frozenset({"GET", "HEAD"})))
        elif isinstance(route, Route):
            found.append(RouteInfo(prefix + route.path, frozenset(route.methods or {"GET"})))
    return found


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with every `{param}` replaced by its value (already encoded as it should be sent)."""
    return _PARAM.sub(lambda match: values[match.group(1)], template)


def path_variants(values: Mapping[str, str]) -> list[dict[str, str]]:
    """The values as given, then with owner/name in other cases and percent-encoded letter by letter."""
    variants = [dict(values)]
    for change in (str.upper, str.title, _percent_every_char):
        variants.append(
            {key: change(value) if key in ("owner", "name") else value for key, value in values.items()}
        )
    return variants


def _percent_every_char(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode())


@dataclass
class Answer:
    """What a raw ASGI request got back."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)

    def header(self, name: str) -> str:
        """A header's value ('' when absent)."""
        wanted = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == wanted), "")

    def everything(self) -> bytes:
        """Status line stand-in, headers and body: all a client can read."""
        head = b"".join(k + b": " + v + b"\r\n" for k, v in self.headers)
        return f"{self.status}\r\n".encode() + head + b"\r\n" + self.body


async def asgi_request(
    app: ASGIApp,
    raw_path: str,
    method: str = "GET",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    max_body: int = 2_000_000,
) -> Answer:
    """Send one request straight to the app as uvicorn would: `raw_path` untouched, `path` percent-decoded.

    The answer is read until the response ends or `max_body` bytes came (a stream is cut off there), so an
    endless event stream that should have been refused shows up as an answer instead of hanging the test.
    """
    path_part, _, query = raw_path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "server": ("hangar.test", 80), "client": ("127.0.0.1", 50000),
        "root_path": "", "path": urllib.parse.unquote(path_part),
        "raw_path": path_part.encode("latin-1", "replace"),
        "query_string": query.encode("latin-1", "replace"),
        "headers": [(b"host", b"hangar.test"), *((k.lower().encode(), v.encode()) for k, v in headers)],
    }  # fmt: skip
    answer = Answer(0, [])
    sent_body, ended = False, asyncio.Event()

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await ended.wait()  # the client stays until the answer ends (or it stops reading)
        return {"type": "http.disconnect"}

    class _Enough(Exception):
        pass

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status, answer.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            answer.chunks.append(chunk)
            answer.body += chunk
            if not message.get("more_body", False):
                ended.set()
            elif len(answer.body) > max_body:
                ended.set()
                raise _Enough

    try:
        await app(scope, receive, send)
    except _Enough:
        pass
    finally:
        ended.set()
    return answer


def secret_parts(secret: str) -> list[str]:
    """What masking hides of a secret (each line, stripped, two characters or more): what must never show."""
    return [p.strip() for p in secret.splitlines() if len(p.strip()) >= MIN_SECRET_LENGTH]


def encoded_forms(part: str) -> set[str]:
    """A value as it could be written out: plain, as `set -x` traces it, JSON-, HTML-, percent- and
    base64-encoded."""
    forms = {
        part,
        *shell_traced(part),
        json.dumps(part)[1:-1],
        json.dumps(part, ensure_ascii=False)[1:-1],
        html.escape(part),
        html.escape(part, quote=False),
        urllib.parse.quote(part, safe=""),
        urllib.parse.quote_plus(part),
        urllib.parse.quote(part),
        base64.b64encode(part.encode()).decode(),
    }
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def find_secrets(seen: Mapping[str, str | bytes], secrets: Iterable[str]) -> list[str]:
    """Where any form of any secret shows in `seen` (name -> text or bytes), as 'where: form' lines."""
    forms = {form for secret in secrets for part in secret_parts(secret) for form in encoded_forms(part)}
    leaks: list[str] = []
    for where, content in seen.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        lowered = data.lower()
        for form in sorted(forms):
            raw = form.encode()
            needle, haystack = (raw.lower(), lowered) if "%" in form else (raw, data)  # %2f or %2F
            index = haystack.find(needle)
            if index >= 0:
                context = data[max(0, index - 60) : index + len(raw) + 60].decode("utf-8", "replace")
                leaks.append(f"{where}: {form!r} in …{context!r}…")
    return leaks
