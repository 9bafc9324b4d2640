"""One real `hangar up` (Docker engine, embedded Redis, SQLite) for every client test, and the `hangar` client
run as a real process against it, as its users run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import ADMIN_TOKEN, HANGAR, Hangar, hangar_up
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

ECHO = """\
kind: pipeline
name: test
steps:
  - name: greet
    image: busybox
    commands:
      - echo "DRONE_DEPLOY_TO=$DRONE_DEPLOY_TO GREETING=$GREETING EVENT=$DRONE_BUILD_EVENT"
"""


@dataclass
class Cli:
    """The `hangar` command, pointed at the server by HANGAR_SERVER and HANGAR_TOKEN."""

    hangar: Hangar

    def __call__(
        self, *args: str, ok: bool = True, token: str = ADMIN_TOKEN, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `hangar ARGS…`; with `ok`, fail the test unless it exits with 0."""
        env = os.environ | {"HANGAR_SERVER": self.hangar.url, "HANGAR_TOKEN": token}
        result = subprocess.run(
            [*HANGAR, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
        )
        if ok:
            assert result.returncode == 0, f"hangar {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def json(self, *args: str) -> Any:
        """The JSON `hangar ARGS… --format json` prints."""
        return json.loads(self(*args, "--format", "json").stdout)


@dataclass
class Project:
    """A repository registered with `hangar repo add`, whose pushes reach Hangar as signed GitHub webhooks."""

    cli: Cli
    slug: str
    git: PushedRepo

    def push(self, files: dict[str, str], message: str = "change") -> str:
        """Commit and push `files`, and send the webhook: the commit's sha."""
        before, sha = self.git.push(files, message)
        owner, name = self.slug.split("/")
        body = github_push(owner, name, before, sha, message)
        answer = httpx.post(
            f"{self.cli.hangar.url}/hook", content=body, headers=github_headers(body), trust_env=False
        )
        assert answer.status_code == 202, answer.text
        return sha

    def finished(self, number: int) -> dict[str, Any]:
        """The build once it has finished."""
        return self.cli.hangar.wait_for_build(self.slug, number)

    def reaches(self, number: int, condition: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """The build once `condition` holds of it."""
        deadline = time.monotonic() + 120
        with self.cli.hangar.api() as api:
            while time.monotonic() < deadline:
                answer = api.get(f"/api/repos/{self.slug}/builds/{number}")
                if answer.status_code == 200 and condition(answer.json()):
                    build: dict[str, Any] = answer.json()
                    return build
                time.sleep(0.2)
        raise AssertionError(f"{self.slug}#{number} never {what}:\n{self.cli.hangar.output()[-4000:]}")

    def log(self, number: int, stage: int = 1, step: int = 2) -> str:
        """A step's whole log, as `hangar build logs` prints it."""
        return self.cli("build", "logs", self.slug, str(number), str(stage), str(step)).stdout


@pytest.fixture(scope="package")
def hangar(tmp_path_factory: pytest.TempPathFactory, docker_host: str) -> Iterator[Hangar]:
    with hangar_up(tmp_path_factory.mktemp("client") / "data") as running:
        yield running


@pytest.fixture
def cli(hangar: Hangar) -> Cli:
    return Cli(hangar)


@pytest.fixture
def project(cli: Cli, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Project]:
    """Make a repository named after the test with `pipeline` as its .ci.yml (pushed, not built), registered
    with `hangar repo add` and the given options."""

    def make(pipeline: str = ECHO, *options: str) -> Project:
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[:60]
        git = PushedRepo(tmp_path / "git")
        git.push({".ci.yml": pipeline}, "first")
        slug = f"client/{name}"
        cli("repo", "add", slug, "--clone-url", str(git.bare), "--webhook-secret", WEBHOOK_SECRET, *options)
        return Project(cli, slug, git)

    return make
