"""After the whole test session, nothing the tests started may be left: no process, no temporary file.

Every process a test starts (`hangar up`, its embedded Redis, runners, git, Chromium…) inherits a session
token in its environment, and every temporary file made through `tempfile` (by the tests or by those
processes) goes to a folder of this session's own (pytest's `tmp_path` folders stay in its usual place, kept
only for failed tests). When the session ends, a process still carrying the token, or anything left in that
folder, fails the run; what was found is listed, then killed or removed, so the machine is clean either way.
Docker leftovers are checked by the `docker_host` fixture (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import pytest

SESSION_VARIABLE = "HANGAR_TEST_SESSION"
"""Names the environment variable that marks every process this test session started."""

GRACE_SECONDS = 10.0
"""How long processes that are stopping get to go before they count as leftovers."""

_state: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Mark this session's processes and send its temporary files to a folder of its own."""
    if hasattr(config, "workerinput"):  # pragma: no cover - xdist workers share the controller's marks
        return
    token = uuid.uuid4().hex
    folder = tempfile.mkdtemp(prefix="hangar-tests-")
    _state.update(token=token, folder=folder, tmpdir=os.environ.get("TMPDIR", ""))
    os.environ[SESSION_VARIABLE] = token
    # pytest's own tmp_path folders stay where they were, with its retention of the last 3 sessions' failures
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", tempfile.gettempdir())
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = None  # recomputed from TMPDIR on the next use


def outside_session_environment() -> dict[str, str]:
    """The environment for long-lived services started from a test: without this session's marks."""
    environment = {name: value for name, value in os.environ.items() if name != SESSION_VARIABLE}
    if _state.get("folder"):
        if _state["tmpdir"]:
            environment["TMPDIR"] = _state["tmpdir"]
        else:
            environment.pop("TMPDIR", None)
    return environment


def session_processes(token: str) -> dict[int, str]:
    """Live processes (not this one) whose environment carries the session token: pid → command line."""
    found: dict[int, str] = {}
    mark = f"{SESSION_VARIABLE}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if command:  # a zombie has no command line: it is gone, only not yet reaped
            found[int(entry.name)] = command
    return found


def left_in(folder: Path) -> list[str]:
    """What is left in the session's temporary folder, besides pytest's own `tmp_path` folders."""
    return sorted(
        str(path.relative_to(folder)) for path in folder.iterdir() if not path.name.startswith("pytest-of-")
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run on processes or temporary files the tests left, then clean them up."""
    if "token" not in _state:
        return
    deadline = time.monotonic() + GRACE_SECONDS
    while (processes := session_processes(_state["token"])) and time.monotonic() < deadline:
        time.sleep(0.2)
    folder = Path(_state["folder"])
    files = left_in(folder) if folder.is_dir() else []
    problems = [f"process {pid} still runs: {command[:200]}" for pid, command in sorted(processes.items())]
    problems += [f"temporary file or folder left: {tempfile.gettempdir()}/{name}" for name in files]
    for pid in processes:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for name in files:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "left behind by the tests", red=True)
            for problem in problems:
                reporter.write_line(problem)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
