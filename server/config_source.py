"""The pipeline configuration of a commit: which file, read from the git mirror, and, for Jsonnet and
Starlark, the YAML it evaluates to (evaluated bounded; imports read from the mirror at that commit)."""

from __future__ import annotations

from pipelines import CONFIG_FILES, BuildContext
from pipelines.configlang import generated_name, language_of
from pipelines.configlang.bounded import generate_bounded
from server.mirror import Mirror, MirrorError


def read_configuration(mirror: Mirror, sha: str, config_path: str, context: BuildContext) -> tuple[str, str]:
    """The pipeline YAML at `sha` and the name its problems are reported under.

    The file is the repository's configured path, else the first of CONFIG_FILES the commit has. Blocking
    (run it in a thread). Raises MirrorError when there is no such file, EvaluationError (a ConfigError)
    when a Jsonnet or Starlark file cannot be evaluated.
    """
    candidates = (config_path,) if config_path else CONFIG_FILES
    for path in candidates:
        text = mirror.read_file(sha, path)
        if text is None:
            continue
        if language_of(path) is None:
            return text, path
        yaml_text = generate_bounded(text, path, context, lambda name: mirror.read_file(sha, name))
        return yaml_text, generated_name(path)
    raise MirrorError(f"commit {sha[:12]} has no {' or '.join(candidates)}")
