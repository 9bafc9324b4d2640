"""The executor on a scripted engine: order, failure policies, cancel, timeout, masking, teardown."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import BinaryIO

import pytest

from pipelines.status import Status
from runner.engine import EngineError, Exit, StageSpec
from runner.executor import LogWriter, StageOptions, run_stage
from tests.runner.fake_engine import Behaviour, FakeEngine
from tests.runner.support import RecordingReporter, plan_of

SERIAL = """
kind: pipeline
name: default
clone: {disable: true}
steps:
  - {name: one, image: busybox, commands: [echo one]}
  - {name: two, image: busybox, commands: [echo two]}
  - {name: three, image: busybox, commands: [echo three]}
  - name: on-failure
    image: busybox
    commands: [echo failed]
    when: {status: [failure]}
  - name: always
    image: busybox
    commands: [echo always]
    when: {status: [success, failure]}
"""


async def run(
    text: str, behaviours: dict[str, Behaviour] | None = None, **options: object
) -> tuple[FakeEngine, RecordingReporter, Status]:
    engine, reporter = FakeEngine(behaviours), RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(text), options=StageOptions(**options))  # type: ignore[arg-type]
    assert engine.alive() == [], "teardown must remove every container"
    assert engine.stages == set(), "teardown must destroy the stage"
    return engine, reporter, report.status


def statuses(reporter: RecordingReporter) -> dict[str, Status]:
    return {name: history[-1] for name, history in reporter.history.items()}


async def test_serial_steps_run_in_order_and_the_failure_steps_are_skipped() -> None:
    behaviours = {"one": Behaviour(output=[b"hello\n"])}
    engine, reporter, status = await run(SERIAL, behaviours)
    assert status == Status.SUCCESS
    assert engine.started("one") < engine.started("two") < engine.started("three") < engine.started("always")
    assert engine.ended("one") <= engine.started("two")
    assert statuses(reporter) == {
        "one": Status.SUCCESS,
        "two": Status.SUCCESS,
        "three": Status.SUCCESS,
        "on-failure": Status.SKIPPED,
        "always": Status.SUCCESS,
    }
    assert reporter.text("one") == ["hello"]
    assert reporter.stage_history == [Status.RUNNING, Status.SUCCESS]


async def test_a_failure_skips_ordinary_steps_and_runs_the_failure_steps_with_the_new_status() -> None:
    engine, reporter, status = await run(SERIAL, {"two": Behaviour(exit_code=3)})
    assert status == Status.FAILURE
    assert statuses(reporter) == {
        "one": Status.SUCCESS,
        "two": Status.FAILURE,
        "three": Status.SKIPPED,
        "on-failure": Status.SUCCESS,
        "always": Status.SUCCESS,
    }
    assert engine.environment("on-failure")["DRONE_BUILD_STATUS"] == "failure"
    assert engine.environment("on-failure")["DRONE_FAILED_STEPS"] == "two"
    assert engine.environment("one")["DRONE_BUILD_STATUS"] == "success"


async def test_failure_ignore_keeps_the_stage_green() -> None:
    text = SERIAL.replace("commands: [echo two]}", "commands: [echo two], failure: ignore}")
    _, reporter, status = await run(text, {"two": Behaviour(exit_code=1)})
    assert status == Status.SUCCESS
    assert statuses(reporter)["two"] == Status.FAILURE
    assert statuses(reporter)["three"] == Status.SUCCESS


async def test_exit_78_ends_the_stage_early_with_success() -> None:
    _, reporter, status = await run(SERIAL, {"one": Behaviour(exit_code=78)})
    assert status == Status.SUCCESS
    assert statuses(reporter)["one"] == Status.SUCCESS
    assert [statuses(reporter)[n] for n in ("two", "three", "on-failure", "always")] == [Status.SKIPPED] * 4


DAG = """
kind: pipeline
name: default
clone: {disable: true}
steps:
  - {name: left, image: busybox, commands: [sleep 1]}
  - {name: right, image: busybox, commands: [sleep 1]}
  - {name: join, image: busybox, commands: [echo joined], depends_on: [left, right]}
"""


async def test_dag_branches_run_at_the_same_time_and_the_join_waits_for_both() -> None:
    slow = Behaviour(duration=0.2)
    engine, _, status = await run(DAG, {"left": slow, "right": slow})
    assert status == Status.SUCCESS
    assert engine.started("right") < engine.ended("left")
    assert engine.started("join") >= max(engine.ended("left"), engine.ended("right"))


async def test_max_parallel_one_runs_the_branches_one_after_the_other() -> None:
    slow = Behaviour(duration=0.1)
    engine, _, _ = await run(DAG, {"left": slow, "right": slow}, max_parallel=1)
    assert engine.started("right") >= engine.ended("left")


DETACHED = """
kind: pipeline
name: default
clone: {disable: true}
services:
  - {name: db, image: busybox, commands: [sleep 60]}
steps:
  - {name: server, image: busybox, detach: true, commands: [sleep 60]}
  - {name: client, image: busybox, commands: [echo ok]}
"""


async def test_services_and_detached_steps_do_not_block_and_are_stopped_at_the_end() -> None:
    forever = Behaviour(duration=3600)
    engine, reporter, status = await run(DETACHED, {"db": forever, "server": forever})
    assert status == Status.SUCCESS
    assert engine.started("client") < engine.ended("server")
    assert statuses(reporter)["server"] == Status.SUCCESS
    assert statuses(reporter)["db"] == Status.SUCCESS


async def test_a_detached_step_that_fails_does_not_fail_the_stage() -> None:
    behaviours = {"server": Behaviour(exit_code=2), "db": Behaviour(duration=3600)}
    _, reporter, status = await run(DETACHED, behaviours)
    assert status == Status.SUCCESS
    assert statuses(reporter)["client"] == Status.SUCCESS


async def test_cancel_kills_the_running_step_and_skips_the_rest() -> None:
    engine, reporter = FakeEngine({"two": Behaviour(duration=3600)}), RecordingReporter()
    cancel = asyncio.Event()
    task = asyncio.create_task(run_stage(engine, reporter, plan_of(SERIAL), cancel=cancel))
    while Status.RUNNING not in reporter.history["two"]:
        await asyncio.sleep(0.01)
    cancel.set()
    report = await asyncio.wait_for(task, 5)
    assert report.status == Status.KILLED
    assert report.error == "cancelled"
    assert statuses(reporter) == {
        "one": Status.SUCCESS,
        "two": Status.KILLED,
        "three": Status.SKIPPED,
        "on-failure": Status.SKIPPED,
        "always": Status.SKIPPED,
    }
    assert report.step("two").exit_code == 137
    assert engine.alive() == []


async def test_timeout_kills_the_stage_and_says_so() -> None:
    _, reporter, status = await run(SERIAL, {"one": Behaviour(duration=3600)}, timeout=0.2)
    assert status == Status.KILLED
    assert statuses(reporter)["one"] == Status.KILLED
    assert statuses(reporter)["two"] == Status.SKIPPED


async def test_cancelling_the_task_itself_still_tears_everything_down() -> None:
    engine, reporter = FakeEngine({"one": Behaviour(duration=3600)}), RecordingReporter()
    task = asyncio.create_task(run_stage(engine, reporter, plan_of(SERIAL)))
    while Status.RUNNING not in reporter.history["one"]:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.alive() == []
    assert engine.stages == set()


SECRETS = """
kind: pipeline
name: default
clone: {disable: true}
steps:
  - name: leak
    image: busybox
    environment:
      TOKEN: {from_secret: token}
      KEY: {from_secret: key}
    commands: [echo $TOKEN]
"""


async def test_secret_values_are_given_to_the_step_and_masked_in_every_line() -> None:
    output = [b"token=s3cr3t-value and again s3cr3t-value\n", b"key part: line-one\n", b"and line-two end\n"]
    engine, reporter = FakeEngine({"leak": Behaviour(output=output)}), RecordingReporter()
    secrets = {"token": "s3cr3t-value", "key": "line-one\nline-two\n"}
    await run_stage(engine, reporter, plan_of(SECRETS), options=StageOptions(secrets=secrets))
    assert engine.environment("leak")["TOKEN"] == "s3cr3t-value"
    assert reporter.text("leak") == ["token=****** and again ******", "key part: ******", "and ****** end"]


async def test_an_image_that_cannot_be_pulled_is_an_error_with_the_reason_in_the_log() -> None:
    behaviours = {"two": Behaviour(create_error="image busybox:nope: manifest unknown")}
    _, reporter, status = await run(SERIAL, behaviours)
    assert status == Status.ERROR
    assert statuses(reporter)["two"] == Status.ERROR
    assert reporter.text("two") == ["image busybox:nope: manifest unknown"]
    assert statuses(reporter)["on-failure"] == Status.SUCCESS


async def test_lines_are_numbered_from_zero_and_split_across_chunks() -> None:
    output = [b"a\nb", b"c\n", b"no newline at the end"]
    _, reporter, _ = await run(SERIAL, {"one": Behaviour(output=output)})
    assert [(line.pos, line.out) for line in reporter.lines["one"]] == [
        (0, "a"),
        (1, "bc"),
        (2, "no newline at the end"),
    ]


async def test_windows_pipelines_are_refused_with_a_reason() -> None:
    text = SERIAL.replace("name: default", "name: default\nplatform: {os: windows}")
    engine, reporter, status = await run(text)
    assert status == Status.ERROR
    assert engine.containers == {}
    assert set(statuses(reporter).values()) == {Status.SKIPPED}


CLONED = """
kind: pipeline
name: default
steps:
  - {name: build, image: busybox, commands: [ls]}
"""


async def test_the_clone_step_fills_the_workspace_from_the_source() -> None:
    async def source(log: LogWriter) -> BinaryIO:
        await log("+ git fetch")
        return io.BytesIO(b"tar bytes")

    engine, reporter = FakeEngine(), RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(CLONED), workspace=source)
    assert report.status == Status.SUCCESS
    assert engine.workspace == b"tar bytes"
    assert reporter.text("clone") == ["+ git fetch"]
    assert engine.started("build") > 0


class FolderSource:
    """A source that writes its files into the folder the engine offers, else hands over a tar."""

    async def __call__(self, log: LogWriter) -> BinaryIO:
        await log("+ packed")
        return io.BytesIO(b"tar bytes")

    async def into(self, folder: Path, log: LogWriter) -> None:
        await log("+ straight into the folder")
        (folder / "README").write_text("hello\n")


async def test_the_clone_writes_into_the_workspace_folder_when_the_engine_offers_one(tmp_path: Path) -> None:
    engine, reporter = FakeEngine(folder=tmp_path), RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(CLONED), workspace=FolderSource())
    assert report.status == Status.SUCCESS
    assert (tmp_path / "README").read_text() == "hello\n"
    assert engine.workspace is None, "no archive went through the engine"
    assert reporter.text("clone") == ["+ straight into the folder"]


async def test_without_a_folder_the_same_source_fills_the_workspace_through_an_archive() -> None:
    engine, reporter = FakeEngine(), RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(CLONED), workspace=FolderSource())
    assert report.status == Status.SUCCESS
    assert engine.workspace == b"tar bytes"
    assert reporter.text("clone") == ["+ packed"]


async def test_a_failed_clone_fails_the_stage_and_skips_the_steps() -> None:
    async def source(log: LogWriter) -> BinaryIO:
        raise RuntimeError("could not fetch refs/heads/nope")

    engine, reporter = FakeEngine(), RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(CLONED), workspace=source)
    assert report.status == Status.FAILURE
    assert reporter.text("clone") == ["could not fetch refs/heads/nope"]
    assert statuses(reporter)["build"] == Status.SKIPPED
    assert engine.alive() == []


async def test_containers_are_created_ahead_while_the_previous_step_runs() -> None:
    engine, _, _ = await run(SERIAL, {"one": Behaviour(duration=0.2)})
    created_two = next(t for t, verb, who in engine.events if verb == "create" and who == "two")
    assert created_two < engine.ended("one")


class VanishingEngine(FakeEngine):
    """An engine that dies while a step runs: waiting and destroying fail."""

    async def wait(self, handle: str) -> Exit:
        raise EngineError("lost the Docker engine while waiting: connection refused")

    async def destroy(self, stage: StageSpec) -> None:
        raise EngineError("could not remove the stage's containers, network and volumes: connection refused")


async def test_an_engine_that_dies_mid_step_ends_the_stage_in_error_without_raising() -> None:
    engine, reporter = VanishingEngine(), RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(SERIAL))
    assert report.status == Status.ERROR
    assert report.step("one").status == Status.ERROR
    assert report.step("one").error == "lost the Docker engine while waiting: connection refused"
    assert "could not remove the stage's containers" in report.error
    assert reporter.stage_history[-1] == Status.ERROR


async def test_failure_fast_stops_the_running_siblings() -> None:
    text = DAG.replace(
        "commands: [sleep 1]}\n  - {name: right", "commands: [sleep 1], failure: fast}\n  - {name: right"
    )
    behaviours = {"left": Behaviour(exit_code=1, duration=0.05), "right": Behaviour(duration=3600)}
    _, reporter, status = await run(text, behaviours)
    assert status == Status.FAILURE
    assert statuses(reporter) == {"left": Status.FAILURE, "right": Status.KILLED, "join": Status.SKIPPED}


class HangingEngine(FakeEngine):
    """An engine that accepts a stop but never reports the container's end."""

    async def stop(self, handle: str, grace: float) -> None:
        self._log("stop", self.containers[handle].spec.step.name)


async def test_a_step_the_engine_never_ends_cannot_hold_the_stage_forever() -> None:
    engine, reporter = HangingEngine({"one": Behaviour(duration=3600)}), RecordingReporter()
    options = StageOptions(timeout=0.1, grace=0, patience=0.2)
    report = await asyncio.wait_for(run_stage(engine, reporter, plan_of(SERIAL), options=options), 10)
    assert report.status == Status.KILLED
    assert report.step("one").status == Status.ERROR
    assert report.step("one").error == "the engine never reported how the step ended"
    assert report.step("two").status == Status.SKIPPED


async def test_a_secret_across_the_cut_of_a_very_long_line_is_still_masked() -> None:
    output = [b"a" * 65530, b"s3cr3t-value" + b"b" * 70000 + b"\n"]
    engine, reporter = FakeEngine({"leak": Behaviour(output=output)}), RecordingReporter()
    secrets = {"token": "s3cr3t-value", "key": "unused"}
    await run_stage(engine, reporter, plan_of(SECRETS), options=StageOptions(secrets=secrets))
    text = "".join(reporter.text("leak"))
    assert "s3cr3t" not in text
    assert text == "a" * 65530 + "******" + "b" * 70000


async def test_a_cancel_before_the_clone_has_begun_ends_the_stage_at_once() -> None:
    async def source(log: LogWriter) -> BinaryIO:
        await asyncio.sleep(3600)
        raise AssertionError

    cancel = asyncio.Event()
    cancel.set()
    engine, reporter = FakeEngine(), RecordingReporter()
    run = run_stage(engine, reporter, plan_of(CLONED), workspace=source, cancel=cancel)
    report = await asyncio.wait_for(run, 5)
    assert report.status == Status.KILLED
    assert {step.status for step in report.steps} <= {Status.SKIPPED, Status.KILLED}


async def test_error_messages_are_masked_like_log_lines() -> None:
    behaviours = {"leak": Behaviour(create_error="invalid environment variable: =s3cr3t-value")}
    engine, reporter = FakeEngine(behaviours), RecordingReporter()
    options = StageOptions(secrets={"token": "s3cr3t-value", "key": "k3y-value"})
    report = await run_stage(engine, reporter, plan_of(SECRETS), options=options)
    assert report.step("leak").error == "invalid environment variable: =******"
    assert reporter.text("leak") == ["invalid environment variable: =******"]


async def test_failure_fast_skips_a_sibling_that_had_not_started_yet() -> None:
    text = DAG.replace(
        "commands: [sleep 1]}\n  - {name: right", "commands: [sleep 1], failure: fast}\n  - {name: right"
    )
    behaviours = {"left": Behaviour(exit_code=1), "right": Behaviour(create_delay=0.3, duration=3600)}
    _, reporter, status = await run(text, behaviours, lookahead=0)
    assert status == Status.FAILURE
    assert statuses(reporter)["right"] == Status.SKIPPED


async def test_a_workspace_that_cannot_be_read_is_a_stage_error_not_a_crash() -> None:
    async def source(log: LogWriter) -> BinaryIO:
        raise PermissionError("permission denied: '/work/secret-folder'")

    engine, reporter = FakeEngine(), RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(SERIAL), workspace=source)
    assert report.status == Status.ERROR
    assert "permission denied" in report.error
    assert engine.alive() == []
