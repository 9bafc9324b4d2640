"""Where the real-world corpus is (third-party files kept outside the repository), and skipping without it.

The corpus folder is `HANGAR_CORPUS`, or else `$HANGAR_SHARED/corpus`, or else `../shared/corpus` beside the
checkout. Where it is absent, the tests over it are skipped with a reason naming the folder looked in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """`../shared` beside the checkout (HANGAR_SHARED overrides)."""
    return Path(os.environ.get("HANGAR_SHARED", ROOT.parent / "shared"))


def corpus_dir() -> Path:
    """The corpus folder: HANGAR_CORPUS, else `corpus` in the shared folder."""
    named = os.environ.get("HANGAR_CORPUS")
    return Path(named) if named else shared_dir() / "corpus"


def missing_reason(folder: str = "") -> str | None:
    """Why the tests over `folder` of the corpus cannot run (naming where they looked), or None."""
    root = corpus_dir()
    if not root.is_dir():
        return f"no real-world corpus at {root} (set HANGAR_CORPUS to the corpus folder, or HANGAR_SHARED)"
    if folder and not (root / folder).is_dir():
        return f"the real-world corpus at {root} has no {folder}/ folder"
    return None


def require_corpus(folder: str = "") -> Path:
    """The corpus folder (or its `folder`); skips the calling test when it is absent."""
    reason = missing_reason(folder)
    if reason:
        pytest.skip(reason)
    return corpus_dir() / folder


def corpus_files(folder: str, pattern: str) -> list[Path]:
    """The files of the corpus's `folder` that match the glob `pattern`, sorted; none without the corpus."""
    path = corpus_dir() / folder
    return sorted(path.glob(pattern)) if path.is_dir() else []


def or_skip(
    values: Iterable[Any],
    folder: str,
    *,
    ids: Callable[[Any], str] | None = None,
    marks: Sequence[pytest.MarkDecorator] = (),
) -> list[Any]:
    """Parameters over corpus files (with `marks`) for a parametrize; one skipped case saying why if none.

    An empty parameter list would only make pytest skip with "got empty parameter set": this names the folder.
    """
    params = [pytest.param(value, id=ids(value) if ids else None, marks=marks) for value in values]
    if params:
        return params
    reason = missing_reason(folder) or f"no files in {corpus_dir() / folder}"
    return [pytest.param(None, id="no-corpus", marks=[*marks, pytest.mark.skip(reason=reason)])]


def needs_corpus(folder: str = "") -> pytest.MarkDecorator:
    """A mark skipping a test or a parameter when the corpus (or its `folder`) is absent, saying where."""
    reason = missing_reason(folder)
    return pytest.mark.skipif(reason is not None, reason=reason or "")
