"""`hangar build ls|info|logs|create|restart|cancel|promote|rollback|approve|decline`: a repository's
builds."""

from __future__ import annotations

from typing import Any

import click

from server.client.cli import Api, client_group, parameters_option, repo_argument, with_api
from server.client.http import repo_path
from server.client.logs import logs_command
from server.client.output import Column, Row, duration, field, first_line, table, text, when

build_group = client_group(
    "build", "Builds: list and show them, read their logs, start, stop and approve them."
)
build_group.add_command(logs_command)

COLUMNS: list[Column] = [
    ("#", field("number")),
    ("status", field("status")),
    (
        "event",
        lambda build: " → ".join(text(build.get(key)) for key in ("event", "deploy_to") if build.get(key)),
    ),
    ("branch", field("branch")),
    ("commit", lambda build: text(build.get("sha"))[:8]),
    ("by", lambda build: text(build.get("sender") or build.get("author_login"))),
    ("message", first_line("message", 50)),
    ("started", lambda build: when(build.get("started"))),
    ("took", duration),
]
DETAILS: list[Column] = [
    ("number", field("number")),
    ("status", field("status")),
    ("error", field("error")),
    ("event", field("event")),
    ("ref", field("ref")),
    ("commit", field("sha")),
    ("target", field("deploy_to")),
    ("parameters", field("parameters")),
    ("parent", lambda build: text(build.get("parent") or "")),
    ("cron", field("cron")),
    ("sender", field("sender")),
    ("author", lambda build: f"{text(build.get('author_name'))} <{text(build.get('author_email'))}>"),
    ("message", first_line("message", 100)),
    ("created", lambda build: when(build.get("created"))),
    ("started", lambda build: when(build.get("started"))),
    ("finished", lambda build: when(build.get("finished"))),
    ("took", duration),
]
STEP_COLUMNS: list[Column] = [
    ("stage", lambda step: f"{step['stage_number']} {step['stage_name']}"),
    ("step", lambda step: f"{step['number']} {step['name']}"),
    ("status", field("status")),
    ("exit", lambda step: text(step.get("exit_code")) if step.get("finished") else ""),
    ("took", duration),
    ("error", field("error")),
]
number_argument = click.argument("number", type=click.IntRange(min=1))


def show_build(api: Api, build: Row) -> None:
    """A build: its fields, then its stages' steps (JSON: the build as the server gave it)."""
    shown = [(label, read) for label, read in DETAILS if read(build)]
    api.out.record(build, shown)
    steps = [
        step | {"stage_number": stage["number"], "stage_name": stage["name"]}
        for stage in build.get("stages", [])
        for step in stage.get("steps", [])
    ]
    if steps:
        api.out.print(table(steps, STEP_COLUMNS))
    for stage in build.get("stages", []):
        if stage.get("error"):
            api.out.print(f"stage {stage['number']} {stage['name']}: {stage['error']}")


@build_group.command("ls")
@repo_argument
@click.option("--limit", type=click.IntRange(1, 100), default=25, show_default=True)
@click.option("--before", type=click.IntRange(min=1), help="Builds older than this number.")
@click.option("--branch", default="", help="Only this branch's builds.")
@with_api
def list_builds(api: Api, slug: str, limit: int, before: int | None, branch: str) -> None:
    """A repository's builds, newest first."""
    query = {"limit": limit, "before": before or "", "branch": branch}
    builds = api.client.get(
        repo_path(slug, "builds"), **{key: value for key, value in query.items() if value}
    )
    api.out.rows(builds, COLUMNS, empty=f"{slug} has no builds")


@build_group.command("info")
@repo_argument
@number_argument
@with_api
def show(api: Api, slug: str, number: int) -> None:
    """A build with its stages and steps."""
    show_build(api, api.client.get(repo_path(slug, "builds", number)))


@build_group.command("create")
@repo_argument
@click.option("--branch", default="", help="The branch to build (default: the repository's default branch).")
@click.option("--commit", default="", help="A commit of the branch (default: its head).")
@parameters_option("branch", "commit")
@with_api
def create(api: Api, slug: str, branch: str, commit: str, parameters: dict[str, str]) -> None:
    """Start a custom build of a branch, with parameters."""
    given = {key: value for key, value in (("branch", branch), ("commit", commit)) if value}
    _post(api, repo_path(slug, "builds"), given | parameters)


@build_group.command("restart")
@repo_argument
@number_argument
@click.option("--stage", type=click.IntRange(min=1), help="Only this finished stage and those after it.")
@with_api
def restart(api: Api, slug: str, number: int, stage: int | None) -> None:
    """Build the same commit again (a new build), or run one stage again in place (--stage)."""
    _post(api, repo_path(slug, "builds", number), {"stage": stage} if stage else {})


@build_group.command("cancel")
@repo_argument
@number_argument
@with_api
def cancel(api: Api, slug: str, number: int) -> None:
    """Stop a build: running steps are killed, pending ones skipped."""
    api.client.call("DELETE", repo_path(slug, "builds", number))
    show_build(api, api.client.get(repo_path(slug, "builds", number)))  # the answer may predate the cancel


def _deployment(event: str, summary: str) -> click.Command:
    @repo_argument
    @number_argument
    @click.argument("target")
    @parameters_option("target")
    @with_api
    def deploy(api: Api, slug: str, number: int, target: str, parameters: dict[str, str]) -> None:
        _post(api, repo_path(slug, "builds", number, event), {"target": target} | parameters)

    return click.command(event, help=summary)(deploy)


def _decision(verb: str, summary: str) -> click.Command:
    @repo_argument
    @number_argument
    @with_api
    def decide(api: Api, slug: str, number: int) -> None:
        _post(api, repo_path(slug, "builds", number, verb), {})

    return click.command(verb, help=summary)(decide)


build_group.add_command(_deployment("promote", "Promote a build to TARGET: a new build of its commit."))
build_group.add_command(_deployment("rollback", "Roll back TARGET to a build: a new build of its commit."))
build_group.add_command(_decision("approve", "Let a blocked build run."))
build_group.add_command(_decision("decline", "End a blocked build without running it."))


def _post(api: Api, path: str, query: dict[str, Any]) -> None:
    show_build(api, api.client.call("POST", path, params=query))
