"""`when` and `trigger` conditions with Drone's include/exclude glob semantics, plus `paths` that work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from pipelines.globs import glob_match

CONDITION_KEYS = ("action", "branch", "cron", "event", "instance", "paths", "ref", "repo", "status", "target")
EVENTS = ("push", "pull_request", "tag", "promote", "rollback", "cron", "custom")
STATUSES = ("success", "failure")


@dataclass(frozen=True, slots=True)
class Condition:
    """Include and exclude glob patterns over one value; an empty condition matches everything."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    on_empty: bool = True

    @property
    def is_empty(self) -> bool:
        """True when the condition was not written at all."""
        return not self.include and not self.exclude

    def match(self, value: str) -> bool:
        """Drone's rule: any exclude match fails; else any include match passes; else pass if no includes."""
        if any(glob_match(pattern, value) for pattern in self.exclude):
            return False
        if any(glob_match(pattern, value) for pattern in self.include):
            return True
        return not self.include

    def match_files(self, files: Sequence[str] | None) -> bool:
        """For `paths`: true if any changed file is included and not excluded (unknown changes match)."""
        if self.is_empty or files is None:
            return True
        if not files:
            return self.on_empty
        return any(self.match(path) for path in files)


@dataclass(frozen=True, slots=True)
class Facts:
    """What a build is, as the conditions see it."""

    event: str = "push"
    branch: str = ""
    ref: str = ""
    repo: str = ""
    target: str = ""
    cron: str = ""
    instance: str = ""
    action: str = ""
    changed_files: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Conditions:
    """A `when:` or `trigger:` block: every written condition must match (they are ANDed)."""

    action: Condition = field(default_factory=Condition)
    branch: Condition = field(default_factory=Condition)
    cron: Condition = field(default_factory=Condition)
    event: Condition = field(default_factory=Condition)
    instance: Condition = field(default_factory=Condition)
    paths: Condition = field(default_factory=Condition)
    ref: Condition = field(default_factory=Condition)
    repo: Condition = field(default_factory=Condition)
    status: Condition = field(default_factory=Condition)
    target: Condition = field(default_factory=Condition)

    def match(self, facts: Facts) -> bool:
        """True if the build described by facts satisfies every condition except `status` (decided later)."""
        return (
            self.event.match(facts.event)
            and self.branch.match(facts.branch)
            and self.ref.match(facts.ref)
            and self.repo.match(facts.repo)
            and self.target.match(facts.target)
            and self.cron.match(facts.cron)
            and self.instance.match(facts.instance)
            and self.action.match(facts.action)
            and self.paths.match_files(facts.changed_files)
        )

    def mismatch(self, facts: Facts) -> str:
        """Which condition rejects the build, as a sentence for people ('' when all match)."""
        values = {
            "event": facts.event,
            "branch": facts.branch,
            "ref": facts.ref,
            "repo": facts.repo,
            "target": facts.target,
            "cron": facts.cron,
            "instance": facts.instance,
            "action": facts.action,
        }
        for name, value in values.items():
            if not getattr(self, name).match(value):
                return f"{name} {value!r} does not match"
        if not self.paths.match_files(facts.changed_files):
            return "no changed file matches `paths`"
        return ""

    def run_policy(self) -> str:
        """`on_success`, `on_failure`, `always` or `never`, from the `status` condition."""
        if self.status.is_empty:
            return "on_success"
        on_success = self.status.match("success")
        on_failure = self.status.match("failure")
        if on_success and on_failure:
            return "always"
        if on_failure:
            return "on_failure"
        return "on_success" if on_success else "never"

    def written(self) -> list[str]:
        """Names of the conditions that were written."""
        return [f.name for f in fields(self) if not getattr(self, f.name).is_empty]
