"""Every package the product code imports is declared in pyproject.toml, not only brought in by another."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
OURS = ("pipelines", "runner", "server", "webui")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_by(package: str) -> dict[str, str]:
    """The top-level names of the third-party modules the package imports, each with a file importing it."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in OURS and top != "__future__":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalized(Requirement(line).name) for line in project["dependencies"]}


def _undeclared(declared: set[str]) -> list[str]:
    """Each third-party module our packages import whose distribution is not among `declared`."""
    distributions = packages_distributions()
    undeclared = []
    for package in OURS:
        for module, where in _imported_by(package).items():
            names = {_normalized(name) for name in distributions.get(module, [module])}
            if not names & declared:
                undeclared.append(f"{module} (from {', '.join(sorted(names))}), imported by {where}")
    return undeclared


def test_every_imported_package_is_a_declared_dependency() -> None:
    undeclared = _undeclared(_declared())
    assert not undeclared, "imported but not in pyproject.toml's dependencies:\n" + "\n".join(undeclared)


def test_a_package_only_brought_in_by_another_is_found_undeclared() -> None:
    undeclared = _undeclared(_declared() - {"markupsafe"})  # as before: Jinja brought it
    assert len(undeclared) == 1
    assert undeclared[0].startswith("markupsafe (from markupsafe), imported by webui/")
