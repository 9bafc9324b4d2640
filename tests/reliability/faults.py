"""Shared helpers of the fault tests: a build's state, a step's whole stored log, what Hangar left on the
Docker engine, and a restart of that engine."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from runner.labels import MANAGED_LABEL, POOL_LABEL, RUNNER_LABEL
from tests.conftest import SERVICES
from tests.e2e.processes import Hangar
from tests.leftovers import outside_session_environment

MANAGED = f"{MANAGED_LABEL}=true"
LOG_PAGE = 500


def build_of(hangar: Hangar, number: int = 1, slug: str = "octo/app") -> dict[str, Any] | None:
    """The build as the API shows it now (None while it does not exist or the server does not answer)."""
    try:
        with hangar.api() as api:
            answer = api.get(f"/api/repos/{slug}/builds/{number}")
    except httpx.HTTPError:
        return None
    return answer.json() if answer.status_code == 200 else None


def step_of(build: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The step of that name in the build's first stage (None before the runner reported it)."""
    if build is None or not build["stages"]:
        return None
    steps: list[dict[str, Any]] = build["stages"][0]["steps"]
    return next((step for step in steps if step["name"] == name), None)


def until_build(
    hangar: Hangar, what: str, condition: Callable[[dict[str, Any] | None], bool], timeout: float = 120
) -> dict[str, Any]:
    """Poll build 1 until the condition holds for it; fails naming `what`, with the server's output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        build = build_of(hangar)
        if condition(build):
            assert build is not None
            return build
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen in {timeout}s:\n{hangar.output()[-4000:]}")


def stored_log(hangar: Hangar, stage: int, step: int, number: int = 1, slug: str = "octo/app") -> list[str]:
    """Every line the server stored for the step, read page by page; fails if positions are not 0, 1, 2…"""
    lines: list[str] = []
    with hangar.api() as api:
        while True:
            page = api.get(
                f"/api/repos/{slug}/builds/{number}/logs/{stage}/{step}",
                params={"start": str(len(lines)), "limit": str(LOG_PAGE)},
            ).json()
            assert [line["pos"] for line in page] == list(range(len(lines), len(lines) + len(page)))
            lines += [line["out"] for line in page]
            if len(page) < LOG_PAGE:
                return lines


def lost_and_duplicated(stored: list[str], expected: list[str]) -> tuple[int, int]:
    """How many expected lines are missing from the stored log, and how many stored lines are extra copies."""
    missing = sum(max(0, expected.count(line) - stored.count(line)) for line in set(expected))
    extra = sum(max(0, stored.count(line) - expected.count(line)) for line in set(stored))
    return missing, extra


def hangar_objects(*labels: str) -> dict[str, list[str]]:
    """Containers (running or not), networks and volumes on the engine that carry Hangar's label and every
    `key=value` label given."""
    filters = [arg for label in (MANAGED, *labels) for arg in ("--filter", f"label={label}")]
    found: dict[str, list[str]] = {}
    for kind in ("container", "network", "volume"):
        listing = ["docker", kind, "ls", *(["-a"] if kind == "container" else []), "-q", *filters]
        found[kind] = subprocess.run(listing, capture_output=True, text=True, check=True).stdout.split()
    return found


def runner_objects(runner: str) -> dict[str, list[str]]:
    """What the runner of that name made on the engine and is still there."""
    return hangar_objects(f"{RUNNER_LABEL}={runner}")


def stage_objects(runner: str) -> dict[str, list[str]]:
    """What the runner's stages made and is still there: its idle pooled networks aside (kept for its next
    stage while it runs, removed when it stops)."""
    found = runner_objects(runner)
    idle = set(hangar_objects(f"{RUNNER_LABEL}={runner}", f"{POOL_LABEL}=true")["network"])
    return {**found, "network": [network for network in found["network"] if network not in idle]}


NOTHING: dict[str, list[str]] = {"container": [], "network": [], "volume": []}


def remove_runner_objects(runner: str) -> None:
    """Remove what the runner of that name made on the engine (after a failed test: leave nothing behind)."""
    found = runner_objects(runner)
    for kind, remove in (("container", ["rm", "-f", "-v"]), ("network", ["rm"]), ("volume", ["rm", "-f"])):
        if found[kind]:
            subprocess.run(["docker", kind, *remove, *found[kind]], capture_output=True, check=False)


@contextlib.contextmanager
def docker_restarting() -> Iterator[subprocess.Popen[bytes]]:
    """`scripts/services restart docker` under way in the background: the test services' engine stops (and its
    running containers with it: no live-restore), then starts again. At the end it is waited for, and the
    engine is made to answer whatever happened: the tests that follow need it."""
    environment = outside_session_environment()  # the engine outlives the session: not one of its leftovers
    command = [str(SERVICES), "restart", "docker"]
    restart = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield restart
    finally:
        _, errors = restart.communicate(timeout=300)
        subprocess.run([str(SERVICES), "up"], env=environment, check=True, capture_output=True, timeout=900)
        subprocess.run(["docker", "info", "--format", "{{.ID}}"], check=True, capture_output=True, timeout=60)
    assert restart.returncode == 0, f"scripts/services restart docker failed:\n{errors.decode()[-3000:]}"
