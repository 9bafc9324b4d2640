"""The packages' layering (DESIGN.md): the import contracts in pyproject.toml hold and catch a breach."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("pipelines", "runner", "server", "webui")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with this project's contracts over the packages found from `cwd`."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_packages_keep_their_layering() -> None:
    result = _lint_imports(ROOT)
    breach = f"an import breaks the layering of DESIGN.md:\n{result.stdout}{result.stderr}"
    assert result.returncode == 0, breach
    assert "0 broken" in result.stdout


def _stand_in(tmp_path: Path, modules: dict[str, str]) -> Path:
    """A tree with the four packages (empty) and the given modules' source, e.g. {"pipelines.plan": "..."}."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for name, source in modules.items():
        (tmp_path / Path(*name.split("."))).with_suffix(".py").write_text(source)
    return tmp_path


def _lazily(target: str) -> str:
    """A module importing `target` only inside a function, as a late import would."""
    return f"def later() -> None:\n    import {target}\n"


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        ("pipelines.plan", "server", "pipelines imports nothing of ours"),
        ("pipelines.plan", "runner.engine", "pipelines imports nothing of ours"),
        ("pipelines.plan", "webui", "pipelines imports nothing of ours"),
        ("runner.daemon", "server.settings", "runner and server never import each other"),
        ("server.scheduler", "runner", "runner and server never import each other"),
        ("runner.executor", "webui", "runner imports only pipelines of ours"),
        ("webui.views", "server.app", "webui imports only pipelines of ours"),
        ("webui.views", "runner", "webui imports only pipelines of ours"),
    ],
)
def test_a_forbidden_import_inside_a_function_breaks_a_contract(
    tmp_path: Path, importer: str, imported: str, contract: str
) -> None:
    modules = {importer: _lazily(imported)}
    if "." in imported:
        modules[imported] = ""
    result = _lint_imports(_stand_in(tmp_path, modules))
    assert result.returncode == 1, result.stdout + result.stderr
    assert contract in result.stdout.split("Broken contracts", 1)[-1]
    assert f"{importer} -> {imported}" in result.stdout


def test_the_allowed_imports_keep_every_contract(tmp_path: Path) -> None:
    modules = {
        "pipelines.plan": "import json\n",
        "runner.engine": "import pipelines.plan\n",
        "server.app": "import pipelines.plan\nimport webui.views\n",
        "webui.views": "import pipelines.plan\n",
    }
    result = _lint_imports(_stand_in(tmp_path, modules))
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_modules_importing_each_other_break_the_no_cycles_contract(tmp_path: Path) -> None:
    modules = {
        "runner.daemon": "import runner.daemon_cli\n",
        "runner.daemon_cli": "import typing\nif typing.TYPE_CHECKING:\n    import runner.daemon\n",
    }
    result = _lint_imports(_stand_in(tmp_path, modules))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No cycles are allowed in runner." in result.stdout
