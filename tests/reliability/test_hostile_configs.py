"""Hostile Jsonnet and Starlark files (endless recursion, a loop without end, exponential or 10 GB strings,
deep imports, import cycles, an import out of the repository) each end as an `error` build with a located
message, and the server's worker (evaluating in killed children) keeps the memory it had.

The times and memory are printed (`-s` shows them); nothing here asserts a duration."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Hangar, hangar_up
from tests.e2e.test_push_to_build import register
from tests.peers import RecordingForge
from tests.server.support import PushedRepo, github_headers, github_push

DEEP = {f"lib/d{i}.libsonnet": f"(import 'd{i + 1}.libsonnet') + {{ d{i}: {i} }}" for i in range(200)}
HOSTILE: dict[str, dict[str, str]] = {
    "starlark recursion": {
        ".drone.star": "def f(n):\n    return f(n + 1)\n\ndef main(ctx):\n    return f(0)\n"
    },
    "jsonnet recursion": {".drone.jsonnet": "local f(n) = f(n + 1) + 1;\nf(0)\n"},
    "starlark endless loop": {
        ".drone.star": "def main(ctx):\n    for i in range(100000):\n        for j in range(100000):\n"
        "            pass\n    return {}\n"
    },
    "jsonnet exponential string": {
        ".drone.jsonnet": "local s(n) = if n == 0 then 'xx' else s(n - 1) + s(n - 1);\n{ a: s(34) }\n"
    },
    "starlark 10 GB string": {
        ".drone.star": "def main(ctx):\n    s = 'x' * 2000000000\n    return {'a': s * 5}\n"
    },
    "jsonnet deep imports": {".drone.jsonnet": "import 'lib/d0.libsonnet'\n", **DEEP},
    "jsonnet import cycle": {
        ".drone.jsonnet": "import 'a.libsonnet'\n",
        "a.libsonnet": "(import 'b.libsonnet') + {}\n",
        "b.libsonnet": "(import 'a.libsonnet') + {}\n",
    },
    "starlark load cycle": {
        ".drone.star": "load('a.star', 'x')\ndef main(ctx):\n    return x\n",
        "a.star": "load('b.star', 'y')\nx = y\n",
        "b.star": "load('a.star', 'x')\ny = {}\n",
    },
    "jsonnet /etc/passwd": {
        ".drone.jsonnet": "{\n  kind: 'pipeline',\n  x: importstr '../../etc/passwd',\n}\n"
    },
    "starlark /etc/passwd": {".drone.star": "load('../../etc/passwd', 'x')\ndef main(ctx):\n    return x\n"},
}
GOOD = {
    ".drone.star": "def main(ctx):\n    return {'kind': 'pipeline', 'name': 'ok', "
    "'steps': [{'name': 's', 'image': 'busybox', 'commands': ['true']}]}\n"
}
LOCATED = re.compile(r"^[\w./-]+:\d+:\d+: error: \S")


@pytest.fixture
def hangar(tmp_path: Path, docker_host: str) -> Iterator[Hangar]:
    with hangar_up(tmp_path / "data") as running:
        yield running


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _clear(repo: PushedRepo) -> None:
    for path in list(repo.work.rglob("*")):
        if path.is_file() and ".git" not in path.parts:
            path.unlink()


def _build(
    hangar: Hangar, repo: PushedRepo, files: dict[str, str], number: int
) -> tuple[dict[str, Any], float]:
    _clear(repo)
    before, sha = repo.push(files, f"build {number}")
    body = github_push("octo", "app", before, sha, f"build {number}")
    started = time.monotonic()
    answer = httpx.post(f"{hangar.url}/hook", content=body, headers=github_headers(body), trust_env=False)
    assert answer.status_code == 202, answer.text
    build = hangar.wait_for_build("octo/app", number, timeout=120)
    return build, time.monotonic() - started


def test_hostile_files_end_as_located_error_builds_and_the_worker_keeps_its_memory(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    warm, _ = _build(hangar, repo, GOOD, 1)  # the first evaluation starts the fork server
    assert warm["status"] == "success", warm
    before = _rss_mib(hangar.process.pid)
    report = []
    for number, (name, files) in enumerate(HOSTILE.items(), start=2):
        build, seconds = _build(hangar, repo, files, number)
        report.append(f"{name:28} {seconds:5.1f} s  {build['error'][:110]}")
        assert build["status"] == "error", (name, build)
        assert LOCATED.match(build["error"]), (name, build["error"])
    after = _rss_mib(hangar.process.pid)
    print("\n" + "\n".join(report) + f"\nworker RSS: {before:.1f} MiB before, {after:.1f} MiB after")
    assert after < before + 16, f"the worker grew from {before:.1f} to {after:.1f} MiB"
    assert _build(hangar, repo, GOOD, len(HOSTILE) + 2)[0]["status"] == "success", "and it still builds"
