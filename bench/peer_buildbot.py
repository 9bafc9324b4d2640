"""The Buildbot peer, measured in the same run as Hangar through the third-party scripts in the shared folder.

The scripts stay outside the repository, in `peers/buildbot/` of the shared folder (`$HANGAR_SHARED`, else
`../shared` beside the checkout): `run.sh` starts a master and N local workers (in the peer's own venv,
/tmp/peer-venv, installed from PyPI when missing), whose one builder runs `docker run --rm busybox sh -c
'echo hi'` on our engine, triggered by Buildbot's change hook; `measure.py` posts hooks and prints a
`JSON {...}` line. Each Buildbot here has its own folder and ports, and is always stopped, leaving no process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.interrupts import ignoring_interrupts, stopped_at_exit
from bench.server_support import console, percentile
from tests.corpus import shared_dir

VENV = Path("/tmp/peer-venv")
DEFAULT_IMAGE = "127.0.0.1:5000/library/busybox:latest"


class PeerUnavailable(Exception):
    """Buildbot cannot be measured here (no peers folder, no venv, no image, it failed); says why."""


def buildbot_dir() -> Path:
    """The Buildbot peer's scripts: `$HANGAR_SHARED/peers/buildbot`, else `../shared/peers/buildbot`."""
    return shared_dir() / "peers" / "buildbot"


def missing_reason() -> str | None:
    """Why Buildbot cannot be measured (naming where we looked), or None."""
    folder = buildbot_dir()
    absent = [name for name in ("run.sh", "measure.py", "master.cfg") if not (folder / name).is_file()]
    if absent:
        return f"no {', '.join(absent)} in {folder} (set HANGAR_SHARED to the folder holding peers/)"
    return None


def not_measured(reason: str) -> None:
    """Print the one line saying Buildbot was not measured, and why."""
    console.print(f"Buildbot was not measured: {reason}", soft_wrap=True)


@dataclass(frozen=True)
class Latency:
    """Buildbot, one build at a time: hook POST → build complete (seen by a 20 ms poll), seconds."""

    samples: tuple[float, ...]
    master_cpu_per_build: float

    @property
    def p50(self) -> float:
        """The median hook → complete seconds."""
        return percentile(self.samples, 0.5)

    @property
    def p95(self) -> float:
        """The 95th percentile of hook → complete seconds."""
        return percentile(self.samples, 0.95)


@dataclass(frozen=True)
class Burst:
    """Buildbot, hooks all posted at once: first POST → every build complete, and its processes' CPU."""

    hooks: int
    workers: int
    seconds: float
    master_cpu_per_build: float
    workers_cpu_per_build: float


def json_result(output: str) -> dict[str, Any]:
    """The object on measure.py's last `JSON {...}` line."""
    lines = [line for line in output.splitlines() if line.startswith("JSON ")]
    if not lines:
        raise PeerUnavailable(f"measure.py printed no JSON line: {output[-500:]!r}")
    try:
        result: dict[str, Any] = json.loads(lines[-1].removeprefix("JSON "))
    except ValueError as error:
        raise PeerUnavailable(f"measure.py printed a bad JSON line: {lines[-1][:500]!r}") from error
    return result


def one_latency(result: dict[str, Any]) -> tuple[float, float]:
    """Of a latency run of one build (--n 1): its hook → complete seconds, and the master's CPU-s for it."""
    complete = result["post_to_build_complete"]
    if int(complete["n"]) != 1:
        raise PeerUnavailable(f"expected one build, measure.py counted {complete['n']}")
    return float(complete["median_s"]), float(result["latency_cpu_per_build_s"]["master"])


def burst_figures(result: dict[str, Any], workers: int) -> Burst:
    """A Burst from a burst-only run (the median of its repetitions' wall times, CPU over all of them)."""
    hooks, reps = int(result["burst"]), len(result["burst_cpu"])
    builds = hooks * reps
    return Burst(
        hooks=hooks,
        workers=workers,
        seconds=float(result["burst_all_complete"]["median_s"]),
        master_cpu_per_build=sum(float(rep["master_cpu_s"]) for rep in result["burst_cpu"]) / builds,
        workers_cpu_per_build=sum(float(rep["workers_cpu_s"]) for rep in result["burst_cpu"]) / builds,
    )


@dataclass
class Buildbot:
    """A running Buildbot master with its workers, in `folder`, answering hooks at `www`."""

    folder: Path
    www: str
    workers: int
    environment: dict[str, str]

    def measure(self, *args: str) -> dict[str, Any]:
        """Run measure.py with `args` against this Buildbot; the object of its JSON line."""
        command = [str(VENV / "bin/python"), str(buildbot_dir() / "measure.py"), "--www", self.www]
        command += ["--bb-dir", str(self.folder), "--label", f"workers={self.workers}", *args]
        done = subprocess.run(command, capture_output=True, text=True, env=self.environment, check=False)
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1:] or ["no error output"]
            raise PeerUnavailable(f"measure.py failed ({done.returncode}): {last[0][:500]}")
        return json_result(done.stdout)

    def one_build(self) -> tuple[float, float]:
        """One counted build after one warm-up build: (hook → complete seconds, master CPU-s of it).

        Tried twice: under load measure.py's client sometimes fails to read an answer (a gzip error); the
        next try's warm-up build waits for whatever the failed one left running.
        """
        try:
            result = self.measure("--n", "1", "--skip-burst")
        except PeerUnavailable as error:
            console.print(f"[dim]Buildbot: {error}; trying again[/]", soft_wrap=True)
            result = self.measure("--n", "1", "--skip-burst")
        with unexpected(result):
            return one_latency(result)

    def burst(self, hooks: int, reps: int = 1) -> Burst:
        """`hooks` hooks posted at once, `reps` times (after one warm-up build)."""
        result = self.measure("--skip-latency", "--burst", str(hooks), "--reps", str(reps))
        with unexpected(result):
            return burst_figures(result, self.workers)


@contextlib.contextmanager
def unexpected(result: dict[str, Any]) -> Iterator[None]:
    """Within the block, a missing or odd field of measure.py's result is PeerUnavailable."""
    try:
        yield
    except (KeyError, ValueError, TypeError, ZeroDivisionError) as error:
        raise PeerUnavailable(f"odd measure.py result ({error!r}): {json.dumps(result)[:500]}") from error


@contextlib.contextmanager
def optional_buildbot(workers: int, wanted: bool = True) -> Iterator[Buildbot | None]:
    """A running Buildbot (as running_buildbot), or None, having printed why it will not be measured."""
    if not wanted:
        not_measured("--no-peer")
        yield None
        return
    with contextlib.ExitStack() as stack:
        try:
            with console.status(f"starting Buildbot ({workers} worker{'s' if workers > 1 else ''})…"):
                buildbot: Buildbot | None = stack.enter_context(running_buildbot(workers))
        except PeerUnavailable as error:
            not_measured(str(error))
            buildbot = None
        yield buildbot


@contextlib.contextmanager
def running_buildbot(workers: int) -> Iterator[Buildbot]:
    """A fresh Buildbot master and `workers` workers (one build each) on our engine; stopped at the end."""
    reason = missing_reason()
    if reason:
        raise PeerUnavailable(reason)
    install_venv()
    image = os.environ.get("BB_IMAGE", DEFAULT_IMAGE)
    check_image(image)
    with tempfile.TemporaryDirectory(prefix="hangar-bench-buildbot-") as temporary, stopped_at_exit():
        folder, www_port = Path(temporary).resolve() / "bb", free_port()
        environment = {
            **os.environ,
            "VENV": str(VENV),
            "BB_DIR": str(folder),
            "OUTDIR": f"{temporary}/out",
            "BB_PB_PORT": str(free_port()),
            "BB_WWW_PORT": str(www_port),
            "BB_DOCKER_HOST": os.environ["DOCKER_HOST"],
            "BB_IMAGE": image,
        }
        environment.pop("BB_STEP_CMD", None)  # always the docker step
        buildbot = Buildbot(folder, f"http://127.0.0.1:{www_port}", workers, environment)
        try:
            run_script(environment, "start", "1", str(workers))
            yield buildbot
        finally:
            with ignoring_interrupts():
                stop(buildbot)


def run_script(environment: dict[str, str], *args: str) -> None:
    """`bash run.sh ARGS…`; PeerUnavailable with its output (and the master's log's end) if it fails."""
    script = subprocess.Popen(
        ["bash", str(buildbot_dir() / "run.sh"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,  # its own group: a Ctrl-C reaches us only, and we end the whole script
    )
    try:
        _, errors = script.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script.pid, signal.SIGKILL)  # what it ran too (the daemons have their own sessions)
        script.wait()
        raise
    if script.returncode != 0:
        log = Path(environment.get("BB_DIR", "/nonexistent")) / "master" / "twistd.log"
        tail = log.read_text(errors="replace")[-1500:] if log.is_file() else ""
        raise PeerUnavailable(f"run.sh {args[0]} failed ({script.returncode}): {errors[-800:]}{tail}")


def stop(buildbot: Buildbot) -> None:
    """Stop the master and workers with run.sh, then end (by pid) any process still working in its folder."""
    with contextlib.suppress(Exception):
        run_script(buildbot.environment, "stop")
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        left = processes_in(buildbot.folder)
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while processes_in(buildbot.folder) and time.monotonic() < deadline:
            time.sleep(0.1)


def processes_in(folder: Path) -> list[int]:
    """Pids of the processes whose working directory is in `folder` (the master and workers chdir there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "cwd").resolve().is_relative_to(folder):
                    found.append(int(entry.name))
    return found


def install_venv() -> None:
    """Install the peer's venv with `run.sh install` when missing (needs PyPI), one installer at a time."""
    with open(f"{VENV}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (VENV / "bin/buildbot").is_file() and (VENV / "bin/buildbot-worker").is_file():
            return
        run_script({**os.environ, "VENV": str(VENV)}, "install")


def check_image(image: str) -> None:
    """Make sure the step's image is on the engine (pulling it from the registry that seeds it)."""
    inspect = ["docker", "image", "inspect", "-f", "{{.Id}}", image]
    if subprocess.run(inspect, capture_output=True, check=False).returncode == 0:
        return
    if subprocess.run(["docker", "pull", "-q", image], capture_output=True, check=False).returncode != 0:
        raise PeerUnavailable(
            f"image {image} is neither on the engine nor pullable (run scripts/seed-images)"
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
