"""Notification peers down while a build runs: the build is not held up, and the email or the commit status
is retried until the peer is back, then delivered (the email once; the final status last); and a build that
finishes while Redis is down still gets its final status and email once Redis is back (the outbox)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.processes import Hangar, free_port, hangar_parts, hangar_runner, hangar_up, wait_until
from tests.e2e.test_push_to_build import push_and_hook
from tests.peers import Inbox, RecordingForge, serve_forge
from tests.reliability.outages import redis_server, smtp_on
from tests.server.support import WEBHOOK_SECRET, PushedRepo

QUICK = """\
kind: pipeline
name: quick
steps:
  - name: hello
    image: busybox
    commands: [echo "hello while the peers are away"]
"""
DOWN_AFTER_BUILD_SECONDS = 6.0
"""How long the peer stays down after the build finished: a few retries fail meanwhile."""
RETRY_MAX_SECONDS = 5
"""The retry backoff's cap (60s by default), so the test does not wait minutes for the next try."""
SHORT_BACKOFF = {"HANGAR_NOTIFY_RETRY_MAX_SECONDS": str(RETRY_MAX_SECONDS)}
SLOW_LAST_STEP = """\
kind: pipeline
name: slow
steps:
  - name: last
    image: busybox
    commands: [echo "last step started", sleep 6, echo "last step done"]
"""


def register(hangar: Hangar, repo: PushedRepo, **fields: Any) -> None:
    """Register octo/app for `repo`, with the given notification fields."""
    body = {"owner": "octo", "name": "app", "clone_url": str(repo.bare), "webhook_secret": WEBHOOK_SECRET}
    with hangar.api() as api:
        answer = api.post("/api/repos", json=body | fields)
        assert answer.status_code == 201, answer.text


def push_pipeline(hangar: Hangar, repo: PushedRepo, pipeline: str = QUICK) -> str:
    """Push the pipeline and send its webhook; the commit's sha."""
    return push_and_hook(hangar, repo, {".ci.yml": pipeline}, "add pipeline")


async def until(condition: Callable[[], bool], what: str, timeout: float, hangar: Hangar) -> float:
    """Seconds until `condition()` held, waiting in a thread (the event loop keeps serving the peers)."""
    return await asyncio.to_thread(wait_until, condition, what, timeout, hangar.output())


def retries(hangar: Hangar, what: str) -> int:
    """How many times the worker logged that `what` failed and will be retried."""
    return sum(1 for line in hangar.output().splitlines() if what in line and "will retry" in line)


def states(forge: RecordingForge, path: str, since: int) -> list[str]:
    """The states the forge received for the commit at `path` from its request number `since` on."""
    return [str(request.body["state"]) for request in forge.requests[since:] if request.path == path]


def test_an_email_is_retried_while_the_smtp_server_is_down_and_delivered_once(
    tmp_path: Path, docker_host: str
) -> None:
    port = free_port()
    env = {
        "HANGAR_SMTP_HOST": "127.0.0.1",
        "HANGAR_SMTP_PORT": str(port),
        "HANGAR_SMTP_FROM": "ci@hangar.test",
    }
    env |= SHORT_BACKOFF
    repo = PushedRepo(tmp_path / "git")
    inbox = Inbox()
    with hangar_up(tmp_path / "data", env=env) as hangar:
        register(hangar, repo, email_policy="always", email_recipients=["team@example.com"])
        push_pipeline(hangar, repo)
        build = hangar.wait_for_build("octo/app", 1, timeout=120)
        wait_until(lambda: retries(hangar, "email of build") >= 1, "a failed try", 30, hangar.output())
        time.sleep(DOWN_AFTER_BUILD_SECONDS)
        with smtp_on(port, inbox):
            back = time.monotonic()
            wait_until(lambda: len(inbox.messages) >= 1, "the email", 60, hangar.output())
            delay = time.monotonic() - back
            time.sleep(2 * RETRY_MAX_SECONDS)  # a second copy would come by now
        tries = retries(hangar, "email of build")
        with hangar.api() as api:
            after = api.get("/api/repos/octo/app/builds/1").json()
    print(
        f"\nSMTP down: email delivered {delay:.1f}s after the SMTP server came back, "
        f"after {tries} failed tries; {len(inbox.messages)} copies received"
    )
    assert build["status"] == "success", build
    assert after["status"] == "success" and after["finished"] == build["finished"], "the build unaffected"
    assert len(inbox.messages) == 1, [message.rcpt_tos for message in inbox.messages]
    assert "team@example.com" in inbox.messages[0].rcpt_tos


async def test_a_commit_status_is_retried_while_the_forge_is_down_and_the_final_one_stays(
    tmp_path: Path, docker_host: str
) -> None:
    port = free_port()
    forge = RecordingForge(url=f"http://127.0.0.1:{port}", status_code=503)
    repo = PushedRepo(tmp_path / "git")
    with hangar_up(tmp_path / "data", env=SHORT_BACKOFF) as hangar:
        fields = {"forge": "github", "api_url": forge.url, "api_token": "forge-token"}
        await asyncio.to_thread(register, hangar, repo, **fields)
        sha = await asyncio.to_thread(push_pipeline, hangar, repo)
        path = f"/repos/octo/app/statuses/{sha}"
        # first the forge refuses connections: the build starts meanwhile
        await until(lambda: retries(hangar, "commit status") >= 1, "a refused status", 60, hangar)
        refused = retries(hangar, "commit status")
        async with serve_forge(forge, port):  # then it answers 503 while the build finishes
            build = await asyncio.to_thread(hangar.wait_for_build, "octo/app", 1, 120)
            await asyncio.sleep(DOWN_AFTER_BUILD_SECONDS)
            answered_503 = len(forge.requests)
            forge.status_code = 201
            back = time.monotonic()
            await until(lambda: "success" in states(forge, path, answered_503), "the status", 60, hangar)
            delay = time.monotonic() - back
            await asyncio.sleep(2 * RETRY_MAX_SECONDS)  # a late status still being retried comes by now
            accepted = states(forge, path, answered_503)
        tries = retries(hangar, "commit status")
        with hangar.api() as api:
            after = api.get("/api/repos/octo/app/builds/1").json()
    print(
        f"\nforge down: final status delivered {delay:.1f}s after the forge came back; {tries} failed tries "
        f"({refused}+ refused connections, then {answered_503} answered 503); accepted after: {accepted}"
    )
    assert build["status"] == "success", build
    assert after["status"] == "success" and after["finished"] == build["finished"], "the build unaffected"
    assert accepted[-1] == "success", f"a late status overwrote the final one: {accepted}"
    assert accepted.count("success") == 1, accepted


def step_log(hangar: Hangar) -> str:
    """What build 1's pipeline step printed so far (step 2: step 1 is the clone)."""
    with hangar.api() as api:
        answer = api.get("/api/repos/octo/app/builds/1/logs/1/2")
    return "".join(line["out"] for line in answer.json()) if answer.status_code == 200 else ""


async def test_a_build_that_finishes_while_redis_is_down_still_gets_its_final_status_and_email(
    tmp_path: Path, docker_host: str
) -> None:
    smtp_port, forge_port = free_port(), free_port()
    forge = RecordingForge(url=f"http://127.0.0.1:{forge_port}")
    inbox = Inbox()
    repo = PushedRepo(tmp_path / "git")
    env = {"HANGAR_SMTP_HOST": "127.0.0.1", "HANGAR_SMTP_PORT": str(smtp_port), "HANGAR_REAP_SECONDS": "1"}
    with (
        redis_server(tmp_path / "redis") as redis,
        smtp_on(smtp_port, inbox),
        hangar_parts(tmp_path / "data", env | {"HANGAR_REDIS_URL": redis.url}) as hangar,
        hangar_runner(hangar.url, "notify", tmp_path / "runner.log"),
    ):
        async with serve_forge(forge, forge_port):
            fields = {"api_url": forge.url, "api_token": "forge-token", "email_policy": "always"}
            await asyncio.to_thread(register, hangar, repo, email_recipients=["team@example.com"], **fields)
            sha = await asyncio.to_thread(push_pipeline, hangar, repo, SLOW_LAST_STEP)
            path = f"/repos/octo/app/statuses/{sha}"
            await until(lambda: "last step started" in step_log(hangar), "the last step", 120, hangar)
            redis.kill()  # its queued jobs, and those the build is about to cause, are lost
            killed = time.monotonic()
            build = await asyncio.to_thread(hangar.wait_for_build, "octo/app", 1, 120)
            finished_down = time.monotonic() - killed
            redis.start()  # empty: no persistence
            restarted = time.monotonic()
            await until(lambda: "success" in states(forge, path, 0), "the final status", 120, hangar)
            status_delay = time.monotonic() - restarted
            await until(lambda: len(inbox.messages) >= 1, "the email", 120, hangar)
            email_delay = time.monotonic() - restarted
            await asyncio.sleep(5)  # a second copy, queued again by the sweep, would come by now
            accepted = states(forge, path, 0)
    print(
        f"\nRedis down while the build finished ({finished_down:.1f}s after the kill): final status "
        f"{status_delay:.1f}s and email {email_delay:.1f}s after Redis came back empty; statuses accepted: "
        f"{accepted}; {len(inbox.messages)} emails"
    )
    assert build["status"] == "success", build
    assert accepted[-1] == "success" and accepted.count("success") == 1, accepted
    assert len(inbox.messages) == 1, [message.rcpt_tos for message in inbox.messages]
    assert "team@example.com" in inbox.messages[0].rcpt_tos
