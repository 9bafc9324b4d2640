"""End to end, all real: a git push to a bare repository, a signed GitHub webhook, `hangar up` running the
build in Docker containers; commit statuses reach a recording forge, the email an SMTP server."""

from __future__ import annotations

import contextlib
import email
import email.policy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Hangar, hangar_up, wait_until
from tests.peers import RecordingForge, SmtpServer
from tests.server.support import AUTHOR_EMAIL, WEBHOOK_SECRET, PushedRepo, github_headers, github_push

PASSING = """\
kind: pipeline
name: test
steps:
  - name: greet
    image: busybox
    commands:
      - echo "hello from $DRONE_REPO at ${DRONE_COMMIT_SHA:0:8}"
      - echo "secret is $TOKEN"
    environment:
      TOKEN: {from_secret: token}
"""

FAILING = """\
kind: pipeline
name: test
steps:
  - name: compile
    image: busybox
    commands: [echo compiled]
  - name: unit
    image: busybox
    commands:
      - for i in $(seq 1 60); do echo "test line $i"; done
      - echo "FAIL test_addition" && exit 3
"""

BROKEN = """\
kind: pipeline
name: test
steps:
  - name: greet
    image: busybox
    commands: [echo hi]
    depends_on: [gret]
"""


@pytest.fixture
def hangar(tmp_path: Path, docker_host: str, smtp_server: SmtpServer) -> Iterator[Hangar]:
    with mailing_hangar(tmp_path / "data", smtp_server) as running:
        yield running


@contextlib.contextmanager
def mailing_hangar(
    data: Path, smtp_server: SmtpServer, env: dict[str, str] | None = None, port: int = 0
) -> Iterator[Hangar]:
    """`hangar up` sending its email to the SMTP inbox (`env` adds to its environment)."""
    mailing = {
        "HANGAR_SMTP_HOST": "127.0.0.1",
        "HANGAR_SMTP_PORT": str(smtp_server.port),
        "HANGAR_SMTP_FROM": "ci@hangar.test",
    }
    with hangar_up(data, env=mailing | (env or {}), port=port) as running:
        yield running


def register(
    hangar: Hangar, repo: PushedRepo, forge: RecordingForge, secrets: dict[str, str] | None = None
) -> None:
    """Register octo/app with the forge's API, email to everyone always, and its secrets."""
    body = {
        "owner": "octo", "name": "app", "clone_url": str(repo.bare), "forge": "github",
        "webhook_secret": WEBHOOK_SECRET, "api_url": forge.url, "api_token": "forge-token",
        "email_policy": "always", "email_recipients": ["team@example.com"],
    }  # fmt: skip
    with hangar.api() as api:
        assert api.post("/api/repos", json=body).status_code == 201
        for name, value in (secrets or {"token": "hunter2-very-secret"}).items():
            answer = api.post("/api/repos/octo/app/secrets", json={"name": name, "value": value})
            assert answer.status_code == 201, answer.text


def push_and_hook(hangar: Hangar, repo: PushedRepo, files: dict[str, str], message: str) -> str:
    before, sha = repo.push(files, message)
    body = github_push("octo", "app", before, sha, message)
    answer = httpx.post(f"{hangar.url}/hook", content=body, headers=github_headers(body), trust_env=False)
    assert answer.status_code == 202, answer.text
    return sha


def statuses_for(forge: RecordingForge, sha: str) -> list[str]:
    return [r.body["state"] for r in forge.requests if r.path == f"/repos/octo/app/statuses/{sha}"]


async def test_a_push_builds_in_containers_and_reports_everywhere(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    sha = push_and_hook(hangar, repo, {".ci.yml": PASSING}, "add pipeline")
    build = await _finished(hangar, 1)
    assert build["status"] == "success", build
    assert [(s["name"], s["status"]) for s in build["stages"][0]["steps"]] == [
        ("clone", "success"),
        ("greet", "success"),
    ]
    with hangar.api() as api:
        lines = [line["out"] for line in api.get("/api/repos/octo/app/builds/1/logs/1/2").json()]
    assert f"hello from octo/app at {sha[:8]}" in lines
    assert "secret is ******" in lines and not any("hunter2" in line for line in lines)

    await _until(lambda: statuses_for(forge, sha)[-1:] == ["success"], "the success status")
    states = statuses_for(forge, sha)
    assert states[0] == "pending" and states[-1] == "success", states
    request = next(r for r in forge.requests if r.body["state"] == "success")
    assert request.headers["authorization"] == "Bearer forge-token"
    assert (
        request.body["context"] == "hangar/push" and request.body["target_url"] == f"{hangar.url}/octo/app/1"
    )

    await _until(lambda: len(smtp_server.inbox.messages) == 1, "the email")
    delivered = smtp_server.inbox.messages[0]
    assert sorted(delivered.rcpt_tos) == sorted([AUTHOR_EMAIL, "team@example.com"])
    message = email.message_from_bytes(delivered.content, policy=email.policy.default)
    assert "octo/app" in message["Subject"] and "#1" in message["Subject"] and "success" in message["Subject"]


async def test_a_failing_build_reports_failure_with_the_failing_lines(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    sha = push_and_hook(hangar, repo, {".ci.yml": FAILING}, "break the tests")
    build = await _finished(hangar, 1)
    assert build["status"] == "failure"
    steps = {s["name"]: (s["status"], s["exit_code"]) for s in build["stages"][0]["steps"]}
    assert steps == {"clone": ("success", 0), "compile": ("success", 0), "unit": ("failure", 3)}
    await _until(lambda: statuses_for(forge, sha)[-1:] == ["failure"], "the failure status")
    await _until(lambda: len(smtp_server.inbox.messages) == 1, "the email")
    message = email.message_from_bytes(smtp_server.inbox.messages[0].content, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "FAIL test_addition" in text and "test line 60" in text
    assert "test line 10\n" not in text, "only the last 50 lines"
    assert "failure" in message["Subject"]


async def test_a_broken_pipeline_file_gives_an_error_build_naming_the_line(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    sha = push_and_hook(hangar, repo, {".ci.yml": BROKEN}, "typo")
    build = await _finished(hangar, 1)
    assert build["status"] == "error"
    assert ".ci.yml:7:" in build["error"] and "gret" in build["error"], build["error"]
    await _until(lambda: statuses_for(forge, sha)[-1:] == ["error"], "the error status")


async def test_the_python_example_passes(hangar: Hangar, tmp_path: Path, forge: RecordingForge) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    example = Path(__file__).resolve().parents[2] / "examples" / "python-app"
    files = {path.name: path.read_text() for path in example.iterdir() if path.is_file()}
    push_and_hook(hangar, repo, files, "the example")
    build = await _finished(hangar, 1)
    assert build["status"] == "success", build
    with hangar.api() as api:
        lines = [line["out"] for line in api.get("/api/repos/octo/app/builds/1/logs/1/2").json()]
    assert any(line.startswith("Ran ") and "test" in line for line in lines), lines


async def _finished(hangar: Hangar, number: int) -> dict[str, Any]:
    import asyncio

    return await asyncio.to_thread(hangar.wait_for_build, "octo/app", number)


async def _until(condition: Callable[[], bool], what: str) -> None:
    import asyncio

    await asyncio.to_thread(wait_until, condition, what, 30)
