"""Benchmark: a cache save and restore of 200 MB of small files against `tar` of the same folder.

Run: `.venv/bin/python bench/caches.py [--rounds N] [--files N] [--size BYTES]` (starts the test services if
needed). 20,000 files of 10 KB (random bytes) sit in a stage's workspace volume under `.cache/data`.
Hangar's save (the stage's caches code: the engine's archive API through a placeholder container, streamed
into the disk store with its SHA-256) and restore (into a fresh stage's volume) are alternated round by round
with the same copies done by `tar` in a `docker run` (`tar cf - ... > file` out of the volume,
`tar xf - < file` into a fresh volume), and, for reference, `tar cf` / `tar xf` of the folder on the host.
Medians and the ratios Hangar / docker-run tar are printed (goal <= 1.0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.runner_api import CachePolicy  # noqa: E402
from runner.archive import pack  # noqa: E402
from runner.caches.setup import disk_setup  # noqa: E402
from runner.caches.stage import StageCaches  # noqa: E402
from runner.docker import DockerEngine  # noqa: E402
from runner.docker.config import workspace_volume  # noqa: E402
from runner.engine import StageSpec  # noqa: E402
from tests.conftest import running_services  # noqa: E402
from tests.runner.support import plan_of  # noqa: E402

PIPELINE = """
kind: pipeline
name: bench
clone: {disable: true}
cache:
  - key: bench-{{ checksum "marker" }}
    paths: [.cache/data]
steps:
  - {name: noop, image: busybox, commands: ["true"]}
"""
LABEL = {"io.hangar.owner": "bench-caches"}


def make_files(folder: Path, count: int, size: int) -> None:
    """count files of size random bytes, 100 to a folder."""
    for index in range(count):
        sub = folder / f"d{index // 100:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{index:06d}").write_bytes(os.urandom(size))


async def _log(text: str) -> None:
    print(f"    {text}")


class Bench:
    """One engine, one source stage filled with the files, a fresh stage per restore."""

    def __init__(self, engine: DockerEngine, scratch: Path) -> None:
        self.engine = engine
        self.scratch = scratch
        self.plan = plan_of(PIPELINE)

    async def stage(self) -> StageSpec:
        spec = StageSpec(f"bench-{uuid.uuid4().hex[:8]}", self.plan, LABEL, cache_volume=True)
        await self.engine.setup(spec)
        return spec

    def caches(self, round_number: int) -> StageCaches:
        policy = CachePolicy(scope=f"bench-{round_number}", branch="main", auto=False)
        return StageCaches(disk_setup(policy, self.scratch / "store"), self.plan)

    async def hangar_save(self, source: StageSpec, round_number: int) -> float:
        caches = self.caches(round_number)
        await caches.scan(None)
        started = time.perf_counter()
        await caches.save(self.engine, source, _log)
        return time.perf_counter() - started

    async def hangar_restore(self, round_number: int) -> float:
        target = await self.stage()
        try:
            caches = self.caches(round_number)
            await caches.scan(None)
            started = time.perf_counter()
            await caches.restore(self.engine, target, _log)
            elapsed = time.perf_counter() - started
            await self._check(target)
            return elapsed
        finally:
            await self.engine.destroy(target)

    async def tar_save(self, source: StageSpec, out: Path) -> float:
        started = time.perf_counter()
        with out.open("wb") as archive:
            in_volume(source, "tar cf - -C /drone/src/.cache data", stdout=archive)
        return time.perf_counter() - started

    async def tar_restore(self, archive: Path) -> float:
        target = await self.stage()
        try:
            started = time.perf_counter()
            with archive.open("rb") as data:
                in_volume(target, "mkdir -p /drone/src/.cache && tar xf - -C /drone/src/.cache", stdin=data)
            elapsed = time.perf_counter() - started
            await self._check(target)
            return elapsed
        finally:
            await self.engine.destroy(target)

    async def _check(self, target: StageSpec) -> None:
        count = in_volume(target, "find /drone/src/.cache/data -type f | wc -l", capture_output=True).stdout
        if int(count) != self.expected:
            raise RuntimeError(f"restored {count.decode().strip()} files, expected {self.expected}")

    expected = 0


def in_volume(stage: StageSpec, script: str, **streams: Any) -> subprocess.CompletedProcess[bytes]:
    """`docker run` of a busybox shell script with the stage's workspace volume at /drone/src."""
    volume = f"{workspace_volume(stage)}:/drone/src"
    command = ["docker", "run", "--rm", "-i", "-v", volume, "busybox", "sh", "-c", script]
    return subprocess.run(command, check=True, **streams)


def host_tar(folder: Path, scratch: Path) -> tuple[float, float]:
    """Plain `tar cf` and `tar xf` of the folder on the host (no Docker)."""
    archive = scratch / "host.tar"
    started = time.perf_counter()
    subprocess.run(["tar", "cf", str(archive), "-C", str(folder.parent), folder.name], check=True)
    save = time.perf_counter() - started
    target = scratch / "host-restore"
    target.mkdir()
    started = time.perf_counter()
    subprocess.run(["tar", "xf", str(archive), "-C", str(target)], check=True)
    restore = time.perf_counter() - started
    shutil.rmtree(target)
    archive.unlink()
    return save, restore


async def measure(rounds: int, count: int, size: int) -> None:
    """Every copy, round by round; then medians and ratios."""
    print(f"docker engine: {os.environ['DOCKER_HOST']}")
    print(f"{count} files of {size} bytes ({count * size / 1e6:.0f} MB)")
    with tempfile.TemporaryDirectory(prefix="hangar-bench-caches-") as folder:
        scratch = Path(folder)
        data = scratch / "workspace" / ".cache" / "data"
        make_files(data, count, size)
        async with await DockerEngine.connect() as engine:
            bench = Bench(engine, scratch)
            bench.expected = count
            source = await bench.stage()
            try:
                with pack(scratch / "workspace") as archive:
                    await engine.fill_workspace(source, archive)
                names = (
                    "hangar save",
                    "hangar restore",
                    "tar save",
                    "tar restore",
                    "host tar cf",
                    "host tar xf",
                )
                times: dict[str, list[float]] = {name: [] for name in names}
                for number in range(rounds):
                    times["hangar save"].append(await bench.hangar_save(source, number))
                    times["hangar restore"].append(await bench.hangar_restore(number))
                    docker_tar = scratch / "docker.tar"
                    times["tar save"].append(await bench.tar_save(source, docker_tar))
                    times["tar restore"].append(await bench.tar_restore(docker_tar))
                    docker_tar.unlink()
                    host_save, host_restore = host_tar(data, scratch)
                    times["host tar cf"].append(host_save)
                    times["host tar xf"].append(host_restore)
                    shutil.rmtree(scratch / "store", ignore_errors=True)
                    print(f"round {number + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()))
            finally:
                await engine.destroy(source)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for action in ("save", "restore"):
        hangar, tar = medians[f"hangar {action}"], medians[f"tar {action}"]
        host = medians["host tar cf" if action == "save" else "host tar xf"]
        print(
            f"{action}: hangar median {hangar:.2f}s, tar in docker run {tar:.2f}s: ratio {hangar / tar:.2f} "
            f"(goal <= 1.0); plain tar on the host {host:.2f}s: ratio {hangar / host:.2f}"
        )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=10_000)
    args = parser.parse_args()
    with running_services():
        asyncio.run(measure(args.rounds, args.files, args.size))


if __name__ == "__main__":
    main()
