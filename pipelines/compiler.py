"""Compile: a pipeline file and a build context -> one runnable Plan per stage. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipelines import plan as wire
from pipelines.conditions import Facts
from pipelines.environ import build_environ, stage_environ, step_environ
from pipelines.errors import ConfigError, Problem, Severity, errors_in
from pipelines.lint import CLONE_STEP, lint
from pipelines.model import Manifest, Pipeline, SecretRef, Span, Step
from pipelines.parse import parse
from pipelines.plugin_settings import settings_environ
from pipelines.script import SHELL_ENTRYPOINT, shell_script
from pipelines.substitute import SubstitutionError, substitute

# Step settings the Plan carries exactly as written.
_CONTAINER_SETTINGS = (
    "user", "network_mode", "dns", "dns_search", "extra_hosts", "shm_size", "mem_limit", "memswap_limit",
    "cpu_period", "cpu_quota", "cpu_shares", "cpuset", "reports", "artifacts",
)  # fmt: skip
PRIVILEGED_PLUGINS = ("plugins/docker", "plugins/acr", "plugins/ecr", "plugins/gcr", "plugins/heroku")


@dataclass(frozen=True, slots=True)
class SkippedStage:
    """A pipeline of the file that this build does not run, and why."""

    name: str
    reason: str


@dataclass(slots=True)
class Compilation:
    """The Plans of one build, the stages its triggers left out, and warnings worth showing."""

    plans: list[wire.Plan] = field(default_factory=list)
    skipped: list[SkippedStage] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    workflows: bool = False
    """Woodpecker workflows: each stage reports its own commit status, and the skipped ones are shown."""


def compile_file(text: str, context: wire.BuildContext, filename: str = ".ci.yml") -> Compilation:
    """Parse, substitute `${VAR}`s, lint and compile; raises ConfigError when the file has errors."""
    environ = build_environ(context)

    def substitute_string(value: str) -> str:
        try:
            return substitute(value, environ.get)
        except SubstitutionError as exc:
            raise ValueError(f"bad substitution: {exc.reason}") from None

    manifest = parse(text, filename, substitute=substitute_string)
    problems = lint(manifest, trusted=context.trusted)
    if errors_in(problems):
        raise ConfigError(problems)
    compilation = compile_manifest(manifest, context, environ)
    compilation.warnings[:0] = problems
    return compilation


def compile_manifest(
    manifest: Manifest, context: wire.BuildContext, environ: Mapping[str, str] | None = None
) -> Compilation:
    """Plans for the stages whose `trigger` matches the build (the manifest must lint clean)."""
    environ = environ if environ is not None else build_environ(context)
    facts = facts_of(context)
    compilation = Compilation()
    included: list[Pipeline] = []
    for pipeline in manifest.pipelines:
        reason = pipeline.trigger.mismatch(facts)
        if not reason and pipeline.trigger.run_policy() == "never":
            reason = "its trigger status matches neither success nor failure"
        if reason:
            compilation.skipped.append(SkippedStage(pipeline.name, f"trigger: {reason}"))
        else:
            included.append(pipeline)
    names = {p.name for p in included}
    all_deps = {p.name: p.depends_on for p in manifest.pipelines}
    for number, pipeline in enumerate(included, start=1):
        depends_on = _kept_dependencies(pipeline.depends_on, names, all_deps)
        compilation.plans.append(_compile_stage(pipeline, number, depends_on, context, environ, facts))
    if context.secrets is not None:
        available = {*context.secrets, *(secret.name for secret in manifest.secrets)}
        compilation.warnings.extend(_missing_secrets(manifest.filename, included, available))
    return compilation


def facts_of(context: wire.BuildContext) -> Facts:
    """What the conditions see of a build."""
    changed = tuple(context.changed_files) if context.changed_files is not None else None
    return Facts(
        event=context.event,
        branch=context.branch,
        ref=context.ref,
        repo=context.repo.slug,
        target=context.deploy_to,
        cron=context.cron,
        instance=context.instance,
        action=context.action,
        changed_files=changed,
    )


def _compile_stage(
    pipeline: Pipeline,
    number: int,
    depends_on: list[str],
    context: wire.BuildContext,
    environ: Mapping[str, str],
    facts: Facts,
) -> wire.Plan:
    """One pipeline -> one Plan."""
    base, path, full = pipeline.workspace.resolve()
    workspace = wire.Workspace(base=base, path=path, full=full)
    source = pipeline.platform
    platform = wire.Platform(os=source.os, arch=source.arch, variant=source.variant, version=source.version)
    stage = wire.Stage(
        number=number,
        name=pipeline.name,
        depends_on=depends_on,
        run_policy=wire.RunPolicy(pipeline.trigger.run_policy()),
        platform=platform,
        labels=dict(pipeline.node),
        concurrency_limit=pipeline.concurrency_limit,
    )
    shared_env, shared_secrets = _split_environment(pipeline.environment)
    system_env = {**environ, **stage_environ(number, pipeline.name, platform, workspace, depends_on)}
    services = [s for s in pipeline.services if s.when.match(facts) and s.when.run_policy() != "never"]
    steps = [s for s in pipeline.steps if s.when.match(facts) and s.when.run_policy() != "never"]
    edges = _edges(pipeline, [*services, *steps])
    containers: list[wire.StepPlan] = []
    if not pipeline.clone.disable:
        containers.append(
            wire.StepPlan(
                number=1,
                name=CLONE_STEP,
                kind=wire.StepKind.CLONE,
                working_dir=full,
                environment={**shared_env, **system_env, **step_environ(1, CLONE_STEP)},
            )
        )
    for step in [*services, *steps]:
        step_number = len(containers) + 1
        environment = {**shared_env, **system_env, **step_environ(step_number, step.name)}
        secrets = dict(shared_secrets)
        for key, value in step.environment.items():
            if isinstance(value, SecretRef):
                secrets[key] = value.name
                environment.pop(key, None)
            else:
                environment[key] = value
                secrets.pop(key, None)
        plugin_env, plugin_secrets = settings_environ(step.settings)
        environment.update(plugin_env)
        secrets.update(plugin_secrets)
        containers.append(_step_plan(step, step_number, environment, secrets, edges.get(step.name, []), full))
    volumes = [
        wire.VolumePlan(
            name=v.name, kind="temp" if v.temp else "host", medium=v.medium, host_path=v.host_path
        )
        for v in pipeline.volumes
    ]
    referenced = sorted({s.secret for c in containers for s in c.secrets} | set(pipeline.image_pull_secrets))
    clone = wire.ClonePlan(
        disable=pipeline.clone.disable,
        depth=pipeline.clone.depth,
        retries=pipeline.clone.retries,
        skip_verify=pipeline.clone.skip_verify,
        trace=pipeline.clone.trace,
        remote_url=context.repo.remote_url,
        ref=context.ref,
        sha=context.sha,
    )
    return wire.Plan(
        stage=stage,
        workspace=workspace,
        clone=clone,
        volumes=volumes,
        steps=containers,
        secrets=referenced,
        image_pull_secrets=list(pipeline.image_pull_secrets),
        caches=[
            wire.CachePlan(key=item.key, paths=list(item.paths))
            for item in [*pipeline.caches, *(c for s in [*services, *steps] for c in s.caches)]
        ],
    )


def _step_plan(
    step: Step,
    number: int,
    environment: dict[str, str],
    secrets: dict[str, str],
    deps: list[str],
    workdir: str,
) -> wire.StepPlan:
    """The Plan entry of one step or service."""
    entrypoint, command = list(step.entrypoint or []), list(step.command or [])
    if step.commands:
        entrypoint, command = list(SHELL_ENTRYPOINT), [shell_script(step.commands)]
    failure = {"ignore": "ignore", "fast": "fast", "fast-fail": "fast", "fail-fast": "fast"}.get(
        step.failure, "fail"
    )
    pull = step.pull.lower()
    return wire.StepPlan(
        number=number,
        name=step.name,
        kind=wire.StepKind.SERVICE if step.is_service else wire.StepKind.STEP,
        image=expand_image(step.image),
        pull=pull if pull in ("always", "if-not-exists", "never") else "default",
        entrypoint=entrypoint,
        command=command,
        working_dir=step.working_dir or workdir,
        environment=environment,
        secrets=[wire.SecretEnv(env=k, secret=v) for k, v in sorted(secrets.items())],
        volumes=[wire.Mount(name=m.name, path=m.path) for m in step.volumes],
        depends_on=deps,
        run_policy=wire.RunPolicy(step.when.run_policy()),
        failure=failure,
        detach=step.detach or step.is_service,
        privileged=step.privileged or is_privileged_plugin(step),
        devices=[wire.DevicePlan(name=d.name, path=d.path) for d in step.devices],
        **{name: getattr(step, name) for name in _CONTAINER_SETTINGS},
    )


def _edges(pipeline: Pipeline, containers: list[Step]) -> dict[str, list[str]]:
    """Each kept container's dependencies, as Drone orders them: clone, services, steps.

    Without any `depends_on` that is one serial chain (services are detached, so they only start in
    order); otherwise the written DAG, where containers without dependencies wait for the clone and
    dependencies on left-out steps are bridged to what those depended on.
    """
    first = [] if pipeline.clone.disable else [CLONE_STEP]
    if not any(step.depends_on for step in pipeline.containers):
        edges: dict[str, list[str]] = {}
        previous = first
        for step in containers:
            edges[step.name] = list(previous)
            previous = [step.name]
        return edges
    kept = {step.name for step in containers} | set(first)
    written = {step.name: step.depends_on or first for step in pipeline.containers}
    return {step.name: _kept_dependencies(written[step.name], kept, written) for step in containers}


def _kept_dependencies(deps: Sequence[str], kept: set[str], graph: Mapping[str, Sequence[str]]) -> list[str]:
    """deps, with each left-out name replaced by what it depended on (transitively)."""
    result: list[str] = []
    pending = list(deps)
    seen: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if name in kept:
            result.append(name)
        else:
            pending.extend(graph.get(name, ()))
    return result


def _split_environment(environment: Mapping[str, str | SecretRef]) -> tuple[dict[str, str], dict[str, str]]:
    """(plain variables, variable -> secret name)."""
    plain = {k: v for k, v in environment.items() if isinstance(v, str)}
    secrets = {k: v.name for k, v in environment.items() if isinstance(v, SecretRef)}
    return plain, secrets


def is_privileged_plugin(step: Step) -> bool:
    """Drone runs its Docker-in-Docker plugins privileged when they are used as plain plugins."""
    if step.commands or step.command or step.entrypoint or step.volumes or step.is_service:
        return False
    return any(step.image == p or step.image.startswith((f"{p}:", f"{p}@")) for p in PRIVILEGED_PLUGINS)


def expand_image(image: str) -> str:
    """Docker's reference defaults: `busybox` -> `busybox:latest` (digests and explicit tags kept)."""
    if "@" in image:
        return image
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last else f"{image}:latest"


def _missing_secrets(filename: str, pipelines: list[Pipeline], known: set[str]) -> list[Problem]:
    """Warnings for secrets the file uses that neither the repository nor a `kind: secret` document has."""
    problems: list[Problem] = []
    for pipeline in pipelines:
        users: list[tuple[str, Span, list[object]]] = [
            (f"pipeline {pipeline.name!r}", pipeline.span("environment"), list(pipeline.environment.values()))
        ]
        users += [
            (f"step {s.name!r}", s.span(), [*s.environment.values(), *s.settings.values()])
            for s in pipeline.containers
        ]
        for who, span, values in users:
            for name in sorted({v.name for v in values if isinstance(v, SecretRef)} - known):
                message = f"{who} uses secret {name!r}, which this repository does not have"
                message += "; the variable will be empty"
                hint = "add it in the repository's settings"
                problems.append(
                    Problem(Severity.WARNING, message, filename, span.line, span.column, span.path, hint)
                )
    return problems
