"""Property tests: no input, however broken, makes the pipeline package raise anything but ConfigError."""

from __future__ import annotations

import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import BuildContext, ConfigError, Problem, compile_file, lint_text
from pipelines.conditions import CONDITION_KEYS
from pipelines.parse import PIPELINE_KEYS
from pipelines.parse_step import STEP_KEYS
from tests.corpus import corpus_files
from tests.pipelines.golden_support import golden_files

# Files to mutate: the project's golden cases, and the real-world Drone files of the corpus when it is there.
DRONE_FILES = [*golden_files(), *corpus_files("drone", "*.yml")]
CONTEXT = BuildContext(
    event="push", branch="main", ref="refs/heads/main", changed_files=["a/b.go"], trusted=True
)
SETTINGS = settings(
    max_examples=int(os.environ.get("HANGAR_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_KEYS = st.sampled_from(
    [*PIPELINE_KEYS, *STEP_KEYS, *CONDITION_KEYS, "include", "exclude", "from_secret", "x"]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["docker", "pipeline", "busybox", "${DRONE_BRANCH}", "${", "$$", "*", "[", "{a,b}"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_KEYS, children, max_size=5)),
    max_leaves=30,
)


def _check(text: str) -> None:
    """Lint and compile text; only located problems and ConfigError may come out."""
    problems = lint_text(text, "fuzz.yml")
    assert all(isinstance(p, Problem) and p.line >= 0 for p in problems)
    try:
        compile_file(text, CONTEXT, "fuzz.yml")
    except ConfigError as exc:
        assert exc.problems


@SETTINGS
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _check(text)


@SETTINGS
@given(st.lists(st.dictionaries(_KEYS, _VALUES, max_size=8), min_size=1, max_size=3))
def test_random_documents(documents: list[dict[str, Any]]) -> None:
    for document in documents:
        document.setdefault("kind", "pipeline")
    _check(yaml.safe_dump_all(documents, sort_keys=False))


@st.composite
def _mutated_drone_file(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(DRONE_FILES)).read_text()
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(
            st.sampled_from(["delete", "duplicate", "indent", "dedent", "insert", "truncate", "replace"])
        )
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "indent":
            lines[index] = "  " + lines[index]
        elif action == "dedent":
            lines[index] = lines[index][2:]
        elif action == "insert":
            column = draw(st.integers(0, len(lines[index])))
            junk = draw(
                st.sampled_from([":", "- ", "{", "[", "'", '"', "&a", "*a", "<<: *a", "\t", "${", "#", "|"])
            )
            lines[index] = lines[index][:column] + junk + lines[index][column:]
        elif action == "truncate":
            lines = lines[: index + 1]
        else:
            lines[index] = draw(st.text(max_size=30))
    return "\n".join(lines)


@SETTINGS
@given(_mutated_drone_file())
def test_mutated_drone_files(text: str) -> None:
    _check(text)
