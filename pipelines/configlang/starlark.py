"""Starlark configuration (`.drone.star`) evaluated with starlark-rust: `main(ctx)` called as Drone calls it.

Why starlark-rust (the `starlark-pyo3` bindings) and not go.starlark.net's (`starlark-go`): the Go bindings
cannot load() files, have no struct for `ctx.build.*`, no step or time limit, and crash the process when
Starlark calls back into Python. Where the two interpreters differ on Drone's files, this module makes
starlark-rust read them as Go does (tabs, see `whitespace`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import starlark as sl

from pipelines.configlang.documents import EvaluationError
from pipelines.configlang.files import ImportRefused, RepositoryFiles, resolve
from pipelines.configlang.limits import EvaluationLimits
from pipelines.configlang.variables import Value
from pipelines.configlang.whitespace import untabify

_CONFIG = "@hangar//config"
_DRIVER = f"""load("{_CONFIG}", _main = "main")
_main(struct(build = struct(params = {{}}, **_build), repo = struct(**_repo), input = struct()))
"""
_WHERE = re.compile(r"^ *--> (?P<file>.+?):(?P<line>\d+):(?P<column>\d+)", re.MULTILINE)
_REASON = re.compile(r"^error: (?P<message>.+)$", re.MULTILINE)
_WRAPPERS = re.compile(r"^(?:(?:StarlarkError|RuntimeError|ImportRefused|error): )+")


def evaluate_starlark(
    text: str,
    filename: str,
    build: dict[str, Value],
    repo: dict[str, Value],
    files: RepositoryFiles,
    limits: EvaluationLimits,
) -> list[Any]:
    """The documents `main(ctx)` returns: a list's items, or the one dict (as Drone does)."""
    deadline = time.monotonic() + limits.seconds
    options = sl.EvalOptions(
        check_cancelled=lambda: time.monotonic() > deadline, max_callstack_size=limits.stack
    )
    user_globals = sl.Globals.extended_by([sl.LibraryExtension.Print])
    dialect = sl.Dialect.extended()
    modules: dict[str, sl.FrozenModule] = {}
    loading: list[str] = []

    def run(name: str, source: str, globals_: sl.Globals, module: sl.Module) -> object:
        ast = sl.parse(name, untabify(source), dialect)
        return sl.eval_with(options, module, ast, globals_, sl.FileLoader(load)).value

    def load(requested: str) -> sl.FrozenModule:
        if requested == _CONFIG:
            path, source = filename, text
        else:
            path = resolve("", requested)
            if path in loading:
                raise ImportRefused(f"load cycle: {' -> '.join([*loading, path])}")
            source = files.read(path)
        if path not in modules:
            loading.append(path)
            module = sl.Module()
            run(path, source, user_globals, module)
            loading.pop()
            modules[path] = module.freeze()
        return modules[path]

    driver = sl.Module()
    driver["_build"], driver["_repo"] = build, repo
    driver_globals = sl.Globals.extended_by([sl.LibraryExtension.StructType])
    try:
        result = _guarded(lambda: run("<drone>", _DRIVER, driver_globals, driver), filename)
    except EvaluationError as exc:
        raise _explained(exc, limits) from None
    if isinstance(result, list):
        return result
    if isinstance(result, dict):
        return [result]
    kind = type(result).__name__
    raise EvaluationError(f"main(ctx) must return a dict or a list of dicts, not {kind}", filename)


def _guarded(evaluate: Callable[[], object], filename: str) -> object:
    """Run the evaluation; starlark-rust's errors (and panics) as one located problem."""
    try:
        return evaluate()
    except sl.StarlarkError as exc:
        raise _located(str(exc), filename) from None
    except BaseException as exc:  # pyo3's PanicException (a string over 4 GiB) derives from BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        reason = "took too much memory to evaluate" if "memory" in str(exc) else "stopped the evaluator"
        raise EvaluationError(f"the configuration {reason} ({exc})", filename) from None


def _located(report: str, filename: str) -> EvaluationError:
    """starlark-rust's report as one problem at its innermost location."""
    where = _WHERE.search(report)
    reasons = list(_REASON.finditer(report[: where.start()] if where else report))
    message = _WRAPPERS.sub("", reasons[-1]["message"]) if reasons else report.strip().splitlines()[-1]
    if "serde::serialize" in message:
        message = f"main(ctx) returned something that is not data: {message}"
    if where is None or where["file"] == "<drone>":
        if "has no symbol `main`" in message:
            message = "the file defines no main(ctx) function"
        elif "`call()` not supported" in message:
            message = "main must be a function: def main(ctx): ..."
        return EvaluationError(message, filename)
    return EvaluationError(message, where["file"], int(where["line"]), int(where["column"]))


def _explained(exc: EvaluationError, limits: EvaluationLimits) -> EvaluationError:
    """The time and stack limits said plainly."""
    problem = exc.first
    message = problem.message
    if message == "Evaluation cancelled":
        message = f"the configuration took too long to evaluate (the limit is {limits.seconds:g} s)"
        return EvaluationError(message, problem.file, problem.line, problem.column)
    if "call stack" in message.lower() or "stack overflow" in message.lower():
        message = f"{message} (recursion deeper than {limits.stack} calls)"
        return EvaluationError(message, problem.file, problem.line, problem.column)
    return exc
