"""Woodpecker's pipeline files (`.woodpecker.yaml`, `.woodpecker/*.yaml`) compiled into Hangar's Plans.

Each file is one workflow named by its file; `matrix` expands it into one workflow per combination; `when`
is a list of alternatives with `evaluate` expressions (`pipelines.woodpecker.expr`); workflows wait for the
workflows they `depends_on`. Pure: the caller reads the files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.woodpecker.files import FOLDER, SINGLE_FILES, WorkflowFile, is_woodpecker_path, workflow_files

if TYPE_CHECKING:
    from pipelines.woodpecker.build import compile_workflows, lint_workflows

_COMPILER_NAMES = ("compile_workflows", "lint_workflows")
"""Loaded on first use: finding and naming files (all a Drone build needs) skips the compiler's imports."""


def __getattr__(name: str) -> object:
    """The compiler's functions, imported when first asked for."""
    if name in _COMPILER_NAMES:
        from pipelines.woodpecker import build  # noqa: PLC0415

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FOLDER",
    "SINGLE_FILES",
    "WorkflowFile",
    "compile_workflows",
    "is_woodpecker_path",
    "lint_workflows",
    "workflow_files",
]
