"""Acceptance: `hangar exec` of examples/python-app twice against a local package index; the second build
restores the automatic pip cache and pip downloads no wheel (the example's file has no `cache:` section)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.package_index import EXAMPLE, requirement
from tests.e2e.processes import HANGAR

pytestmark = pytest.mark.usefixtures("docker_host")


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
    name, version = requirement()
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
