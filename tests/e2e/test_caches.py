"""Acceptance: `hangar exec` of examples/python-app twice against a local package index; the second build
restores the automatic pip cache and pip downloads no wheel (the example's file has no `cache:` section)."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.processes import HANGAR, free_port

pytestmark = pytest.mark.usefixtures("docker_host")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python-app"


def _requirement() -> tuple[str, str]:
    """The example's one dependency: (name, version)."""
    text = (EXAMPLE / "requirements.txt").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    name, version = lines[0].split("==")
    return name, version


def build_wheel(folder: Path, name: str, version: str) -> Path:
    """A tiny pure-Python wheel of that name and version, made here (no network, no build backend)."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'"""A stand-in for {name}, served by the test\'s package index."""\n',
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hangar-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


_SERVER = """
import functools, http.server, sys

class Files(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        if self.path.endswith(".whl"):
            self.send_header("Cache-Control", "max-age=365000000, immutable, public")
        super().end_headers()

handler = functools.partial(Files, directory=sys.argv[2])
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), handler).serve_forever()
"""


def _bridge_gateway() -> str:
    """The host's address on Docker's default bridge: where containers reach a server on the host."""
    inspect = ["docker", "network", "inspect", "bridge", "-f", "{{(index .IPAM.Config 0).Gateway}}"]
    return subprocess.run(inspect, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def package_index(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A folder of wheels as a simple index, served by Python's http.server: its URL and access log.

    Files get PyPI's `Cache-Control` header (without one pip keeps no copy of a download, on any CI)."""
    name, version = _requirement()
    root = tmp_path / "index"
    project = root / "simple" / name
    project.mkdir(parents=True)
    wheel = build_wheel(project, name, version)
    (project / "index.html").write_text(f'<html><body><a href="{wheel.name}">{wheel.name}</a></body></html>')
    port = free_port()
    log = tmp_path / "access.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(port), str(root)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://{_bridge_gateway()}:{port}/simple", log
    finally:
        server.terminate()
        server.wait(10)


def _hangar_exec(folder: Path, index_url: str, cache_home: Path) -> tuple[str, float]:
    host = urlsplit(index_url).hostname or ""
    command = [*HANGAR, "exec", "--env", f"PIP_INDEX_URL={index_url}", "--env", f"PIP_TRUSTED_HOST={host}"]
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=folder,
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output, time.monotonic() - started


def test_the_second_build_installs_from_the_restored_pip_cache(
    tmp_path: Path, package_index: tuple[str, Path]
) -> None:
    index_url, access_log = package_index
    project = tmp_path / "python-app"
    shutil.copytree(EXAMPLE, project)
    assert "cache:" not in (project / ".ci.yml").read_text()
    name, version = _requirement()
    wheel = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"

    first, first_time = _hangar_exec(project, index_url, tmp_path / "cache")
    assert "[cache] no cache for auto-pip-" in first, first
    assert "[cache] saved auto-pip-" in first, first
    assert f"Successfully installed {name}-{version}" in first, first
    fetched_first = access_log.read_text().count(f"GET /simple/{name}/{wheel}")
    assert fetched_first == 1, access_log.read_text()

    second, second_time = _hangar_exec(project, index_url, tmp_path / "cache")
    assert "[cache] restored auto-pip-" in second, second
    assert f"Successfully installed {name}-{version}" in second, second
    assert access_log.read_text().count(f"GET /simple/{name}/{wheel}") == fetched_first, (
        "the second build fetched the wheel again:\n" + access_log.read_text()
    )
    print(f"\nfirst build {first_time:.1f} s, second build (cache restored) {second_time:.1f} s")
    for line in [*first.splitlines(), *second.splitlines()]:
        if "[cache]" in line:
            print(line)


def test_no_cache_leaves_the_cache_alone(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("tiny==1.0\n")
    (project / ".ci.yml").write_text(
        "kind: pipeline\nname: default\nsteps:\n"
        '  - {name: show, image: busybox, commands: ["echo PIP_CACHE_DIR=$${PIP_CACHE_DIR:-unset}"]}\n'
    )
    done = subprocess.run(
        [*HANGAR, "exec", "--no-cache"],
        cwd=project,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PIP_CACHE_DIR=unset" in done.stdout and "[cache]" not in done.stdout
    assert not (tmp_path / "cache" / "hangar" / "exec").exists()
