"""Starlark files evaluate as Drone evaluates them: `main(ctx)` with `ctx.build` and `ctx.repo`, a dict or a
list back, load() of the repository's files, and errors at the evaluator's own line and column."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from pipelines import ConfigError
from pipelines.configlang import EvaluationLimits, generate
from tests.pipelines.configlang.support import context, dict_reader


def _documents(text: str, files: dict[str, str] | None = None, **fields: Any):
    produced = generate(text, ".drone.star", context(**fields), dict_reader(files or {}))
    return list(yaml.safe_load_all(produced))


def _error(text: str, files: dict[str, str] | None = None, limits: EvaluationLimits | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        generate(text, ".drone.star", context(), dict_reader(files or {}), limits)
    return caught.value.first.format()


def test_a_list_becomes_one_document_per_item() -> None:
    text = "def main(ctx):\n    return [{'name': n} for n in ('a', 'b')]\n"
    assert _documents(text) == [{"name": "a"}, {"name": "b"}]


def test_a_dict_becomes_one_document() -> None:
    assert _documents("def main(ctx):\n    return {'name': 'one'}\n") == [{"name": "one"}]


def test_ctx_has_drones_build_and_repo_attributes() -> None:
    text = """def main(ctx):
    b, r = ctx.build, ctx.repo
    return {"build": [b.event, b.branch, b.ref, b.commit, b.message, b.author_login, b.target, b.debug],
            "repo": [r.slug, r.name, r.namespace, r.branch, r.private, r.trusted, r.config],
            "params": len(ctx.build.params)}
"""
    [doc] = _documents(text, branch="dev")
    assert doc == {
        "build": ["push", "dev", "refs/heads/main", "a" * 40, "Fix the build", "octocat", "dev", False],
        "repo": ["octocat/hello-world", "hello-world", "octocat", "main", False, False, ".drone.star"],
        "params": 0,
    }


def test_main_may_name_its_parameter_anything() -> None:
    assert _documents("def main(context):\n    return {'b': context.build.branch}\n") == [{"b": "main"}]


def test_load_reads_the_repositorys_files_from_its_root() -> None:
    files = {
        "ci/steps.star": "load('ci/images.star', 'IMAGE')\n"
        "def step(n):\n    return {'name': n, 'image': IMAGE}\n",
        "ci/images.star": "IMAGE = 'alpine'\n",
    }
    text = "load('ci/steps.star', 'step')\ndef main(ctx):\n    return {'steps': [step('a')]}\n"
    assert _documents(text, files) == [{"steps": [{"name": "a", "image": "alpine"}]}]


def test_load_out_of_the_repository_is_refused_where_it_is_written() -> None:
    message = _error("x = 1\nload('../../etc/passwd', 'x')\ndef main(ctx):\n    return {}\n")
    assert message.startswith(".drone.star:2:1: error: ../../etc/passwd is outside the repository")


def test_a_load_cycle_is_named() -> None:
    files = {"a.star": "load('b.star', 'y')\nx = y\n", "b.star": "load('a.star', 'x')\ny = 1\n"}
    message = _error("load('a.star', 'x')\ndef main(ctx):\n    return {}\n", files)
    assert "load cycle: .drone.star -> a.star -> b.star -> a.star" in message


def test_an_error_points_at_its_line_and_column() -> None:
    text = "def main(ctx):\n    n = 1\n    return n + ctx.build.branch\n"
    assert _error(text) == ".drone.star:3:12: error: Operation `+` not supported for types `int` and `string`"


def test_an_error_while_loading_a_file_is_located_in_it() -> None:
    files = {"lib.star": "x = 1\ny = x + None\n"}
    message = _error("load('lib.star', 'y')\ndef main(ctx):\n    return {}\n", files)
    assert message.startswith("lib.star:2:5: error: Operation `+` not supported")


def test_an_error_inside_a_loaded_function_is_located_at_the_call() -> None:
    """starlark-rust's traceback stops at a loaded (frozen) module's function: the call is the place."""
    files = {"lib.star": "def f():\n    return {}['missing']\n"}
    message = _error("load('lib.star', 'f')\ndef main(ctx):\n    return f()\n", files)
    assert message == '.drone.star:3:12: error: Key `"missing"` was not found'


def test_a_file_without_main_says_so() -> None:
    assert _error("x = 1\n") == ".drone.star:1:1: error: the file defines no main(ctx) function"


def test_main_must_return_a_dict_or_a_list() -> None:
    message = _error("def main(ctx):\n    return 'pipeline'\n")
    assert message == ".drone.star:1:1: error: main(ctx) must return a dict or a list of dicts, not str"


def test_recursion_stops_at_the_call_stack_limit() -> None:
    message = _error("def f(n):\n    return f(n + 1)\n\ndef main(ctx):\n    return f(0)\n")
    assert message.startswith(".drone.star:2:12: error: Starlark call stack overflow")


def test_a_loop_past_the_time_limit_is_stopped_where_it_runs() -> None:
    text = "def main(ctx):\n    for i in range(1000000000):\n        pass\n    return {}\n"
    message = _error(text, limits=EvaluationLimits(seconds=0.2))
    assert message.startswith(".drone.star:2:5: error: the configuration took too long to evaluate")


def test_tabs_are_read_as_go_starlark_reads_them() -> None:
    text = "def main(ctx):\n\tsteps = [\n\t\t'a',\n\t]\n\treturn {'steps': steps, 'tab': 'x\\ty'}\n"
    assert _documents(text) == [{"steps": ["a"], "tab": "x\ty"}]
