"""A commit's Woodpecker workflow files -> the build's Plans: each file read for each matrix combination
(`${VAR}` substituted with the `CI_*` variables and the axis), linted, filtered by its `when`, ordered by
`depends_on` between workflows (a workflow whose required dependency does not run does not run either)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines import plan as wire
from pipelines.compiler import Compilation, SkippedStage
from pipelines.errors import ConfigError, Problem, Severity, errors_in
from pipelines.substitute import SubstitutionError, substitute
from pipelines.woodpecker.compile import Stage, compile_workflow, platform_of
from pipelines.woodpecker.conditions import Facts, run_policy, when_mismatch
from pipelines.woodpecker.environ import host_of, woodpecker_environ, woodpecker_event
from pipelines.woodpecker.files import WorkflowFile
from pipelines.woodpecker.lint import lint_workflow
from pipelines.woodpecker.matrix import axis_label, read_matrix
from pipelines.woodpecker.model import Axis, Workflow
from pipelines.woodpecker.parse import read_workflow
from pipelines.woodpecker.values import splice_sequences
from pipelines.yamltree import Node, Reader, load_documents


@dataclass(slots=True)
class _Item:
    """One workflow of the build: a file read for one matrix combination."""

    workflow: Workflow
    stage_name: str
    environ: dict[str, str]
    facts: Facts


def read_workflows(
    files: Sequence[WorkflowFile], context: wire.BuildContext, problems: list[Problem]
) -> list[_Item]:
    """Every workflow combination of the files, linted; problems are appended to `problems`."""
    items: list[_Item] = []
    seen: dict[str, str] = {}
    for file in sorted(files, key=lambda f: f.workflow):
        name = file.workflow
        if name in seen:
            message = f"workflow {name!r} is defined twice ({seen[name]} and {file.path})"
            problems.append(Problem(Severity.ERROR, message, file.path, 1, 1, hint="keep one of the files"))
            continue
        seen[name] = file.path
        try:
            documents = load_documents(file.text, file.path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if not documents:
            problems.append(Problem(Severity.ERROR, "the file has no workflow in it", file.path, 1, 1))
            continue
        if len(documents) > 1:
            mark = documents[1].start_mark
            message = "a Woodpecker workflow file holds one YAML document"
            hint = "put each workflow in its own file in .woodpecker/"
            problems.append(
                Problem(Severity.ERROR, message, file.path, mark.line + 1, mark.column + 1, hint=hint)
            )
        root = documents[0]
        splice_sequences(root)
        axes: list[Axis] = read_matrix(Reader(file.path, problems), root) or [{}]
        for axis in axes:
            item = _read_item(file, root, name, axis, context, len(items) + 1, problems)
            if item is not None:
                items.append(item)
    return items


def _read_item(
    file: WorkflowFile, root: Node, name: str, axis: Axis, context: wire.BuildContext, number: int,
    problems: list[Problem],
) -> _Item | None:  # fmt: skip
    environ = {**woodpecker_environ(context, name, number), **axis}

    def substitute_string(value: str) -> str:
        try:
            return substitute(value, environ.get)
        except SubstitutionError as exc:
            raise ValueError(f"bad substitution: {exc.reason}") from None

    found: list[Problem] = []
    workflow = read_workflow(root, file.path, name, axis, found, substitute_string)
    if workflow is not None:
        found.extend(lint_workflow(workflow, file.text, trusted=context.trusted))
    known = {(p.line, p.column, p.message) for p in problems}
    problems.extend(p for p in found if (p.line, p.column, p.message) not in known)
    if workflow is None:
        return None
    platform = platform_of(workflow)
    facts = Facts(
        event=woodpecker_event(context), branch=context.branch, ref=context.ref, repo=context.repo.slug,
        instance=host_of(context.server_url), platform=f"{platform.os}/{platform.arch}", cron=context.cron,
        message=context.message,
        changed_files=tuple(context.changed_files) if context.changed_files is not None else None,
        axis=axis, env=environ,
    )  # fmt: skip
    stage_name = f"{name} ({axis_label(axis)})" if axis else name
    return _Item(workflow, stage_name, environ, facts)


def lint_workflows(files: Sequence[WorkflowFile], context: wire.BuildContext) -> list[Problem]:
    """Every problem of the files (for each matrix combination, each problem once), in file order."""
    problems: list[Problem] = []
    read_workflows(files, context, problems)
    return sorted(problems, key=lambda p: (p.file, p.line, p.column, p.severity != Severity.ERROR))


def compile_workflows(files: Sequence[WorkflowFile], context: wire.BuildContext) -> Compilation:
    """The build's Plans, one per workflow combination that runs; raises ConfigError on any error."""
    problems: list[Problem] = []
    items = read_workflows(files, context, problems)
    if errors_in(problems):
        raise ConfigError(sorted(problems, key=lambda p: (p.file, p.line, p.column)))
    compilation = Compilation(warnings=problems, workflows=True)
    kept: list[_Item] = []
    for item in items:
        reason = when_mismatch(item.workflow.when, item.facts, item.workflow.file, step=False)
        if reason:
            compilation.skipped.append(SkippedStage(item.stage_name, f"when: {reason}"))
        else:
            kept.append(item)
    kept = _with_dependencies(kept, compilation)
    stages_of: dict[str, list[str]] = {}
    for item in kept:
        stages_of.setdefault(item.workflow.name, []).append(item.stage_name)
    for number, item in enumerate(kept, start=1):
        depends_on = [stage for dep in item.workflow.depends_on for stage in stages_of.get(dep.name, [])]
        stage = Stage(number, item.stage_name, depends_on, _stage_policy(item))
        item.environ["CI_WORKFLOW_NUMBER"] = str(number)
        compilation.plans.append(compile_workflow(item.workflow, stage, context, item.environ, item.facts))
    return compilation


def _with_dependencies(items: list[_Item], compilation: Compilation) -> list[_Item]:
    """Drop, until none is left to drop, the workflows a required dependency of which does not run."""
    while True:
        names = {item.workflow.name for item in items}
        dropped = [
            (item, dep.name)
            for item in items
            for dep in item.workflow.depends_on
            if not dep.optional and dep.name not in names
        ]
        if not dropped:
            return items
        gone = {id(item) for item, _ in dropped}
        for item, dependency in dropped:
            if not any(s.name == item.stage_name for s in compilation.skipped):
                reason = f"depends on workflow {dependency!r}, which does not run in this build"
                compilation.skipped.append(SkippedStage(item.stage_name, reason))
        items = [item for item in items if id(item) not in gone]


def _stage_policy(item: _Item) -> wire.RunPolicy:
    """`runs_on` (deprecated), else the `status` of the workflow's matching `when` alternatives."""
    runs_on = set(item.workflow.runs_on)
    if runs_on:
        if {"success", "failure"} <= runs_on:
            return wire.RunPolicy.ALWAYS
        return wire.RunPolicy.ON_FAILURE if "failure" in runs_on else wire.RunPolicy.ON_SUCCESS
    policy = run_policy(item.workflow.when, item.facts, item.workflow.file, step=False)
    return wire.RunPolicy.ON_SUCCESS if policy == wire.RunPolicy.NEVER else policy
