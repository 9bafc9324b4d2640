"""The API over HTTP: one httpx client per command, the server's refusals and an absent server as messages
for people (`ApiError`), and the server-sent events of a live stream."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import click
import httpx

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
STREAM_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""A live stream says something (a keep-alive at least) every 15 s; silence for 60 s means it is gone."""
HINTS = {
    401: "give a valid API token with --token or HANGAR_TOKEN",
    403: "this needs an administrator's token",
}


class ApiError(click.ClickException):
    """The server refused the request (its own words), or could not be reached; exits with 1."""


@dataclass(frozen=True)
class Event:
    """One server-sent event."""

    name: str
    data: str
    id: str = ""


def api_path(*parts: str | int) -> str:
    """`/api/…` from path segments, each escaped (a slug's owner and name are separate segments)."""
    return "/api/" + "/".join(quote(str(part), safe="") for part in parts)


def repo_path(slug: str, *parts: str | int) -> str:
    """The path of repository `owner/name` (or of something under it)."""
    owner, name = slug.split("/", 1)
    return api_path("repos", owner, name, *parts)


class ApiClient:
    """A client of one Hangar server, signed in with a token (anonymous without one)."""

    def __init__(self, server: str, token: str) -> None:
        self.server = server.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            self._http = httpx.Client(base_url=self.server, headers=headers, timeout=TIMEOUT)
        except (httpx.InvalidURL, ValueError) as exc:
            raise ApiError(f"{server!r} is not a server address ({exc})") from None

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def call(
        self, method: str, path: str, *, params: Mapping[str, str | int] | None = None, body: Any = None
    ) -> Any:
        """The answer's JSON (None for an empty answer); ApiError when the server refuses or is away."""
        try:
            answer = self._http.request(method, path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        _check(answer)
        if not answer.content:
            return None
        try:
            return answer.json()
        except ValueError:
            raise ApiError(
                f"{self.server} answered {path} with something that is not JSON: is it Hangar?"
            ) from None

    def get(self, path: str, **params: str | int) -> Any:
        """GET `path` with the query `params`."""
        return self.call("GET", path, params=params)

    def events(self, path: str, params: Mapping[str, str | int]) -> Iterator[Event]:
        """The server-sent events of a stream, until the server ends it."""
        try:
            with self._http.stream("GET", path, params=params, timeout=STREAM_TIMEOUT) as answer:
                if answer.is_error:
                    answer.read()
                    _check(answer)
                yield from parse_events(answer.iter_lines())
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: httpx.HTTPError) -> ApiError:
        reason = str(exc) or type(exc).__name__
        return ApiError(
            f"cannot reach the Hangar server at {self.server}: {reason} (set HANGAR_SERVER or --server)"
        )


def parse_events(lines: Iterator[str]) -> Iterator[Event]:
    """Server-sent events from the stream's lines (comments, such as keep-alives, are skipped)."""
    name, event_id = "message", ""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield Event(name, "\n".join(data), event_id)
            name, data = "message", []
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            event_id = value


def _check(answer: httpx.Response) -> None:
    """ApiError with the server's `{"error": ...}` text (and a hint) unless the answer is a success."""
    if answer.is_success:
        return
    try:
        detail = answer.json().get("error", "")
    except (ValueError, AttributeError):
        detail = ""
    detail = str(detail) or answer.text.strip()[:300] or answer.reason_phrase
    hint = HINTS.get(answer.status_code, "")
    raise ApiError(f"{detail} ({answer.status_code}{': ' + hint if hint else ''})")
