"""Drone's step script: `commands` become one POSIX shell script that echoes each command before it runs."""

from __future__ import annotations

import shlex

SHELL_ENTRYPOINT = ["/bin/sh", "-c"]


def shell_script(commands: list[str]) -> str:
    """`set -e`, then for each command a traced `+ command` line and the command itself."""
    lines = ["set -e"]
    for command in commands:
        lines.append(f"echo {shlex.quote('+ ' + command)}")
        lines.append(command)
    return "\n".join(lines) + "\n"
