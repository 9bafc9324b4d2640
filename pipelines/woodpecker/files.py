"""Where Woodpecker's workflow files are, and what a workflow is called."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

FOLDER = ".woodpecker"
SINGLE_FILES = (".woodpecker.yaml", ".woodpecker.yml")
EXTENSIONS = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class WorkflowFile:
    """A workflow file's path in the repository and its text."""

    path: str
    text: str

    @property
    def workflow(self) -> str:
        """The workflow's name: the file's name without folder, extension and leading dot (Woodpecker's)."""
        return workflow_name(self.path)


def workflow_name(path: str) -> str:
    """`.woodpecker/build.yaml` -> `build`; `.woodpecker.yml` -> `woodpecker`."""
    name = posixpath.basename(path)
    for extension in (".yml", ".yaml"):
        name = name.removesuffix(extension)
    return name.removeprefix(".")


def workflow_files(names: Iterable[str]) -> list[str]:
    """The YAML files of a folder listing, in name order (how Woodpecker orders workflows)."""
    return sorted(name for name in names if name.endswith(EXTENSIONS))


def is_woodpecker_path(path: str) -> bool:
    """Whether a configured path names a Woodpecker file or folder by its name."""
    clean = path.strip("/")
    return clean in SINGLE_FILES or clean == FOLDER or clean.startswith(FOLDER + "/")
