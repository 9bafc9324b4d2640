"""The generated step script really runs: each command is echoed, then run, and `set -e` stops on failure."""

from __future__ import annotations

import subprocess

from pipelines.script import shell_script


def _run(commands: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", shell_script(commands)], capture_output=True, text=True, check=False
    )


def test_commands_are_traced_and_run() -> None:
    result = _run(["echo hello", 'echo "it\'s $((1 + 2))"'])
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["+ echo hello", "hello", '+ echo "it\'s $((1 + 2))"', "it's 3"]


def test_set_e_stops_at_the_first_failure() -> None:
    result = _run(["echo one", "exit 3", "echo never"])
    assert result.returncode == 3
    assert "never" not in result.stdout


def test_multiline_command() -> None:
    result = _run(["if true; then\n  echo inside\nfi"])
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == "inside"
