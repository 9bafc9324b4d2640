"""Caches in a stage on the scripted engine: restored before the first step, saved after a success only."""

from __future__ import annotations

from pathlib import Path

from pipelines.runner_api import CachePolicy
from pipelines.status import Status
from runner.caches.setup import disk_setup
from runner.executor import StageOptions, run_stage
from runner.workspace import local_workspace
from tests.runner.fake_engine import Behaviour, FakeEngine
from tests.runner.support import RecordingReporter, plan_of

PIPELINE = """
kind: pipeline
name: default
{clone}
cache:
  - key: deps-{{{{ checksum "deps.lock" }}}}
    paths: [.deps]
steps:
  - {{name: build, image: python, commands: [make]}}
  - {{name: own, image: python, commands: [make], environment: {{PIP_CACHE_DIR: /mine}}}}
"""
STORED = {"/drone/src/.deps/lib.txt": b"built once", "/hangar/cache/pip/wheel.whl": b"downloaded once"}


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    (root / "deps.lock").write_text("lib==1\n")
    (root / "requirements.txt").write_text("lib==1\n")
    return root


async def _run(
    tmp_path: Path, *, exit_code: int = 0, save: bool = True, clone: bool = True
) -> tuple[FakeEngine, RecordingReporter, Status]:
    engine = FakeEngine({"build": Behaviour(stored=STORED, exit_code=exit_code)})
    reporter = RecordingReporter()
    policy = CachePolicy(scope="repo-1", branch="main", save=save)
    plan = plan_of(PIPELINE.format(clone="" if clone else "clone: {disable: true}"))
    options = StageOptions(cache=disk_setup(policy, tmp_path / "cache"))
    report = await run_stage(
        engine, reporter, plan, workspace=local_workspace(_workspace(tmp_path)), options=options
    )
    return engine, reporter, report.status


def _cache_lines(reporter: RecordingReporter, step: str = "clone") -> list[str]:
    return [line for line in reporter.text(step) if line.startswith("[cache]")]


async def test_the_second_run_restores_what_the_first_saved(tmp_path: Path) -> None:
    engine, reporter, status = await _run(tmp_path)
    assert status == Status.SUCCESS
    lines = _cache_lines(reporter)
    assert lines[:2] == ["[cache] no cache for deps-" + lines[0].split("deps-")[1], lines[1]]
    assert any(line.startswith("[cache] saved deps-") for line in lines), lines
    assert any(line.startswith("[cache] saved auto-pip-") for line in lines), lines

    engine, reporter, status = await _run(tmp_path)
    assert status == Status.SUCCESS
    lines = _cache_lines(reporter)
    assert any(line.startswith("[cache] restored deps-") for line in lines), lines
    assert any(line.startswith("[cache] restored auto-pip-") for line in lines), lines
    assert any("is already saved" in line for line in lines)
    assert engine.volumes["/drone/src/.deps/lib.txt"] == b"built once"
    assert engine.volumes["/hangar/cache/pip/wheel.whl"] == b"downloaded once"


async def test_steps_get_the_tools_variables_unless_they_set_them(tmp_path: Path) -> None:
    engine, _, _ = await _run(tmp_path)
    assert engine.environment("build")["PIP_CACHE_DIR"] == "/hangar/cache/pip"
    assert engine.environment("own")["PIP_CACHE_DIR"] == "/mine"


async def test_a_failing_stage_saves_nothing(tmp_path: Path) -> None:
    _, reporter, status = await _run(tmp_path, exit_code=1)
    assert status == Status.FAILURE
    assert not any("saved" in line for line in _cache_lines(reporter))
    assert not list((tmp_path / "cache").glob("*/*/*.entry"))


async def test_a_fork_restores_but_never_saves(tmp_path: Path) -> None:
    await _run(tmp_path)
    entries = sorted((tmp_path / "cache").glob("*/*/*.entry"))
    for entry in entries:
        entry.unlink()
        entry.with_suffix(".json").unlink()
    (tmp_path / "project" / "deps.lock").write_text("lib==2\n")
    _, reporter, status = await _run(tmp_path, save=False)
    assert status == Status.SUCCESS
    assert _cache_lines(reporter)[-1].startswith("[cache] cache not saved: a pull request from a fork")
    assert not list((tmp_path / "cache").glob("*/*/*.entry"))


async def test_a_fork_restores_what_its_target_saved(tmp_path: Path) -> None:
    await _run(tmp_path)
    engine, reporter, _ = await _run(tmp_path, save=False)
    assert any(line.startswith("[cache] restored deps-") for line in _cache_lines(reporter))
    assert engine.volumes["/drone/src/.deps/lib.txt"] == b"built once"


async def test_a_corrupt_entry_is_ignored_with_a_note_and_the_build_passes(tmp_path: Path) -> None:
    await _run(tmp_path)
    for entry in (tmp_path / "cache").glob("*/*/*.entry"):
        entry.write_bytes(b"HANGAR-CACHE 1\nflipped bits")
    _, reporter, status = await _run(tmp_path)
    assert status == Status.SUCCESS
    lines = _cache_lines(reporter)
    assert sum("ignored a corrupt entry" in line for line in lines) == 2, lines
    assert any(line.startswith("[cache] saved deps-") for line in lines), "saved afresh"


async def test_without_a_clone_step_the_lines_open_the_first_steps_log(tmp_path: Path) -> None:
    await _run(tmp_path, clone=False)
    _, reporter, _ = await _run(tmp_path, clone=False)
    assert reporter.text("build")[0].startswith("[cache] restored deps-")
    assert any(line.startswith("[cache] restored auto-pip-") for line in reporter.text("build"))
