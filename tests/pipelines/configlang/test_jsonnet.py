"""Jsonnet files evaluate as Drone evaluates them: external variables, imports from the repository, an array
or an object at the top, and errors at the evaluator's own line and column."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from pipelines import ConfigError
from pipelines.configlang import EvaluationLimits, generate
from tests.pipelines.configlang.support import context, dict_reader

NO_FILES = dict_reader({})


def _documents(text: str, files: dict[str, str] | None = None, path: str = ".drone.jsonnet", **fields: Any):
    produced = generate(text, path, context(**fields), dict_reader(files or {}))
    return list(yaml.safe_load_all(produced))


def _error(text: str, files: dict[str, str] | None = None, limits: EvaluationLimits | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        generate(text, ".drone.jsonnet", context(), dict_reader(files or {}), limits)
    return caught.value.first.format()


def test_an_array_becomes_one_document_per_element() -> None:
    docs = _documents("[{kind: 'pipeline', name: 'a'}, {kind: 'pipeline', name: 'b'}]")
    assert [d["name"] for d in docs] == ["a", "b"]


def test_an_object_becomes_one_document() -> None:
    assert _documents("{kind: 'pipeline', name: 'only'}") == [{"kind": "pipeline", "name": "only"}]


def test_drone_external_variables_are_set() -> None:
    text = """{
      branch: std.extVar('build.branch'), event: std.extVar('build.event'), ref: std.extVar('build.ref'),
      commit: std.extVar('build.commit'), author: std.extVar('build.author_login'),
      message: std.extVar('build.message'), slug: std.extVar('repo.slug'), name: std.extVar('repo.name'),
      namespace: std.extVar('repo.namespace'), default: std.extVar('repo.branch'),
      private: std.extVar('repo.private'), config: std.extVar('repo.config'),
    }"""
    [doc] = _documents(text, branch="dev", ref="refs/heads/dev")
    assert doc == {
        "branch": "dev", "event": "push", "ref": "refs/heads/dev", "commit": "a" * 40, "author": "octocat",
        "message": "Fix the build", "slug": "octocat/hello-world", "name": "hello-world",
        "namespace": "octocat", "default": "main", "private": "false", "config": ".drone.jsonnet",
    }  # fmt: skip


def test_pull_request_variables_say_source_and_target() -> None:
    text = "{s: std.extVar('build.source'), t: std.extVar('build.target'), title: std.extVar('build.title')}"
    [doc] = _documents(
        text, event="pull_request", source_branch="feature/x", target_branch="main", pull_request_title="PR"
    )
    assert doc == {"s": "feature/x", "t": "main", "title": "PR"}


def test_imports_resolve_from_the_importing_files_folder() -> None:
    files = {
        "ci/lib/steps.libsonnet": "local c = import 'common.libsonnet'; {step: c.image}",
        "ci/lib/common.libsonnet": "{image: 'alpine'}",
    }
    text = "local s = import 'lib/steps.libsonnet'; {image: s.step}"
    assert _documents(text, files, path="ci/build.jsonnet") == [{"image": "alpine"}]


def test_importstr_reads_text() -> None:
    assert _documents("{script: importstr 'build.sh'}", {"build.sh": "make\n"}) == [{"script": "make\n"}]


@pytest.mark.parametrize("target", ["../../etc/passwd", "/../etc/passwd", "lib/../../x.libsonnet"])
def test_an_import_out_of_the_repository_is_refused_where_it_is_written(target: str) -> None:
    message = _error(f"{{\n  a: import '{target}',\n}}")
    assert message.startswith(".drone.jsonnet:2:6: error: ")
    assert "outside the repository" in message


def test_a_missing_import_says_which_file() -> None:
    message = _error("local x = import 'nope.libsonnet';\nx")
    assert message.startswith(".drone.jsonnet:1:11: error: nope.libsonnet: no such file")


def test_an_error_in_an_imported_file_is_located_there() -> None:
    message = _error("(import 'lib.libsonnet').x", {"lib.libsonnet": "{\n  x: error 'broken lib',\n}"})
    assert message == "lib.libsonnet:2:6: error: broken lib"


def test_a_runtime_error_points_at_its_line() -> None:
    assert _error("local f(b) =\n  error 'No config for branch %s' % b;\n[f('main')]") == (
        ".drone.jsonnet:2:3: error: No config for branch main"
    )


def test_a_syntax_error_points_at_its_line() -> None:
    assert _error("{\n  a: 1,\n  b: ,\n}").startswith(".drone.jsonnet:3:6: error: syntax error: ")


def test_recursion_stops_at_the_stack_limit() -> None:
    assert _error("local f(n) = f(n + 1) + 1;\nf(0)").startswith(
        ".drone.jsonnet:1:14: error: max stack frames exceeded"
    )


def test_more_imports_than_the_limit_are_refused() -> None:
    files = {f"f{i}.libsonnet": f"(import 'f{i + 1}.libsonnet')" for i in range(10)}
    message = _error("import 'f0.libsonnet'", files, EvaluationLimits(imports=3))
    assert "more than 3 files imported" in message


def test_output_over_the_limit_is_refused() -> None:
    text = "[{name: 'x' + i} for i in std.range(1, 1000)]"
    message = _error(text, limits=EvaluationLimits(output_bytes=2000))
    assert message.startswith(".drone.jsonnet:1:1: error: the configuration it produces is too large")
