"""Woodpecker's pipeline files (`.woodpecker.yaml`, `.woodpecker/*.yaml`) compiled into Hangar's Plans.

Each file is one workflow named by its file; `matrix` expands it into one workflow per combination; `when`
is a list of alternatives with `evaluate` expressions (`pipelines.woodpecker.expr`); workflows wait for the
workflows they `depends_on`. Pure: the caller reads the files.
"""

from __future__ import annotations

from pipelines.woodpecker.build import compile_workflows, lint_workflows
from pipelines.woodpecker.files import FOLDER, SINGLE_FILES, WorkflowFile, is_woodpecker_path, workflow_files

__all__ = [
    "FOLDER",
    "SINGLE_FILES",
    "WorkflowFile",
    "compile_workflows",
    "is_woodpecker_path",
    "lint_workflows",
    "workflow_files",
]
