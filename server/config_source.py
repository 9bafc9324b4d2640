"""The pipeline configuration of a commit: which file(s), read from the git mirror. Drone's files come first
(`.ci.yml`, `.drone.yml`, and `.drone.jsonnet`/`.drone.star`, evaluated bounded to the YAML they produce,
imports read from the mirror at that commit); a repository without one is read from Woodpecker's
`.woodpecker/*.yaml|yml` (one workflow per file), else `.woodpecker.yaml|yml`."""

from __future__ import annotations

from pipelines import CONFIG_FILES, BuildContext
from pipelines.configlang import generated_name, language_of
from pipelines.configlang.bounded import generate_bounded
from pipelines.configuration import (
    Configuration,
    drone_configuration,
    is_woodpecker_file,
    woodpecker_configuration,
)
from pipelines.woodpecker import FOLDER, SINGLE_FILES, WorkflowFile, workflow_files
from server.mirror import Mirror, MirrorError


def read_configuration(mirror: Mirror, sha: str, config_path: str, context: BuildContext) -> Configuration:
    """The configuration at `sha`: the repository's configured path (a file, or a folder of Woodpecker
    workflow files), else the first of Drone's files, else Woodpecker's. Blocking (run it in a thread).
    Raises MirrorError when there is no such file, EvaluationError (a ConfigError) when a Jsonnet or
    Starlark file cannot be evaluated."""
    if config_path:
        found = _folder(mirror, sha, config_path.rstrip("/")) or _file(mirror, sha, config_path, context)
        if found is None:
            raise MirrorError(f"commit {sha[:12]} has no {config_path}")
        return found
    for path in (*CONFIG_FILES, FOLDER, *SINGLE_FILES):
        found = _folder(mirror, sha, path) if path == FOLDER else _file(mirror, sha, path, context)
        if found is not None:
            return found
    names = " or ".join((*CONFIG_FILES, f"{FOLDER}/*.yaml", *SINGLE_FILES))
    raise MirrorError(f"commit {sha[:12]} has no {names}")


def _folder(mirror: Mirror, sha: str, path: str) -> Configuration | None:
    """Woodpecker's workflow files in folder `path` (None: no such folder, or no YAML file in it)."""
    names = mirror.list_folder(sha, path)
    files = [
        WorkflowFile(f"{path}/{name}", mirror.read_file(sha, f"{path}/{name}") or "")
        for name in workflow_files(names or [])
    ]
    return woodpecker_configuration(files) if files else None


def _file(mirror: Mirror, sha: str, path: str, context: BuildContext) -> Configuration | None:
    text = mirror.read_file(sha, path)
    if text is None:
        return None
    if language_of(path) is not None:
        yaml_text = generate_bounded(text, path, context, lambda name: mirror.read_file(sha, name))
        return drone_configuration(yaml_text, generated_name(path))
    if is_woodpecker_file(path, text):
        return woodpecker_configuration([WorkflowFile(path, text)])
    return drone_configuration(text, path)
