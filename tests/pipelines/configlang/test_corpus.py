"""Every real-world Jsonnet and Starlark file of the corpus evaluates, for a push to the default branch, into
the documents its MANIFEST recorded from Drone's own evaluators; the produced pipelines lint and compile, or
fail with located, explained messages. Without the corpus these are skipped (golden/configlang/ holds the
project's own files)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipelines import ConfigError, compile_file, lint_text
from pipelines.configlang import generate, generated_name
from pipelines.configlang.bounded import generate_bounded
from tests.corpus import corpus_dir, needs_corpus, or_skip
from tests.pipelines.configlang.support import context, folder_reader

FOLDER = "drone-config-languages"
pytestmark = pytest.mark.corpus


@dataclass(frozen=True)
class Entry:
    """One MANIFEST row: the main file, the folder that is its repository (None: self-contained), and what
    Drone's evaluators produced for a push."""

    name: str
    main: Path
    repository: Path | None
    expected: str

    @property
    def path(self) -> str:
        """The configuration path inside the repository."""
        if self.repository:
            return self.main.name
        return ".drone.jsonnet" if self.name.endswith("jsonnet") else ".drone.star"


def _entries() -> list[Entry]:
    manifest = corpus_dir() / FOLDER / "MANIFEST.md"
    if not manifest.is_file():
        return []
    entries = []
    for row in manifest.read_text().splitlines():
        if not re.match(r"^\| `(jsonnet|starlark)/", row):
            continue
        cells = row.strip("| ").split(" | ")
        first = re.findall(r"`([^`]+)`", cells[0])[0]
        main = corpus_dir() / FOLDER / first
        repository = main.parent if main.parent.name not in ("jsonnet", "starlark") else None
        entries.append(Entry(first, main, repository, cells[8]))
    return entries


def _push_outcome(evaluation: str) -> str:
    """The part of the MANIFEST's evaluation cell about the push context."""
    for part in evaluation.split("; "):
        if part.startswith("push: "):
            return part.removeprefix("push: ")
    return evaluation


def _counts(outcome: str) -> dict[str, int]:
    counts = {"pipeline": 0, "secret": 0}
    for number, kind in re.findall(r"(\d+) (pipeline|secret)s?", outcome):
        counts[kind] = int(number)
    return counts


ENTRIES = or_skip(_entries(), FOLDER, ids=lambda entry: entry.name)


@pytest.mark.parametrize("entry", ENTRIES)
def test_evaluates_to_what_drone_produced(entry: Entry) -> None:
    outcome = _push_outcome(entry.expected)
    read = folder_reader(entry.repository) if entry.repository else lambda _path: None
    if outcome.startswith("error:"):
        with pytest.raises(ConfigError) as caught:
            generate(entry.main.read_text(), entry.path, context(), read)
        problem = caught.value.first
        reason = re.sub(r"^error: `(RUNTIME ERROR: )?|`$", "", outcome)
        assert reason in problem.message
        assert problem.line > 0
        return
    produced = generate(entry.main.read_text(), entry.path, context(), read)
    kinds = [document.get("kind", "") for document in yaml.safe_load_all(produced)]
    expected = _counts(outcome)
    assert kinds.count("secret") == expected["secret"]
    assert len(kinds) - kinds.count("secret") == expected["pipeline"]


@pytest.mark.parametrize("entry", ENTRIES)
def test_produced_pipelines_lint_and_compile_or_say_where_why(entry: Entry) -> None:
    read = folder_reader(entry.repository) if entry.repository else lambda _path: None
    try:
        produced = generate(entry.main.read_text(), entry.path, context(), read)
    except ConfigError as exc:
        assert "error:" in _push_outcome(entry.expected), f"Drone evaluated it: {exc}"
        return
    name = generated_name(entry.path)
    errors = [p for p in lint_text(produced, name, trusted=True) if p.is_error]
    for problem in errors:
        assert problem.file == name and problem.line > 0
        assert re.search(r"pipeline '|document \d", problem.path + problem.message), problem.format()
    if not errors:
        compilation = compile_file(produced, context(trusted=True), name)
        assert len(compilation.plans) + len(compilation.skipped) >= 1


@needs_corpus(FOLDER)
def test_the_largest_file_fits_the_default_limits() -> None:
    """The evaluation bounds leave room for the biggest real configuration (and its child process works)."""
    largest = max(_entries(), key=lambda entry: entry.main.stat().st_size)
    read = folder_reader(largest.repository) if largest.repository else lambda _path: None
    produced = generate_bounded(largest.main.read_text(), largest.path, context(), read)
    assert produced == generate(largest.main.read_text(), largest.path, context(), read)


@needs_corpus(FOLDER)
def test_the_corpus_holds_its_files() -> None:
    assert len(_entries()) >= 24, f"only {len(_entries())} entries in {corpus_dir() / FOLDER / 'MANIFEST.md'}"
