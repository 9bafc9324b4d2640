"""Golden files: `golden/NAME.yml` (first line `# context: {json}`) compiles to `golden/NAME.json`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipelines import BuildContext, ConfigError, compile_file
from pipelines.compiler import Compilation

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HANGAR_UPDATE_GOLDEN") == "1"
_SYSTEM_PREFIXES = ("DRONE_", "CI_")
_SYSTEM_NAMES = {"CI", "DRONE", "HANGAR"}


def golden_files() -> list[Path]:
    """Every golden case's pipeline file, sorted."""
    return sorted(GOLDEN.glob("*.yml"))


def golden_cases() -> list[str]:
    """Names of every golden case."""
    return [path.stem for path in golden_files()]


def load_context(text: str) -> tuple[BuildContext, bool]:
    """The case's build context, and whether its plans keep the full system environment."""
    first = text.splitlines()[0]
    assert first.startswith("# context:"), "a golden case starts with `# context: {json}`"
    data: dict[str, Any] = json.loads(first.removeprefix("# context:"))
    full_environ = bool(data.pop("full_environ", False))
    data.setdefault(
        "repo", {"owner": "octocat", "name": "hello-world", "remote_url": "https://git.example/o/h.git"}
    )
    data.setdefault("sha", "a" * 40)
    data.setdefault("number", 7)
    data.setdefault("created", 1700000000)
    data.setdefault("started", 1700000001)
    return BuildContext.model_validate(data), full_environ


def render(name: str) -> dict[str, Any]:
    """Compile a golden case into the JSON document it is compared with."""
    text = (GOLDEN / f"{name}.yml").read_text()
    context, full_environ = load_context(text)
    try:
        compilation = compile_file(text, context, f"{name}.yml")
    except ConfigError as exc:
        return {"errors": [p.format() for p in exc.problems]}
    return document(compilation, full_environ)


def document(compilation: Compilation, full_environ: bool = False) -> dict[str, Any]:
    """A compilation as golden files hold it (the system variables left out unless `full_environ`)."""
    plans = [plan.model_dump(mode="json", exclude_defaults=True) for plan in compilation.plans]
    if not full_environ:
        for plan in plans:
            for step in plan["steps"]:
                kept = {k: v for k, v in step.pop("environment", {}).items() if not _is_system(k)}
                if kept:
                    step["environment"] = kept
    return {
        "plans": plans,
        "skipped": [{"name": s.name, "reason": s.reason} for s in compilation.skipped],
        "warnings": [p.format() for p in compilation.warnings],
    }


def _is_system(name: str) -> bool:
    return name in _SYSTEM_NAMES or name.startswith(_SYSTEM_PREFIXES)


def expected(name: str, actual: dict[str, Any]) -> dict[str, Any]:
    """The stored golden output (rewritten first when HANGAR_UPDATE_GOLDEN=1)."""
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        path.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
    assert path.exists(), f"no {path.name}: run with HANGAR_UPDATE_GOLDEN=1 and review the file it writes"
    result: dict[str, Any] = json.loads(path.read_text())
    return result
