"""Pipelines on a real Docker engine and registry: every assertion reads real container output."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipelines.report import StageReport
from pipelines.status import Status
from runner.docker import DockerEngine
from runner.engine import StageSpec
from runner.executor import StageOptions, run_stage
from runner.workspace import cloned_workspace, local_workspace
from tests.runner.support import RecordingReporter, plan_of

pytestmark = pytest.mark.usefixtures("docker_host")


@pytest.fixture
async def engine() -> AsyncIterator[DockerEngine]:
    async with await DockerEngine.connect() as engine:
        yield engine


async def run(
    engine: DockerEngine, text: str, *, trusted: bool = False, **options: object
) -> tuple[StageReport, RecordingReporter]:
    reporter = RecordingReporter()
    cancel = options.pop("cancel", None)
    report = await run_stage(
        engine,
        reporter,
        plan_of(text, trusted=trusted),
        options=StageOptions(**options),  # type: ignore[arg-type]
        cancel=cancel,  # type: ignore[arg-type]
    )
    return report, reporter


def pipeline(steps: str, extra: str = "") -> str:
    return f"kind: pipeline\nname: default\nclone: {{disable: true}}\n{extra}\nsteps:\n{steps}"


async def test_a_step_reaches_a_service_by_its_name(engine: DockerEngine) -> None:
    services = """
services:
  - name: web server
    image: busybox
    commands: ["mkdir /www && echo served-by-the-service > /www/index.html && httpd -f -p 8080 -h /www"]
"""
    steps = """
  - name: client
    image: busybox
    commands:
      - for i in $(seq 50); do wget -q -O- http://web-server:8080/ && exit 0; sleep 0.1; done; exit 1
"""
    report, reporter = await run(engine, pipeline(steps, services))
    assert report.status == Status.SUCCESS, reporter.text("client")
    assert "served-by-the-service" in reporter.text("client")


async def test_two_dag_branches_run_at_the_same_time(engine: DockerEngine) -> None:
    wait_for = "for i in $(seq 100); do [ -e {other} ] && echo saw-{other} && exit 0; sleep 0.1; done; exit 1"
    steps = f"""
  - name: left
    image: busybox
    commands: ["touch left", "{wait_for.format(other="right")}"]
  - name: right
    image: busybox
    commands: ["touch right", "{wait_for.format(other="left")}"]
  - name: join
    image: busybox
    depends_on: [left, right]
    commands: [ls]
"""
    report, reporter = await run(engine, pipeline(steps))
    assert report.status == Status.SUCCESS
    assert "saw-right" in reporter.text("left")
    assert "saw-left" in reporter.text("right")
    assert {"left", "right"} <= set(reporter.text("join"))


async def test_a_failure_runs_the_failure_steps_and_skips_the_others(engine: DockerEngine) -> None:
    steps = """
  - {name: broken, image: busybox, commands: ["echo breaking", "exit 3"]}
  - {name: ordinary, image: busybox, commands: ["echo should not run"]}
  - name: notify
    image: busybox
    commands: ["echo status=$DRONE_BUILD_STATUS failed=$DRONE_FAILED_STEPS"]
    when: {status: [failure]}
  - name: cleanup
    image: busybox
    commands: ["echo cleaning up"]
    when: {status: [success, failure]}
"""
    report, reporter = await run(engine, pipeline(steps))
    assert report.status == Status.FAILURE
    assert report.step("broken").status == Status.FAILURE
    assert report.step("broken").exit_code == 3
    assert report.step("ordinary").status == Status.SKIPPED
    assert reporter.text("ordinary") == []
    assert "status=failure failed=broken" in reporter.text("notify")
    assert "cleaning up" in reporter.text("cleanup")


async def test_failure_ignore_and_exit_78(engine: DockerEngine) -> None:
    steps = """
  - {name: flaky, image: busybox, failure: ignore, commands: ["exit 1"]}
  - {name: next, image: busybox, commands: ["echo still running"]}
  - {name: done early, image: busybox, commands: ["echo stopping here", "exit 78"]}
  - {name: never, image: busybox, commands: ["echo unreachable"]}
"""
    report, reporter = await run(engine, pipeline(steps))
    assert report.status == Status.SUCCESS
    assert report.step("flaky").status == Status.FAILURE
    assert "still running" in reporter.text("next")
    assert report.step("done early").status == Status.SUCCESS
    assert report.step("never").status == Status.SKIPPED
    assert reporter.text("never") == []


async def test_secrets_are_masked_in_every_line(engine: DockerEngine) -> None:
    steps = """
  - name: leak
    image: busybox
    environment:
      TOKEN: {from_secret: token}
      KEY: {from_secret: key}
    commands: ["echo the token is $TOKEN", "echo \\"$KEY\\"", "echo $TOKEN | rev | rev"]
"""
    secrets = {"token": "hunter2-secret", "key": "first-line\nsecond-line"}
    report, reporter = await run(engine, pipeline(steps), secrets=secrets)
    text = "\n".join(reporter.text("leak"))
    assert report.status == Status.SUCCESS
    assert "the token is ******" in text
    assert "hunter2" not in text
    assert "first-line" not in text
    assert "second-line" not in text
    assert text.count("******") == 4


async def test_numeric_environment_values_keep_their_text(engine: DockerEngine) -> None:
    steps = """
  - name: env
    image: busybox
    environment: {VERSION: 1.10, COUNT: 010, ENABLED: yes, EMPTY: ""}
    commands: ['echo "v=$VERSION c=$COUNT e=$ENABLED x=[$EMPTY]"']
"""
    _, reporter = await run(engine, pipeline(steps))
    assert "v=1.10 c=010 e=yes x=[]" in reporter.text("env")


async def test_temp_volumes_are_shared_between_steps_and_memory_volumes_are_tmpfs(
    engine: DockerEngine,
) -> None:
    extra = "volumes:\n  - {name: cache, temp: {}}\n  - {name: ram, temp: {medium: memory}}"
    steps = """
  - name: write
    image: busybox
    volumes: [{name: cache, path: /cache}, {name: ram, path: /ram}]
    commands:
      - echo kept > /cache/file
      - echo ws > in-workspace
      - grep ' /ram tmpfs' /proc/mounts | cut -c1-9
  - name: read
    image: busybox
    volumes: [{name: cache, path: /cache}]
    commands: ["cat /cache/file in-workspace"]
"""
    report, reporter = await run(engine, pipeline(steps, extra), trusted=True)
    assert report.status == Status.SUCCESS, reporter.text("read")
    assert reporter.text("read")[1:] == ["kept", "ws"]
    assert "tmpfs /ra" in reporter.text("write")


async def test_a_detached_step_keeps_running_while_the_next_step_uses_it(engine: DockerEngine) -> None:
    steps = """
  - name: server
    image: busybox
    detach: true
    commands: ["mkdir /www && echo detached-server > /www/index.html && httpd -f -p 80 -h /www"]
  - name: client
    image: busybox
    commands: ["for i in $(seq 50); do wget -q -O- http://server/ && exit 0; sleep 0.1; done; exit 1"]
"""
    report, reporter = await run(engine, pipeline(steps))
    assert report.status == Status.SUCCESS
    assert "detached-server" in reporter.text("client")
    assert report.step("server").status == Status.SUCCESS


async def test_cancel_stops_the_running_step_and_skips_the_rest(engine: DockerEngine) -> None:
    steps = """
  - {name: long, image: busybox, commands: ["echo started", "sleep 300"]}
  - {name: after, image: busybox, commands: ["echo after"]}
"""
    cancel = asyncio.Event()
    reporter = RecordingReporter()
    options = StageOptions(grace=1)
    task = asyncio.create_task(
        run_stage(engine, reporter, plan_of(pipeline(steps)), options=options, cancel=cancel)
    )
    for _ in range(200):
        if "started" in reporter.text("long"):
            break
        await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    asked = loop.time()
    cancel.set()
    report = await asyncio.wait_for(task, 30)
    assert loop.time() - asked < 10
    assert report.status == Status.KILLED
    assert report.step("long").status == Status.KILLED
    assert report.step("after").status == Status.SKIPPED


async def test_a_stage_timeout_kills_the_step(engine: DockerEngine) -> None:
    steps = '  - {name: slow, image: busybox, commands: ["sleep 300"]}\n'
    report, _ = await run(engine, pipeline(steps), timeout=4, grace=0)  # time to start on a slow machine
    assert report.status == Status.KILLED
    assert report.error.startswith("timed out after")
    assert report.step("slow").status == Status.KILLED


async def test_a_missing_image_is_an_error_with_the_reason_in_the_log(engine: DockerEngine) -> None:
    steps = """
  - {name: ghost, image: "busybox:no-such-tag", commands: [true]}
  - {name: report, image: busybox, commands: ["echo reported"], when: {status: [failure]}}
"""
    report, reporter = await run(engine, pipeline(steps))
    assert report.status == Status.ERROR
    assert report.step("ghost").status == Status.ERROR
    assert "could not pull image busybox:no-such-tag" in reporter.text("ghost")[0]
    assert "reported" in reporter.text("report")


async def test_private_registry_credentials_come_from_image_pull_secrets(
    engine: DockerEngine, services: dict[str, str]
) -> None:
    registry = services["HANGAR_AUTH_REGISTRY"]
    user, password = services["HANGAR_AUTH_REGISTRY_USER"], services["HANGAR_AUTH_REGISTRY_PASSWORD"]
    image = f"{registry}/private/busybox:latest"
    subprocess.run(["docker", "rmi", "-f", image], capture_output=True, check=False)
    steps = (
        f"  - {{name: private, image: '{image}', pull: always, commands: ['echo pulled with credentials']}}\n"
    )
    text = pipeline(steps, "image_pull_secrets: [dockerconfig]")
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = json.dumps({"auths": {f"http://{registry}": {"auth": auth}}})

    refused, reporter = await run(engine, text)
    assert refused.step("private").status == Status.ERROR
    assert f"could not pull image {image}" in reporter.text("private")[0]

    report, reporter = await run(engine, text, secrets={"dockerconfig": config})
    assert report.status == Status.SUCCESS, reporter.text("private")
    assert "pulled with credentials" in reporter.text("private")
    subprocess.run(["docker", "rmi", "-f", image], capture_output=True, check=False)


async def test_long_lines_and_binary_output_survive(engine: DockerEngine) -> None:
    steps = """
  - name: noisy
    image: busybox
    commands:
      - head -c 200000 /dev/zero | tr -c x x; echo
      - head -c 4096 /dev/urandom; echo
      - echo after-binary
"""
    report, reporter = await run(engine, pipeline(steps))
    assert report.status == Status.SUCCESS
    lines = reporter.text("noisy")
    assert sum(len(line) for line in lines if set(line) == {"x"}) == 200_000
    assert lines[-1] == "after-binary"
    assert [line.pos for line in reporter.lines["noisy"]] == list(range(len(lines)))


@pytest.mark.parametrize("direct", [True, False], ids=["into-the-volume-folder", "through-an-archive"])
async def test_the_clone_step_checks_out_the_exact_commit(
    engine: DockerEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    folders: list[Path | None] = []
    offered = engine.workspace_folder

    def workspace_folder(stage: StageSpec) -> Path | None:
        folder = offered(stage) if direct else None
        folders.append(folder)
        return folder

    monkeypatch.setattr(engine, "workspace_folder", workspace_folder)
    origin = tmp_path / "origin"
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    for content in ("first", "second"):
        (origin / "VERSION").write_text(content + "\n")
        subprocess.run(["git", "-C", str(origin), "add", "."], check=True)
        subprocess.run(
            ["git", "-C", str(origin), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", content],
            check=True,
        )
        if content == "first":
            first = subprocess.run(
                ["git", "-C", str(origin), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
            ).stdout.strip()
    commands = "[cat VERSION, ls -a, 'ls -ln VERSION', 'echo x > made && cat made']"
    plan = plan_of(f"kind: pipeline\nsteps:\n  - {{name: show, image: busybox, commands: {commands}}}")
    clone = plan.clone.model_copy(
        update={"remote_url": origin.as_uri(), "ref": "refs/heads/main", "sha": first}
    )
    reporter = RecordingReporter()
    report = await run_stage(engine, reporter, plan, workspace=cloned_workspace(clone))
    assert report.status == Status.SUCCESS, reporter.text("clone")
    assert reporter.text("show")[1] == "first"
    assert ".git" in reporter.text("show")
    assert any(first in line for line in reporter.text("clone"))
    shown = reporter.text("show")
    owner = next(line for line in shown if line.startswith("-") and line.endswith(" VERSION")).split()[2]
    assert owner == "0", "the step's root owns the checked-out files"
    assert reporter.text("show")[-1] == "x", "the step can write into its workspace"
    if direct and os.geteuid() == 0:  # as root beside the engine (as in CI), the folder is written directly
        assert folders and folders[0] is not None
    if not direct:
        assert folders == [None]


async def test_pull_never_refuses_an_image_that_is_not_on_the_host(engine: DockerEngine) -> None:
    steps = "  - {name: offline, image: 'busybox:not-here', pull: never, commands: [true]}\n"
    report, reporter = await run(engine, pipeline(steps))
    assert report.step("offline").status == Status.ERROR
    assert reporter.text("offline") == [
        "image busybox:not-here is not on this host and its pull policy is never"
    ]


async def test_a_trusted_host_volume_is_the_host_folder(engine: DockerEngine, tmp_path: Path) -> None:
    extra = f"volumes:\n  - {{name: shared, host: {{path: {tmp_path}}}}}"
    steps = """
  - name: write
    image: busybox
    volumes: [{name: shared, path: /out}]
    commands: ['echo hi > /out/f']
"""
    report, _ = await run(engine, pipeline(steps, extra), trusted=True)
    assert report.status == Status.SUCCESS
    assert (tmp_path / "f").read_text() == "hi\n"


async def test_a_nested_workspace_path_gets_the_files(engine: DockerEngine, tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text("package main\n")
    text = """
kind: pipeline
name: default
workspace: {base: /go, path: src/github.com/octo/hello}
steps:
  - {name: where, image: busybox, commands: [pwd, ls]}
"""
    reporter = RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(text), workspace=local_workspace(tmp_path))
    assert report.status == Status.SUCCESS, reporter.text("where")
    assert reporter.text("where") == ["+ pwd", "/go/src/github.com/octo/hello", "+ ls", "main.go"]


async def test_steps_without_a_shell_and_the_http_client_fallback_work_too(
    engine: DockerEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = """
  - {name: plugin-like, image: busybox, entrypoint: [echo], command: [from the image entrypoint]}
  - {name: scripted, image: busybox, commands: ["echo from a script"]}
"""
    monkeypatch.setattr(engine, "_socket_path", lambda: None)  # as over TCP: nothing armed, aiohttp logs
    report, reporter = await run(engine, pipeline(steps))
    assert report.status == Status.SUCCESS
    assert reporter.text("plugin-like") == ["from the image entrypoint"]
    assert reporter.text("scripted") == ["+ echo from a script", "from a script"]
