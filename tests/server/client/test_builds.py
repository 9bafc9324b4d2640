"""`hangar build …` against a real server running builds in Docker: custom builds with parameters, the list,
a build, its logs (finished and followed live), restart, cancel, promote and rollback."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.server.client.conftest import Cli, Project

TICKS = """\
kind: pipeline
name: test
steps:
  - name: count
    image: busybox
    commands:
      - for i in $(seq 1 10); do echo "tick $i"; sleep 1; done
"""
SLEEPY = """\
kind: pipeline
name: test
steps:
  - name: wait
    image: busybox
    commands: [sleep 300]
"""


def _step_running(build: dict[str, object]) -> bool:
    stages = build["stages"]
    assert isinstance(stages, list)
    return bool(stages) and stages[0]["steps"][1]["status"] == "running"


def test_a_custom_build_with_parameters_is_listed_shown_logged_and_restarted(
    cli: Cli, project: Callable[..., Project]
) -> None:
    app = project()
    created = cli.json("build", "create", app.slug, "--branch", "main", "-p", "GREETING=hello")
    assert (created["number"], created["event"], created["parameters"]) == (
        1,
        "custom",
        {"GREETING": "hello"},
    )
    assert app.finished(1)["status"] == "success"

    listed = cli("build", "ls", app.slug).stdout
    assert "custom" in listed and "success" in listed and app.git.head[:8] in listed
    assert [build["number"] for build in cli.json("build", "ls", app.slug)] == [1]
    shown = cli("build", "info", app.slug, "1").stdout
    assert "GREETING=hello" in shown and "greet" in shown and "success" in shown

    assert "DRONE_DEPLOY_TO= GREETING=hello EVENT=custom" in app.log(1)
    by_name = cli("build", "logs", app.slug, "1", "test", "greet").stdout
    assert by_name == app.log(1)
    lines = cli("build", "logs", app.slug, "1", "1", "2", "--format", "json").stdout.splitlines()
    assert [json.loads(line)["pos"] for line in lines] == list(range(len(lines)))

    restarted = cli.json("build", "restart", app.slug, "1")
    assert (restarted["number"], restarted["parent"], restarted["event"]) == (2, 1, "custom")
    assert app.finished(2)["status"] == "success"
    assert "GREETING=hello" in app.log(2)


def test_a_build_is_promoted_and_rolled_back_with_parameters(
    cli: Cli, project: Callable[..., Project]
) -> None:
    app = project()
    cli("build", "create", app.slug)
    promoted = cli.json("build", "promote", app.slug, "1", "production", "-p", "GREETING=ship-it")
    assert (promoted["event"], promoted["deploy_to"], promoted["parent"]) == ("promote", "production", 1)
    assert promoted["parameters"] == {"GREETING": "ship-it"}
    rolled_back = cli.json("build", "rollback", app.slug, "1", "staging")
    assert (rolled_back["event"], rolled_back["deploy_to"], rolled_back["parent"]) == (
        "rollback",
        "staging",
        1,
    )

    assert app.finished(promoted["number"])["status"] == "success"
    assert "DRONE_DEPLOY_TO=production GREETING=ship-it EVENT=promote" in app.log(promoted["number"])
    assert app.finished(rolled_back["number"])["status"] == "success"
    assert "DRONE_DEPLOY_TO=staging GREETING= EVENT=rollback" in app.log(rolled_back["number"])

    listed = cli("build", "ls", app.slug).stdout
    assert "promote → production" in listed and "rollback → staging" in listed
    no_target = cli("build", "promote", app.slug, "1", " ", ok=False)
    assert no_target.returncode == 1 and "needs a target" in no_target.stderr


def test_the_log_of_a_running_step_is_followed_to_its_end(cli: Cli, project: Callable[..., Project]) -> None:
    app = project(TICKS)
    cli("build", "create", app.slug)
    app.reaches(1, _step_running, "ran its step")

    followed = cli("build", "logs", app.slug, "1")
    assert "step count: running" in followed.stderr, "it started while the step ran"
    ticks = [line for line in followed.stdout.splitlines() if line.startswith("tick")]
    assert ticks == [f"tick {i}" for i in range(1, 11)]
    assert "step ended: success" in followed.stderr


def test_a_running_build_is_cancelled(cli: Cli, project: Callable[..., Project]) -> None:
    app = project(SLEEPY)
    cli("build", "create", app.slug)
    app.reaches(1, _step_running, "ran its step")
    cli("build", "cancel", app.slug, "1")
    assert app.finished(1)["status"] == "killed"
    again = cli("build", "cancel", app.slug, "1", ok=False)
    assert again.returncode == 1 and "already finished (killed)" in again.stderr and "(409)" in again.stderr


def test_a_build_that_does_not_exist_is_named(cli: Cli, project: Callable[..., Project]) -> None:
    app = project()
    missing = cli("build", "info", app.slug, "42", ok=False)
    assert missing.returncode == 1 and f"{app.slug} has no build 42 (404)" in missing.stderr
