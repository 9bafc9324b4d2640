"""The `cache:` extension: key templates and paths checked at compile time, keys resolved by the runner."""

from __future__ import annotations

import textwrap

import pytest

from pipelines import BuildContext, ConfigError, compile_file
from pipelines.cache_template import TemplateError, parse_template, patterns_of, resolve

FACTS = {"branch": "feature/x", "os": "linux", "arch": "amd64"}


def _checksum(pattern: str) -> str:
    return f"sum({pattern})"


def test_a_key_resolves_facts_and_checksums_and_falls_back_to_the_text_before_each_placeholder() -> None:
    resolved = resolve('pip-{{ os }}-{{arch}}-{{ checksum "requirements*.txt" }}', FACTS, _checksum)
    assert resolved.key == "pip-linux-amd64-sum-requirements-.txt-"
    assert resolved.prefixes == ("pip-", "pip-linux-", "pip-linux-amd64-")


def test_a_branch_with_odd_characters_makes_a_safe_key() -> None:
    assert resolve("deps-{{ branch }}", {"branch": "feat/ü x"}, _checksum).key == "deps-feat/--x"


def test_a_literal_key_has_no_prefix_and_a_leading_placeholder_gives_none() -> None:
    assert resolve("deps", FACTS, _checksum).prefixes == ()
    assert resolve("{{ branch }}-deps", FACTS, _checksum).prefixes == ()


def test_the_globs_a_template_needs() -> None:
    template = """a-{{ checksum "go.sum" }}-{{ checksum 'web/*.lock' }}"""
    assert patterns_of(template) == ["go.sum", "web/*.lock"]


@pytest.mark.parametrize(
    ("template", "message", "offset"),
    [
        ("pip-{{ checksum requirements.txt }}", "checksum needs one quoted file name", 4),
        ("pip-{{ nope }}", "unknown placeholder {{ nope }}", 4),
        ("pip-{{ branch", "unbalanced", 4),
        ("pip }}", "unbalanced", 4),
        ("pip cache", "may not contain ' '", 3),
        ('pip-{{ checksum "../x" }}', "may not leave the workspace", 4),
        ('pip-{{ checksum "/etc/passwd" }}', "must be relative", 4),
        ("", "empty", 0),
    ],
)
def test_bad_templates_say_what_and_where(template: str, message: str, offset: int) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(template)
    assert message in str(caught.value)
    assert caught.value.offset == offset


def _compile(text: str):
    context = BuildContext(event="push", branch="main", ref="refs/heads/main", sha="0" * 40)
    return compile_file(textwrap.dedent(text), context, ".ci.yml")


def test_the_plan_carries_the_stage_and_step_items_unresolved() -> None:
    plans = _compile(
        """\
        kind: pipeline
        name: default
        cache:
          - key: pip-{{ checksum "requirements.txt" }}
            paths: [.cache/pip]
        steps:
          - name: build
            image: node
            cache:
              - key: npm-{{ branch }}
                paths: [node_modules, .npm]
          - name: left-out
            image: node
            when: {branch: other}
            cache:
              - key: never
                paths: [x]
        """
    ).plans
    assert [(c.key, c.paths) for c in plans[0].caches] == [
        ('pip-{{ checksum "requirements.txt" }}', [".cache/pip"]),
        ("npm-{{ branch }}", ["node_modules", ".npm"]),
    ]


def test_a_plain_drone_file_has_no_caches() -> None:
    plans = _compile("kind: pipeline\nname: a\nsteps:\n  - name: s\n    image: busybox\n").plans
    assert plans[0].caches == []
    assert "caches" not in plans[0].model_dump(exclude_defaults=True)


def test_bad_items_are_compile_errors_at_their_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        _compile(
            """\
            kind: pipeline
            name: default
            cache:
              - key: pip-{{ checksum requirements.txt }}
                paths: [.cache/pip, ../outside]
              - key: "x-{{ os }}"
                paths: /etc
              - paths: [a]
            steps:
              - name: s
                image: busybox
                cache:
                  - {key: k}
            """
        )
    errors = [problem.format() for problem in caught.value.problems]
    assert errors[0].startswith(".ci.yml:4:14: error: cache[0].key: checksum needs one quoted file name")
    assert errors[1].startswith(".ci.yml:5:25: error: cache[0].paths[1]: a cache path may not leave")
    assert errors[2].startswith(".ci.yml:7:12: error: cache[1].paths[0]: a cache path must be relative")
    assert errors[3].startswith(".ci.yml:8:5: error: cache[2].key: a cache item needs a key")
    step_error = ".ci.yml:13:9: error: steps[0].cache[0].paths: a cache item needs paths"
    assert any(error.startswith(step_error) for error in errors)
