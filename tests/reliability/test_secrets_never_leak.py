"""End to end with `hangar up` and real containers: steps print their secrets every way they can, and no
form of any secret reaches anything a user or an operator can see — logs, API, pages, streams, emails,
commit statuses, the server's own output, the data folder (the database included)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from markupsafe import escape

from tests.e2e.processes import Hangar, wait_until
from tests.e2e.test_push_to_build import mailing_hangar, push_and_hook, register, statuses_for
from tests.peers import RecordingForge, SmtpServer
from tests.reliability.sweep import find_secrets, secret_parts
from tests.server.support import PushedRepo

SECRETS = {
    "plain": "plainsecret-Z9xQ41vT",
    "special": "sp3c!al$(x)[y]{z}|^.+?\\&;'\"<>#%2F`",
    "pem": (
        "-----BEGIN HANGAR TEST KEY-----\n"
        "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
        "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\n"
        "-----END HANGAR TEST KEY-----\n"
    ),
    "trailing": "trailing-newline-secret-K2p\n",
    "unicode": "ünïcødé-秘密-🔑-value",
}
ENVIRONMENT = "\n".join(f"      {name.upper()}: {{from_secret: {name}}}" for name in SECRETS)
SHOW = [
    r'''echo "plain: $PLAIN"''',
    r'''echo "inside other text:$PLAIN:and more"''',
    r'''printf '\033[31m%s\033[0m\n' "$UNICODE"''',
    r'''printf '%s' "$PLAIN" | head -c 7; sleep 1; printf '%s' "$PLAIN" | tail -c +8; echo " <- split"''',
    r"""{ printf '%s' "$SPECIAL" | head -c 9; sleep 1; printf '%s\n' "$SPECIAL" | tail -c +10; } >&2""",
    r'''head -c 65530 /dev/zero | tr '\0' a; printf '%s\n' "$PLAIN"''',
    r"""env""",
    r"""echo "$PEM" | while read -r line; do echo "key line: $line"; done""",
    r'''printf 'trailing: %s|\n' "$TRAILING"''',
    # the trace into stdout: Docker copies the two streams apart (a trace cut by stdout lines)
    r"""{ set -x; echo $PLAIN $SPECIAL $UNICODE $TRAILING; echo "$SPECIAL"; set +x; } 2>&1""",
    r"""echo "$SPECIAL" "$UNICODE" | tr ' ' '\n' """,
]
FAIL = ['echo "last lines: $PLAIN $SPECIAL"', 'echo "$PEM"', 'echo "$UNICODE $TRAILING"', "exit 7"]


def commands(lines: list[str]) -> str:
    """Commands as YAML (JSON strings are YAML's double-quoted scalars: nothing in them is read as YAML)."""
    return "".join(f"\n      - {json.dumps(line)}" for line in lines)


PIPELINE = f"""\
kind: pipeline
name: leak
steps:
  - name: show
    image: busybox
    environment:
{ENVIRONMENT}
    commands:{commands(SHOW)}
  - name: fail
    image: busybox
    environment:
{ENVIRONMENT}
    commands:{commands(FAIL)}
"""
SLUG = "octo/app"


@pytest.fixture
def hangar(tmp_path: Path, docker_host: str, smtp_server: SmtpServer) -> Iterator[Hangar]:
    with mailing_hangar(tmp_path / "data", smtp_server) as running:
        yield running


async def test_no_form_of_any_secret_reaches_anything_anyone_can_see(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge, SECRETS)
    sha = push_and_hook(hangar, repo, {".ci.yml": PIPELINE}, "print the secrets")
    build = await asyncio.to_thread(hangar.wait_for_build, SLUG, 1)
    assert build["status"] == "failure", (build["error"], build["stages"])
    steps = {s["name"]: (s["status"], s["exit_code"]) for s in build["stages"][0]["steps"]}
    shown = log_lines(hangar, 1, 2)
    expected = {"clone": ("success", 0), "show": ("success", 0), "fail": ("failure", 7)}
    assert steps == expected, "\n".join(line[:150] for line in shown)
    await asyncio.to_thread(wait_until, lambda: statuses_for(forge, sha)[-1:] == ["failure"], "the status")
    await asyncio.to_thread(wait_until, lambda: len(smtp_server.inbox.messages) == 1, "the email")

    seen: dict[str, str | bytes] = {}
    seen |= await asyncio.to_thread(api_answers, hangar, build)
    seen |= await asyncio.to_thread(pages, hangar, build)
    seen |= await asyncio.to_thread(streams, hangar, build)
    seen |= emails(smtp_server)
    seen |= {f"forge request {i}": repr(request) for i, request in enumerate(forge.requests)}
    seen["server output"] = hangar.output()
    seen |= data_files(hangar.data)
    print(f"\nsearched {len(seen)} things, {sum(len(v) for v in seen.values()) / 1e6:.1f} MB")

    assert find_secrets(seen, SECRETS.values()) == []
    assert_printed_and_masked(shown)
    assert "last lines: ****** ******" in log_lines(hangar, 1, 3)
    mail = email_text(smtp_server)
    assert "last lines: ****** ******" in mail, "the email quotes the failing step's last lines"


def assert_printed_and_masked(shown: list[str]) -> None:
    """The steps did print every form (as masks): a test whose steps printed nothing would prove nothing."""
    expected = [
        "plain: ******",
        "inside other text:******:and more",
        "\x1b[31m******\x1b[0m",
        "****** <- split",
        "PLAIN=******",
        "key line: ******",
        "trailing: ******",
    ]
    for line in expected:
        assert line in shown, f"{line!r} is not in the log:\n" + "\n".join(s[:120] for s in shown)
    assert shown.count("******") >= 3, "the split stderr/stdout write, the long line's end, the tr lines"
    assert any(line.startswith("+ echo ****** ") for line in shown), "set -x echoed the command, masked"


def log_lines(hangar: Hangar, stage: int, step: int) -> list[str]:
    """A step's log lines, through the API."""
    with hangar.api() as api:
        answer = api.get(f"/api/repos/{SLUG}/builds/1/logs/{stage}/{step}", params={"limit": 10_000})
        return [line["out"] for line in answer.json()]


def api_answers(hangar: Hangar, build: dict[str, Any]) -> dict[str, str | bytes]:
    """Every JSON route about the build, the repository and its secrets; every log, as JSON and as text;
    a log search for every part of every secret (which must find nothing: lines are masked when stored)."""
    builds = f"/api/repos/{SLUG}/builds"
    paths = [
        "/api/repos", f"/api/repos/{SLUG}", builds, f"{builds}/1", f"/api/repos/{SLUG}/secrets",
        "/api/user", "/api/users", "/api/runners", "/healthz", "/metrics",
        *(f"/api/repos/{SLUG}/secrets/{name}" for name in SECRETS),
    ]  # fmt: skip
    seen: dict[str, str | bytes] = {}
    with hangar.api() as api, httpx.Client(base_url=hangar.url, trust_env=False) as anonymous:
        for path in paths:
            seen[f"GET {path}"] = api.get(path).content
            seen[f"anonymous GET {path}"] = anonymous.get(path).content
        for stage, step in steps_of(build):
            log = f"{builds}/1/logs/{stage}/{step}"
            seen[f"GET {log}"] = api.get(log, params={"limit": 10_000}).content
            download = api.get(log, params={"format": "text"})
            seen[f"GET {log}?format=text"] = download.content + str(download.headers).encode()
            for part in searched_parts():
                found = api.get(f"{log}/search", params={"q": part})
                lines = [line["out"][:200] for line in api.get(log).json()]
                matched = [lines[position] for position in found.json()["matches"]]
                assert found.json() == {"matches": [], "truncated": False}, f"{part!r} matched: {matched}"
    return seen


def searched_parts() -> list[str]:
    """What a curious user could search a log for: each secret part, whole and cut in half."""
    parts = [part for secret in SECRETS.values() for part in secret_parts(secret)]
    return parts + [part[: len(part) // 2] for part in parts if len(part) >= 16]


def steps_of(build: dict[str, Any]) -> list[tuple[int, int]]:
    return [(stage["number"], step["number"]) for stage in build["stages"] for step in stage["steps"]]


def pages(hangar: Hangar, build: dict[str, Any]) -> dict[str, str | bytes]:
    """Every page a person can open about the build, and the log pages searched for each secret part."""
    paths = ["/", f"/{SLUG}", f"/{SLUG}/1", f"/{SLUG}/settings", f"/{SLUG}/badge.svg"]
    paths += [f"/{SLUG}/1/{stage}/{step}" for stage, step in steps_of(build)]
    seen: dict[str, str | bytes] = {}
    with hangar.api() as api:
        for path in paths:
            answer = api.get(path)
            assert answer.status_code == 200, path
            seen[f"page {path}"] = answer.content
        for part in searched_parts():
            path = f"/{SLUG}/1/1/2?q={quote(part)}"
            html = api.get(path).text
            assert "0 matching lines" in html and "No line matches." in html, f"{part!r} matched"
            seen[f"page {path}"] = without_the_query_box(html, part)
    return seen


def without_the_query_box(html: str, query: str) -> str:
    """The page without the search box's own value (it shows what the visitor typed, nothing more)."""
    box = f'value="{escape(query)}"'
    assert box in html, "the search box shows the query"
    return html.replace(box, 'value=""', 1)


def streams(hangar: Hangar, build: dict[str, Any]) -> dict[str, str | bytes]:
    """The build's event stream and every step's log stream, replayed from the start."""
    builds = f"/api/repos/{SLUG}/builds/1"
    paths = [f"{builds}/events"] + [f"{builds}/logs/{st}/{sp}/stream" for st, sp in steps_of(build)]
    return {f"stream {path}": read_stream(hangar, path) for path in paths}


def read_stream(hangar: Hangar, path: str, seconds: float = 10) -> bytes:
    """What the stream sends within `seconds` (a finished build's streams end on their own)."""
    received = b""
    deadline = time.monotonic() + seconds
    with hangar.api() as api, api.stream("GET", path) as answer:
        assert answer.status_code == 200, path
        try:
            for chunk in answer.iter_bytes():
                received += chunk
                if time.monotonic() > deadline:
                    break
        except httpx.ReadTimeout:
            pass
    return received


def emails(smtp_server: SmtpServer) -> dict[str, str | bytes]:
    """Every email as received (headers and encoded body) and every part decoded."""
    seen: dict[str, str | bytes] = {}
    for index, delivered in enumerate(smtp_server.inbox.messages):
        seen[f"email {index} raw"] = delivered.content
        message = email.message_from_bytes(delivered.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        seen[f"email {index} headers"] = "".join(f"{k}: {v}\n" for k, v in message.items())
        for number, part in enumerate(message.walk()):
            if not part.is_multipart():
                seen[f"email {index} part {number} {part.get_content_type()}"] = part.get_content()
    return seen


def email_text(smtp_server: SmtpServer) -> str:
    message = email.message_from_bytes(smtp_server.inbox.messages[0].content, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text: str = body.get_content()
    return text


def data_files(data: Path) -> dict[str, str | bytes]:
    """Every file in Hangar's data folder, the database too (secrets are stored encrypted there)."""
    files = [path for path in data.rglob("*") if path.is_file()]
    assert any(path.suffix == ".db" or "sqlite" in path.name for path in files), files
    return {f"file {path.relative_to(data)}": path.read_bytes() for path in files}
