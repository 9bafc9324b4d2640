"""Benchmark: evaluating the largest Jsonnet and Starlark files of the corpus, against loading the YAML each
produces (the baseline, measured in the same run).

Run: `.venv/bin/python bench/config_languages.py [--repeat N]`. For each language's largest file prints the
best wall time of: evaluating in process, evaluating in the bounded child process (what the server and the
CLI do: fork server, memory cap, imports over a pipe), loading the produced YAML with libyaml (baseline),
and parsing and linting the produced YAML (what a build does next), each with its ratio to the baseline.
The corpus is found as the tests find it; without it the bench says where it looked and exits with 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lint_corpus import best_of  # noqa: E402
from pipelines import BuildContext, Repo, lint_text  # noqa: E402
from pipelines.configlang import generate, generated_name  # noqa: E402
from pipelines.configlang.bounded import generate_bounded, stop_fork_server  # noqa: E402
from tests.corpus import corpus_files, missing_reason  # noqa: E402

FOLDER = "drone-config-languages"


def _measure(path: Path, repeat: int) -> None:
    config = ".drone.jsonnet" if path.suffix == ".jsonnet" else ".drone.star"
    text = path.read_text()
    folder = path.parent

    def read(name: str) -> str | None:
        file = folder / name
        return file.read_text() if file.is_file() else None

    context = BuildContext(
        repo=Repo(owner="octocat", name="hello", default_branch="master"),
        event="push", branch="master", ref="refs/heads/master", sha="a" * 40, trusted=True,
    )  # fmt: skip
    produced = generate(text, config, context, read)
    in_process = best_of(repeat, lambda: generate(text, config, context, read))
    bounded = best_of(repeat, lambda: generate_bounded(text, config, context, read))
    load = best_of(repeat, lambda: list(yaml.load_all(produced, Loader=yaml.CSafeLoader)))
    linted = best_of(repeat, lambda: lint_text(produced, generated_name(config), trusted=True))
    documents = len(list(yaml.load_all(produced, Loader=yaml.CSafeLoader)))
    size = f"{len(text) / 1024:.0f} KiB -> {documents} documents, {len(produced) / 1024:.0f} KiB YAML"
    print(f"{path.name}: {size}")
    for what, seconds in (
        ("baseline, load the YAML", load),
        ("evaluate, in process", in_process),
        ("evaluate, bounded child", bounded),
        ("parse and lint the YAML", linted),
    ):
        print(f"  {what + ':':28} {seconds * 1000:8.1f} ms   ({seconds / load:.1f}x the baseline)")


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    jsonnet = corpus_files(FOLDER, "jsonnet/**/*.jsonnet")
    starlark = [p for p in corpus_files(FOLDER, "starlark/**/*.star") if p.name.endswith(".drone.star")]
    if not jsonnet or not starlark:
        sys.exit(f"bench/config_languages.py: {missing_reason(FOLDER) or 'no Jsonnet or Starlark files'}")
    try:
        for files in (jsonnet, starlark):
            _measure(max(files, key=lambda path: path.stat().st_size), args.repeat)
    finally:
        stop_fork_server()


if __name__ == "__main__":
    main()
