"""Benchmark: lint the whole Drone corpus (goal: under 2 s), against plain YAML loading of the same files.

Run: `.venv/bin/python bench/lint_corpus.py [--repeat N]`. Prints wall times and the ratio to the baseline
measured in the same run; also times the `hangar lint` command end to end (process start-up included).
The corpus is found as the tests find it (`HANGAR_CORPUS`, else `$HANGAR_SHARED/corpus`, else
`../shared/corpus`); without it the bench says where it looked and exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import BuildContext, ConfigError, compile_file, lint_text  # noqa: E402
from tests.corpus import corpus_files, missing_reason  # noqa: E402


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of repeat runs, in seconds (the least disturbed by the noisy machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = corpus_files("drone", "**/*.yml")
    if not files:
        reason = missing_reason("drone") or "the corpus has no drone/**/*.yml file"
        sys.exit(f"bench/lint_corpus.py: {reason}")
    texts = [(path.name, path.read_text()) for path in files]
    size = sum(len(text) for _, text in texts)
    largest = max(texts, key=lambda item: len(item[1]))

    def lint_all() -> None:
        for name, text in texts:
            lint_text(text, name, trusted=True)

    def load_all() -> None:
        for _, text in texts:
            with contextlib.suppress(yaml.YAMLError):
                list(yaml.load_all(text, Loader=yaml.CSafeLoader))

    context = BuildContext(event="push", branch="master", ref="refs/heads/master", trusted=True)

    def compile_all() -> None:
        for name, text in texts:
            with contextlib.suppress(ConfigError):
                compile_file(text, context, name)

    lint_s = best_of(args.repeat, lint_all)
    compile_s = best_of(args.repeat, compile_all)
    load_s = best_of(args.repeat, load_all)
    big_s = best_of(args.repeat, lambda: lint_text(largest[1], largest[0], trusted=True))
    hangar = str(Path(sys.executable).parent / "hangar")
    cli_s = best_of(
        max(1, args.repeat // 2),
        lambda: subprocess.run(
            [hangar, "lint", "--trusted", *map(str, files)], capture_output=True, check=False
        ),
    )
    print(f"corpus: {len(files)} files, {size / 1024:.0f} KiB", end=" ")
    print(f"(largest {largest[0]}, {len(largest[1]) / 1024:.0f} KiB)")
    print(f"lint, in process:          {lint_s:.3f} s   (goal < 2 s)")
    print(f"baseline, YAML load only:  {load_s:.3f} s")
    print(f"ratio lint / YAML load:    {lint_s / load_s:.2f}x")
    print(f"largest file alone:        {big_s:.3f} s")
    print(f"compile (push to master):  {compile_s:.3f} s   ({compile_s / load_s:.2f}x the YAML load)")
    print(f"`hangar lint` command:     {cli_s:.3f} s   (process start-up included)")


if __name__ == "__main__":
    main()
