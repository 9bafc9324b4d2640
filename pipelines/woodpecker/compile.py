"""One Woodpecker workflow (one matrix combination) -> the Plan the runner already runs."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipelines import plan as wire
from pipelines.compiler import PRIVILEGED_PLUGINS, expand_image
from pipelines.environ import build_environ, stage_environ, step_environ
from pipelines.errors import ConfigError, Problem, Severity
from pipelines.lint import CLONE_STEP
from pipelines.model import SecretRef
from pipelines.script import SHELL_ENTRYPOINT, shell_script
from pipelines.woodpecker.conditions import Facts, run_policy, when_mismatch
from pipelines.woodpecker.lint import GIT_PLUGINS, image_is
from pipelines.woodpecker.model import Container, Workflow

DEFAULT_WORKSPACE_BASE = "/woodpecker"
PRIVILEGED = (*PRIVILEGED_PLUGINS, "woodpeckerci/plugin-docker-buildx")
_NATIVE_CLONE_SETTINGS = frozenset({"depth", "partial", "tags", "lfs", "skip_verify", "recursive"})
_FAILURES = {"ignore": "ignore", "cancel": "fast"}


@dataclass(frozen=True, slots=True)
class Stage:
    """Where the workflow stands among the build's: its number, name (with its matrix combination) and the
    names of the stages it waits for."""

    number: int
    name: str
    depends_on: list[str]
    run_policy: wire.RunPolicy


def workspace_of(workflow: Workflow, context: wire.BuildContext) -> wire.Workspace:
    """`/woodpecker/src/<forge host>/<owner>/<name>` unless the file says otherwise."""
    base = posixpath.normpath(workflow.workspace_base) if workflow.workspace_base else DEFAULT_WORKSPACE_BASE
    if workflow.workspace_path:
        path = posixpath.normpath(workflow.workspace_path)
    else:
        link = urlsplit(context.repo.link)
        path = posixpath.join("src", link.hostname or "", link.path.strip("/")) if link.hostname else "src"
    return wire.Workspace(base=base, path=path, full=posixpath.join(base, path))


def platform_of(workflow: Workflow) -> wire.Platform:
    """The `platform` label (`linux/arm64`), else linux/amd64."""
    parts = (workflow.labels.get("platform") or "linux/amd64").split("/")
    return wire.Platform(
        os=parts[0], arch=parts[1] if len(parts) > 1 else "amd64", variant="/".join(parts[2:])
    )


def compile_workflow(
    workflow: Workflow, stage: Stage, context: wire.BuildContext, environ: Mapping[str, str], facts: Facts
) -> wire.Plan:
    """The workflow's Plan; `environ` are its `CI_*` variables (with the matrix axis), `facts` what its
    steps' `when` see. Raises ConfigError when a step depends on one its `when` leaves out."""
    workspace = workspace_of(workflow, context)
    platform = platform_of(workflow)
    labels = {k: v for k, v in workflow.labels.items() if k not in ("platform", "backend") and v}
    system = {
        **build_environ(context),
        **stage_environ(stage.number, stage.name, platform, workspace, stage.depends_on),
        **{k: v for k, v in environ.items() if k not in workflow.axis},
        "CI_WORKSPACE": workspace.full,
    }
    clone, custom_clones = _clone_of(workflow, context)
    services = [s for s in workflow.services if _runs(s, workflow, facts)]
    steps = [s for s in workflow.steps if _runs(s, workflow, facts)]
    edges = _edges(workflow, clone, custom_clones, services, steps)
    containers: list[wire.StepPlan] = []
    volumes: dict[str, wire.VolumePlan] = {}
    if not clone.disable:
        env = {**system, **step_environ(1, CLONE_STEP), "CI_STEP_NAME": CLONE_STEP, "CI_STEP_NUMBER": "1"}
        containers.append(
            wire.StepPlan(
                number=1,
                name=CLONE_STEP,
                kind=wire.StepKind.CLONE,
                working_dir=workspace.full,
                environment=env,
            )
        )
    for container, kind in [
        *((c, wire.StepKind.STEP) for c in custom_clones),
        *((s, wire.StepKind.SERVICE) for s in services),
        *((s, wire.StepKind.STEP) for s in steps),
    ]:
        number = len(containers) + 1
        policy = run_policy(container.when, facts, workflow.file, step=True)
        mounts = _volumes(container)
        for _, volume in mounts:
            volumes.setdefault(volume.name, volume)
        plan = _container_plan(
            container, kind, number, system, workflow, workspace, policy, edges[container.name]
        )
        containers.append(plan.model_copy(update={"volumes": [mount for mount, _ in mounts]}))
    referenced = sorted({secret.secret for step in containers for secret in step.secrets})
    return wire.Plan(
        stage=wire.Stage(
            number=stage.number,
            name=stage.name,
            depends_on=stage.depends_on,
            run_policy=stage.run_policy,
            platform=platform,
            labels=labels,
            concurrency_limit=workflow.concurrency_limit,
        ),
        workspace=workspace,
        clone=clone.model_copy(
            update={"remote_url": context.repo.remote_url, "ref": context.ref, "sha": context.sha}
        ),
        volumes=list(volumes.values()),
        steps=containers,
        secrets=referenced,
    )


def _runs(container: Container, workflow: Workflow, facts: Facts) -> bool:
    if when_mismatch(container.when, facts, workflow.file, step=True):
        return False
    return run_policy(container.when, facts, workflow.file, step=True) != wire.RunPolicy.NEVER


def _clone_of(workflow: Workflow, context: wire.BuildContext) -> tuple[wire.ClonePlan, list[Container]]:
    """The runner's own clone (the default, or a git plugin it can stand in for) and the clone steps that
    run as containers."""
    if workflow.skip_clone:
        return wire.ClonePlan(disable=True), []
    if not workflow.clone:
        return wire.ClonePlan(), []
    first, *rest = workflow.clone
    native = image_is(first.image, *GIT_PLUGINS) and not first.commands and not first.entrypoint
    if native and set(first.settings) <= _NATIVE_CLONE_SETTINGS:
        depth = first.settings.get("depth", "0")
        if first.settings.get("partial") == "true":
            depth = "1"
        skip_verify = first.settings.get("skip_verify") == "true"
        depth_value = int(depth) if isinstance(depth, str) and depth.isdigit() else 0
        return wire.ClonePlan(depth=depth_value, skip_verify=skip_verify), list(rest)
    return wire.ClonePlan(disable=True), list(workflow.clone)


def _edges(
    workflow: Workflow,
    clone: wire.ClonePlan,
    clones: list[Container],
    services: list[Container],
    steps: list[Container],
) -> dict[str, list[str]]:
    """Clone, then clone steps, then services (started together), then steps: in order, or (when a step has
    `depends_on`) as the DAG it writes, steps without dependencies starting once the services are up."""
    edges: dict[str, list[str]] = {}
    previous = [] if clone.disable else [CLONE_STEP]
    for container in clones:
        edges[container.name] = list(previous)
        previous = [container.name]
    for service in services:
        edges[service.name] = list(previous)
    ready = [*previous, *(s.name for s in services)]
    if not any(step.depends_on is not None for step in workflow.steps):
        for step in steps:
            edges[step.name] = list(ready)
            ready = [step.name]
        return edges
    kept = {step.name for step in steps}
    for step in steps:
        deps: list[str] = []
        for dependency in step.depends_on or []:
            if dependency.name in kept:
                deps.append(dependency.name)
            elif not dependency.optional:
                span = step.span("depends_on")
                message = (
                    f"step {step.name!r} depends on {dependency.name!r},"
                    " which its `when` leaves out of this build"
                )
                hint = f"make it optional: depends_on: [{{name: {dependency.name}, optional: true}}]"
                raise ConfigError(
                    [Problem(Severity.ERROR, message, workflow.file, span.line, span.column, span.path, hint)]
                )
        edges[step.name] = deps or list(ready)
    return edges


def _container_plan(
    container: Container,
    kind: wire.StepKind,
    number: int,
    system: Mapping[str, str],
    workflow: Workflow,
    workspace: wire.Workspace,
    policy: wire.RunPolicy,
    depends_on: list[str],
) -> wire.StepPlan:
    environment = {
        **system,
        **step_environ(number, container.name),
        "CI_STEP_NAME": container.name,
        "CI_STEP_NUMBER": str(number),
    }
    if not container.is_plugin:
        environment.update(workflow.axis)
    secrets: dict[str, str] = dict(container.secrets)
    for prefix, values in (("PLUGIN_", container.settings), ("", container.environment)):
        for key, value in values.items():
            name = prefix + key.upper().replace(".", "_").replace("-", "_") if prefix else key
            if isinstance(value, SecretRef):
                secrets[name] = value.name
                environment.pop(name, None)
            else:
                environment[name] = str(value)
                secrets.pop(name, None)
    entrypoint, command = list(container.entrypoint), []
    if container.commands:
        entrypoint, command = list(SHELL_ENTRYPOINT), [shell_script(container.commands)]
    directory = container.directory
    working_dir = (
        directory
        if directory.startswith("/")
        else posixpath.join(workspace.full, directory)
        if directory
        else workspace.full
    )
    privileged = container.privileged or (container.is_plugin and image_is(container.image, *PRIVILEGED))
    return wire.StepPlan(
        number=number,
        name=container.name,
        kind=kind,
        image=expand_image(container.image),
        pull="always" if container.pull else "default",
        entrypoint=entrypoint,
        command=command,
        working_dir=working_dir.rstrip("/") or "/",
        user=container.user,
        environment=environment,
        secrets=[wire.SecretEnv(env=k, secret=v) for k, v in sorted(secrets.items())],
        depends_on=depends_on,
        run_policy=policy,
        failure=_FAILURES.get(container.failure, "fail"),
        detach=container.detach or kind == wire.StepKind.SERVICE,
        privileged=privileged,
        network_mode=container.network_mode,
        dns=container.dns,
        dns_search=container.dns_search,
        extra_hosts=container.extra_hosts,
    )


def _volumes(container: Container) -> list[tuple[wire.Mount, wire.VolumePlan]]:
    """`/host/path:/in/container` (a host folder) or `name:/in/container` (a volume of this workflow)."""
    found = []
    for index, spec in enumerate(container.volumes):
        source, _, rest = spec.partition(":")
        target = rest.split(":", 1)[0] or source
        if source.startswith("/"):
            name = "host" + re.sub(r"[^A-Za-z0-9_.-]+", "-", source)
            volume = wire.VolumePlan(name=name, kind="host", host_path=source)
        else:
            name = source or f"volume-{index}"
            volume = wire.VolumePlan(name=name, kind="temp")
        found.append((wire.Mount(name=name, path=target), volume))
    return found
