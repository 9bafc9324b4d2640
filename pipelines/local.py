"""A pipeline file on this machine, for `hangar lint`, `compile` and `exec`: the git work tree's facts, and
Jsonnet or Starlark evaluated (bounded) with imports read from the work tree."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.configlang import generated_name, language_of
from pipelines.configuration import (
    Configuration,
    drone_configuration,
    is_woodpecker_file,
    woodpecker_configuration,
)
from pipelines.plan import BuildContext, Repo
from pipelines.woodpecker import WorkflowFile, workflow_files


@dataclass(frozen=True, slots=True)
class WorkTree:
    """The folder a pipeline file belongs to: its git work tree's top (else the folder) and HEAD's facts."""

    root: Path
    branch: str = ""
    sha: str = ""
    message: str = ""
    author: str = ""
    email: str = ""


def work_tree(folder: Path) -> WorkTree:
    """The git work tree holding `folder` and its current commit; just the folder outside of git."""
    if not _may_be_in_git(folder):
        return WorkTree(folder)
    import git  # noqa: PLC0415  (gitpython costs 0.1 s to import; only needed here)

    not_a_repository = (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError, ValueError, TypeError)
    with contextlib.suppress(*not_a_repository):
        repo = git.Repo(folder, search_parent_directories=True)
        root = Path(repo.working_tree_dir or folder)
        branch = "" if repo.head.is_detached else repo.active_branch.name
        try:
            commit = repo.head.commit
        except ValueError:  # a repository without a commit yet
            return WorkTree(root, branch)
        return WorkTree(
            root,
            branch,
            commit.hexsha,
            str(commit.message).strip(),
            str(commit.author.name or ""),
            str(commit.author.email or ""),
        )
    return WorkTree(folder)


def _may_be_in_git(folder: Path) -> bool:
    """Whether gitpython could find a repository from `folder`: a `.git` (or a bare repository's `HEAD`) in it
    or above it, by its path as given or resolved, or GIT_DIR set. Outside, its import is skipped."""
    if os.environ.get("GIT_DIR"):
        return True
    absolute, resolved = Path(os.path.abspath(folder)), folder.resolve()
    return any(
        os.path.lexists(place / name)
        for start in (absolute, resolved)
        for place in (start, *start.parents)
        for name in (".git", "HEAD")
    )


def local_pipeline(text: str, path: Path, context: BuildContext) -> tuple[str, str]:
    """The pipeline YAML of the file at `path` (whose text is `text`) and the name to report problems under.

    YAML files are returned as they are; Jsonnet and Starlark are evaluated as the server does, their
    imports read from the work tree (never outside it). Raises EvaluationError (a ConfigError).
    """
    if language_of(path.name) is None:
        return text, str(path)
    from pipelines.configlang.bounded import generate_bounded  # noqa: PLC0415  (multiprocessing: only here)

    root = work_tree(path.resolve().parent).root.resolve()
    relative = path.resolve().relative_to(root).as_posix()

    def read(name: str) -> str | None:
        file = (root / name).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            return None
        return file.read_text(encoding="utf-8", errors="replace")

    return generate_bounded(text, relative, context, read), generated_name(str(path))


def local_configuration(path: Path, context: BuildContext) -> Configuration:
    """The configuration `path` holds: a folder of Woodpecker workflow files, a Woodpecker file, or a Drone
    file (Jsonnet and Starlark evaluated). Raises OSError, EvaluationError (a ConfigError)."""
    if path.is_dir():
        names = workflow_files(child.name for child in path.iterdir() if child.is_file())
        return woodpecker_configuration(
            [WorkflowFile(str(path / name), _text(path / name)) for name in names]
        )
    text = _text(path)
    if language_of(path.name) is None and is_woodpecker_file(path.as_posix(), text):
        return woodpecker_configuration([WorkflowFile(str(path), text)])
    return drone_configuration(*local_pipeline(text, path, context))


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def local_context(folder: Path, event: str = "push", branch: str = "", **fields: object) -> BuildContext:
    """What a build of this work tree's HEAD would be told: the branch (else the current one, else main),
    commit and author from git; `fields` set anything else of the BuildContext."""
    tree = work_tree(folder)
    branch = branch or tree.branch or "main"
    now = int(time.time())
    values: dict[str, object] = {
        "repo": Repo(owner="local", name=tree.root.name, remote_url=tree.root.as_uri()),
        "event": event,
        "ref": f"refs/tags/{branch}" if event == "tag" else f"refs/heads/{branch}",
        "branch": branch,
        "sha": tree.sha,
        "message": tree.message,
        "author_login": tree.author,
        "author_name": tree.author,
        "author_email": tree.email,
        "number": 1,
        "created": now,
        "started": now,
    }
    return BuildContext.model_validate(values | fields)
