"""`hangar exec` as a user runs it: the real command, a real engine, Ctrl-C and kill -9 included."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("docker_host")

HANGAR = str(Path(sys.executable).parent / "hangar")

PIPELINE = """
kind: pipeline
name: build
steps:
  - name: hello
    image: busybox
    environment:
      TOKEN: {from_secret: token}
    commands:
      - ls
      - echo "token=$TOKEN mode=$MODE branch=$DRONE_BRANCH"
---
kind: pipeline
name: broken
steps:
  - {name: fail, image: busybox, commands: ["echo about to fail", "exit 4"]}
"""

LONG = """
kind: pipeline
name: long
steps:
  - {name: wait, image: busybox, commands: ["echo started", "sleep 300"]}
"""


def project(tmp_path: Path, text: str) -> Path:
    """A git work tree with a pipeline, a committed file and an ignored one."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / ".ci.yml").write_text(text)
    (tmp_path / "committed.txt").write_text("hello\n")
    (tmp_path / ".gitignore").write_text("ignored.txt\n")
    (tmp_path / "ignored.txt").write_text("secret build output\n")
    subprocess.run(["git", "init", "-q", "-b", "feature", str(tmp_path)], check=True)
    return tmp_path


def hangar(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HANGAR, "exec", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def containers_of(pid: int) -> list[str]:
    owner = f"label=io.hangar.owner={socket.gethostname()}:{pid}"
    listing = subprocess.run(
        ["docker", "ps", "-aq", "--filter", owner], capture_output=True, text=True, check=True
    )
    return listing.stdout.split()


def networks_of(pid: int) -> list[str]:
    owner = f"label=io.hangar.owner={socket.gethostname()}:{pid}"
    listing = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", owner], capture_output=True, text=True, check=True
    )
    return listing.stdout.split()


def leftovers_of(pid: int) -> dict[str, list[str]]:
    """The containers, networks and volumes (anonymous ones included) the exec process left, by kind."""
    owner = f"label=io.hangar.owner={socket.gethostname()}:{pid}"
    listings = {
        "containers": ["docker", "ps", "-aq", "--filter", owner],
        "networks": ["docker", "network", "ls", "-q", "--filter", owner],
        "volumes": ["docker", "volume", "ls", "-q", "--filter", owner],
    }
    found = {
        kind: subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
        for kind, command in listings.items()
    }
    return {kind: names for kind, names in found.items() if names}


@pytest.mark.parametrize(("pipeline", "code"), [("build", 0), ("broken", 1)])
def test_exec_has_removed_all_it_created_when_it_exits(tmp_path: Path, pipeline: str, code: int) -> None:
    process = subprocess.Popen(
        [HANGAR, "exec", "--pipeline", pipeline, "--secret", "token=x"],
        cwd=project(tmp_path, PIPELINE),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.wait(timeout=120) == code
    assert leftovers_of(process.pid) == {}


def test_exec_runs_a_pipeline_with_this_folder_as_workspace(tmp_path: Path) -> None:
    folder = project(tmp_path, PIPELINE)
    result = hangar(folder, "--pipeline", "build", "--secret", "token=abcdef123", "--env", "MODE=local")
    assert result.returncode == 0, result.stderr
    assert "[hello] committed.txt" in result.stdout
    assert "ignored.txt" not in result.stdout
    assert "[hello] token=****** mode=local branch=feature" in result.stdout
    assert "✓ hello  success" in result.stderr
    assert "✓ build  success" in result.stderr


def test_exec_exits_non_zero_when_a_pipeline_fails(tmp_path: Path) -> None:
    result = hangar(project(tmp_path, PIPELINE), "--pipeline", "broken")
    assert result.returncode == 1
    assert "[fail] about to fail" in result.stdout
    assert "✗ fail  failure" in result.stderr
    assert "exit code 4" in result.stderr


def test_exec_reports_a_broken_file_with_its_line(tmp_path: Path) -> None:
    folder = project(
        tmp_path, "kind: pipeline\nsteps:\n  - name: x\n    image: busybox\n    commands: {a: b}\n"
    )
    result = hangar(folder)
    assert result.returncode == 2
    assert ".ci.yml:5:" in result.stderr


def test_exec_names_the_pipelines_when_asked_for_an_unknown_one(tmp_path: Path) -> None:
    result = hangar(project(tmp_path, PIPELINE), "--pipeline", "nope")
    assert result.returncode == 2
    assert "pipelines: build, broken" in result.stderr


def start_long_exec(folder: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [HANGAR, "exec"], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "[wait] started" in line:
            return process
    pytest.fail(f"the step never started: {process.communicate()}")


def test_ctrl_c_stops_the_pipeline_and_leaves_nothing_behind(tmp_path: Path) -> None:
    process = start_long_exec(project(tmp_path, LONG))
    assert containers_of(process.pid)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "✗ wait  killed" in stderr
    assert containers_of(process.pid) == []


def test_a_killed_exec_leaves_containers_that_the_next_run_removes(tmp_path: Path) -> None:
    folder = project(tmp_path, LONG)
    process = start_long_exec(folder)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert containers_of(process.pid), "kill -9 gives the process no chance to clean up"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the pid must really be gone before it counts as dead
        try:
            os.kill(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    result = hangar(project(tmp_path / "other", PIPELINE), "--pipeline", "build")
    assert result.returncode == 0, result.stderr
    assert "removed 1 stage(s) left by crashed runs" in result.stderr
    assert containers_of(process.pid) == []


STAGES = """
kind: pipeline
name: second
depends_on: [first]
steps: [{name: s, image: busybox, commands: ["echo second ran"]}]
---
kind: pipeline
name: first
steps: [{name: f, image: busybox, commands: ["echo first ran", "exit 1"]}]
---
kind: pipeline
name: cleanup
depends_on: [first]
trigger: {status: [failure]}
steps: [{name: c, image: busybox, commands: ["echo cleaning after first"]}]
"""


def test_exec_runs_pipelines_after_their_dependencies_and_by_their_trigger_status(tmp_path: Path) -> None:
    result = hangar(project(tmp_path, STAGES))
    assert result.returncode == 1
    assert "[f] first ran" in result.stdout
    assert "second ran" not in result.stdout
    assert "[c] cleaning after first" in result.stdout
    assert "- second  skipped" in result.stderr


STUBBORN = """
kind: pipeline
name: long
steps:
  - {name: wait, image: busybox, commands: ["trap '' TERM", "echo started", "sleep 300"]}
"""


def test_a_second_ctrl_c_kills_at_once_and_still_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    process = start_long_exec(
        project(tmp_path / "a", STUBBORN.replace("echo started", "echo '[wait] started'"))
    )
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "killed: every container, network and volume of the run was removed" in stderr
    assert "Traceback" not in stderr
    assert containers_of(process.pid) == []


def test_exec_runs_a_drone_jsonnet_with_the_work_trees_branch(tmp_path: Path) -> None:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / ".drone.jsonnet").write_text(
        "local branch = std.extVar('build.branch');\n"
        "{kind: 'pipeline', name: 'j', steps: [{name: 'say', image: 'busybox',\n"
        "  commands: ['echo built ' + branch]}]}\n"
    )
    subprocess.run(["git", "init", "-q", "-b", "feature", str(tmp_path)], check=True)
    result = hangar(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[say] built feature" in result.stdout


def test_exec_runs_a_woodpecker_folder_a_matrix_as_its_combinations(tmp_path: Path) -> None:
    folder = tmp_path / "wp"
    (folder / ".woodpecker").mkdir(parents=True)
    (folder / ".woodpecker" / "build.yaml").write_text(
        "matrix:\n  NAME: [ada, bob]\nsteps:\n  - name: say\n    image: busybox\n"
        "    commands: ['echo hello ${NAME} on $CI_COMMIT_BRANCH']\n"
    )
    (folder / ".woodpecker" / "after.yaml").write_text(
        "depends_on: [build]\nsteps:\n  done:\n    image: busybox\n    commands: [echo done]\n"
    )
    subprocess.run(["git", "init", "-q", "-b", "feature", str(folder)], check=True)
    result = hangar(folder)
    assert result.returncode == 0, result.stderr
    assert "[say] hello ada on feature" in result.stdout
    assert "[say] hello bob on feature" in result.stdout
    assert result.stdout.index("[done] done") > max(
        result.stdout.index("hello ada"), result.stdout.index("hello bob")
    )


CLOSED_EARLY = """
kind: pipeline
name: closed
steps:
  - {name: loud, image: busybox, commands: ["seq 1 200000"]}
  - {name: after, image: busybox, commands: ["echo after", "exit $AFTER_STATUS"]}
"""
"""More output than a pipe holds: the first step is still writing when the reader goes away."""


def exec_read_once(tmp_path: Path, after_status: int, stderr: int) -> subprocess.Popen[str]:
    """`hangar exec` of CLOSED_EARLY whose reader takes its first line and goes away (as `| head -1` does)."""
    process = subprocess.Popen(
        [HANGAR, "exec", "--env", f"AFTER_STATUS={after_status}"],
        cwd=project(tmp_path, CLOSED_EARLY),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("[clone] ") or stderr == subprocess.STDOUT, first
    process.stdout.close()
    return process


def test_exec_whose_reader_goes_away_runs_on_quietly_and_leaves_nothing_behind(tmp_path: Path) -> None:
    process = exec_read_once(tmp_path, 0, subprocess.PIPE)  # `hangar exec | head -1`
    assert process.stderr is not None
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr
    assert "✓ loud  success" in stderr
    assert "✓ after  success" in stderr
    assert "✓ closed  success" in stderr
    assert containers_of(process.pid) == []
    assert networks_of(process.pid) == []


def test_exec_whose_output_and_errors_go_nowhere_exits_with_the_pipelines_status(tmp_path: Path) -> None:
    process = exec_read_once(tmp_path, 3, subprocess.STDOUT)  # `hangar exec 2>&1 | head -1`
    assert process.wait(timeout=120) == 1
    assert containers_of(process.pid) == []
    assert networks_of(process.pid) == []


_IMPORTS_SEEN = """
import atexit, sys
from pathlib import Path

seen = Path(sys.argv[1])

def record() -> None:
    seen.write_text("\\n".join(sorted(sys.modules)))

atexit.register(record)
sys.argv = ["hangar", "exec", "--pipeline", "build", "--secret", "token=x"]
from pipelines.cli import main
main()
"""


def test_exec_loads_none_of_the_server_s_modules_nor_its_libraries(tmp_path: Path) -> None:
    """The server's modules pull in databases, web frameworks and templates: exec has no use for them."""
    seen = tmp_path / "modules.txt"
    folder = project(tmp_path / "project", PIPELINE)
    run = [sys.executable, "-c", _IMPORTS_SEEN, str(seen)]
    result = subprocess.run(run, cwd=folder, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    loaded = {name.partition(".")[0] for name in seen.read_text().split()}
    assert "runner" in loaded
    unwanted = {"server", "webui", "sqlmodel", "sqlalchemy", "starlette", "uvicorn", "jinja2", "arq", "redis"}
    assert loaded & unwanted == set()
