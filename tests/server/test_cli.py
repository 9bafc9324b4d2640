"""`hangar --help` lists the server's commands without loading the web server (it took 2 s, now under 1)."""

from __future__ import annotations

import subprocess
import sys

LISTED = """
import sys
from click.testing import CliRunner
from pipelines.cli import main
result = CliRunner().invoke(main, ["--help"])
print(result.output)
print("loaded:", "server.serving" in sys.modules, "uvicorn" in sys.modules)
"""


def test_the_help_lists_up_server_and_worker_without_loading_them() -> None:
    shown = subprocess.run([sys.executable, "-c", LISTED], capture_output=True, text=True, check=True).stdout
    assert "Run Hangar here: SQLite, embedded Redis" in shown
    assert "Run the web server (webhooks" in shown
    assert "Run the job worker" in shown
    assert "loaded: False False" in shown


def test_up_help_shows_its_options() -> None:
    shown = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import main; main()", "up", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--data" in shown and "--no-runner" in shown and "--capacity" in shown
