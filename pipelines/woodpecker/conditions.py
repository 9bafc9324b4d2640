"""Woodpecker's `when`: alternatives (OR) of filters (AND), matched as Woodpecker matches them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.errors import ConfigError, Problem, Severity
from pipelines.globs import glob_match
from pipelines.plan import RunPolicy
from pipelines.woodpecker.expr import ExpressionError
from pipelines.woodpecker.model import Axis, Constraint, Filter, MatrixFilter, PathFilter, When


@dataclass(frozen=True, slots=True)
class Facts:
    """What a build is, as `when` sees it; `env` is what `evaluate` reads."""

    event: str = "push"
    branch: str = ""
    ref: str = ""
    repo: str = ""
    instance: str = ""
    platform: str = "linux/amd64"
    cron: str = ""
    message: str = ""
    changed_files: tuple[str, ...] | None = None
    axis: Axis = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)


def filter_match(found: Filter, value: str) -> bool:
    """Excluded: no; included: yes; else yes only when nothing is included."""
    if any(glob_match(pattern, value) for pattern in found.exclude):
        return False
    return any(glob_match(pattern, value) for pattern in found.include) or not found.include


def path_match(found: PathFilter, files: Sequence[str] | None, message: str) -> bool:
    """Woodpecker's `path`: a commit message with `ignore_message` matches; no changed file: `on_empty`;
    every changed file excluded: no; some file included (when includes are given): yes."""
    if found.ignore_message and found.ignore_message.lower() in message.lower():
        return True
    if files is None:  # the changes are unknown (a first push): the filter cannot say no
        return True
    if not files:
        return found.on_empty
    if found.exclude and all(any(glob_match(p, f) for p in found.exclude) for f in files):
        return False
    return not found.include or any(glob_match(p, f) for p in found.include for f in files)


def matrix_match(found: MatrixFilter, axis: Axis) -> bool:
    """Every included axis value matches, and not every excluded one does."""
    if found.exclude and all(glob_match(value, axis.get(key, "")) for key, value in found.exclude):
        return False
    return all(glob_match(value, axis.get(key, "")) for key, value in found.include)


def mismatch(constraint: Constraint, facts: Facts, filename: str, *, step: bool) -> str:
    """Why the alternative does not match ("" when it does); an `evaluate` failing raises ConfigError."""
    reasons: list[str] = []
    if step and not matrix_match(constraint.matrix, facts.axis):
        reasons.append("the matrix combination does not match")
    if not filter_match(constraint.platform, facts.platform):
        reasons.append(f"platform {facts.platform!r} does not match")
    if constraint.event and facts.event not in constraint.event:
        reasons.append(f"event {facts.event!r} is not {' or '.join(constraint.event)}")
    for name, value in (("repo", facts.repo), ("ref", facts.ref), ("instance", facts.instance)):
        if not filter_match(getattr(constraint, name), value):
            reasons.append(f"{name} {value!r} does not match")
    pull_or_push = facts.event.startswith("pull_request") or facts.event == "push"
    if pull_or_push and not path_match(constraint.path, facts.changed_files, facts.message):
        reasons.append("no changed file matches `path`")
    if facts.event != "tag" and not filter_match(constraint.branch, facts.branch):
        reasons.append(f"branch {facts.branch!r} does not match")
    if facts.event == "cron" and not filter_match(constraint.cron, facts.cron):
        reasons.append(f"cron {facts.cron!r} does not match")
    if constraint.evaluate is not None and not _evaluate(constraint, facts, filename):
        reasons.append(f"evaluate `{constraint.evaluate.text}` is false")
    return reasons[0] if reasons else ""


def _evaluate(constraint: Constraint, facts: Facts, filename: str) -> bool:
    assert constraint.evaluate is not None
    try:
        return constraint.evaluate.evaluate(facts.env)
    except ExpressionError as exc:
        span = constraint.evaluate_span
        column = span.column + constraint.evaluate_shift + exc.offset
        problem = Problem(Severity.ERROR, f"evaluate: {exc.message}", filename, span.line, column, span.path)
        raise ConfigError([problem]) from None


def when_mismatch(when: When, facts: Facts, filename: str, *, step: bool) -> str:
    """Why no alternative of `when` matches ("" when one does, or none is written)."""
    if not when.constraints:
        return ""
    reasons = []
    for constraint in when.constraints:
        reason = mismatch(constraint, facts, filename, step=step)
        if not reason:
            return ""
        reasons.append(reason)
    if len(reasons) == 1:
        return reasons[0]
    return "no `when` alternative matches (" + "; ".join(reasons) + ")"


def run_policy(when: When, facts: Facts, filename: str, *, step: bool) -> RunPolicy:
    """From `status` of the matching alternatives: success unless only `failure` is listed."""
    if not when.constraints:
        return RunPolicy.ON_SUCCESS
    matching = [c for c in when.constraints if not mismatch(c, facts, filename, step=step)]
    on_success = any(not c.status or "success" in c.status for c in matching)
    on_failure = any("failure" in c.status for c in matching)
    if on_success and on_failure:
        return RunPolicy.ALWAYS
    if on_failure:
        return RunPolicy.ON_FAILURE
    return RunPolicy.ON_SUCCESS if on_success else RunPolicy.NEVER
