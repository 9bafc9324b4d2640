"""Evaluating a folder as a repository: its files are what imports and load() read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines import BuildContext, Repo


def folder_reader(root: Path) -> Callable[[str], str | None]:
    """A reader over the files of `root` (the repository at the commit), None for anything else."""

    def read(path: str) -> str | None:
        file = root / path
        return file.read_text() if file.is_file() else None

    return read


def dict_reader(files: dict[str, str]) -> Callable[[str], str | None]:
    """A reader over named texts."""
    return files.get


def context(**fields: Any) -> BuildContext:
    """A push to main of octocat/hello-world unless `fields` say otherwise."""
    values: dict[str, Any] = {
        "repo": Repo(
            owner="octocat", name="hello-world", default_branch="main", link="https://git.example/o/h"
        ),
        "event": "push",
        "branch": "main",
        "ref": "refs/heads/main",
        "sha": "a" * 40,
        "before": "b" * 40,
        "message": "Fix the build",
        "author_login": "octocat",
        "author_name": "The Octocat",
        "author_email": "octocat@example.com",
        "number": 7,
    }
    return BuildContext.model_validate(values | fields)


def case_context(folder: Path) -> tuple[BuildContext, str]:
    """A golden case's context (`context.json`) and configuration path (its `config_path`, else the one
    `.drone.*` file at the top)."""
    data: dict[str, Any] = json.loads((folder / "context.json").read_text())
    tops = [p.name for p in folder.iterdir() if p.name.startswith(".drone.")]
    path = data.pop("config_path", "") or tops[0]
    return context(**data), path
