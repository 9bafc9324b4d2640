"""Drone's include/exclude semantics for `when` and `trigger`, and `paths` over changed files."""

from __future__ import annotations

import pytest

from pipelines.conditions import Condition, Conditions, Facts


@pytest.mark.parametrize(
    ("include", "exclude", "value", "matches"),
    [
        ((), (), "anything", True),
        (("main",), (), "main", True),
        (("main",), (), "develop", False),
        (("feature/*",), (), "feature/login", True),
        (("feature/*",), (), "feature/a/b", False),
        (("release/**",), (), "release/1.0/hotfix", True),
        ((), ("feature/*",), "feature/x", False),
        ((), ("feature/*",), "main", True),
        (("*",), ("wip-*",), "wip-1", False),
        (("refs/tags/v*",), (), "refs/tags/v1.2.3", True),
        (("{main,master}",), (), "master", True),
    ],
)
def test_condition_match(
    include: tuple[str, ...], exclude: tuple[str, ...], value: str, matches: bool
) -> None:
    assert Condition(include, exclude).match(value) is matches


@pytest.mark.parametrize(
    ("condition", "files", "matches"),
    [
        (Condition(("docs/**",)), ["docs/a/b.md"], True),
        (Condition(("docs/**",)), ["src/main.go"], False),
        (Condition(("docs/**",)), ["src/main.go", "docs/x.md"], True),
        (Condition((), ("**/*.md",)), ["README.md", "docs/x.md"], False),
        (Condition((), ("**/*.md",)), ["README.md", "main.go"], True),
        (Condition(("src/**",), ("src/vendor/**",)), ["src/vendor/x.go"], False),
        (Condition(("src/**",)), None, True),
        (Condition(("src/**",)), [], True),
        (Condition(("src/**",), on_empty=False), [], False),
        (Condition(), ["anything"], True),
    ],
)
def test_paths(condition: Condition, files: list[str] | None, matches: bool) -> None:
    assert condition.match_files(files) is matches


def test_conditions_are_anded_and_explain_the_mismatch() -> None:
    conditions = Conditions(branch=Condition(("main",)), event=Condition(("push",)))
    assert conditions.match(Facts(event="push", branch="main"))
    assert not conditions.match(Facts(event="tag", branch="main"))
    assert conditions.mismatch(Facts(event="tag", branch="main")) == "event 'tag' does not match"
    assert conditions.mismatch(Facts(event="push", branch="dev")) == "branch 'dev' does not match"


def test_branch_conditions_fail_on_tags_as_in_drone() -> None:
    assert not Conditions(branch=Condition(("main",))).match(Facts(event="tag", branch=""))


@pytest.mark.parametrize(
    ("status", "policy"),
    [
        (Condition(), "on_success"),
        (Condition(("failure",)), "on_failure"),
        (Condition(("success", "failure")), "always"),
        (Condition(("success",)), "on_success"),
        (Condition((), ("failure",)), "on_success"),
        (Condition((), ("success",)), "on_failure"),
        (Condition(("*",)), "always"),
        (Condition(("nothing",)), "never"),
    ],
)
def test_run_policy(status: Condition, policy: str) -> None:
    assert Conditions(status=status).run_policy() == policy
