"""`hangar cron ls|add|info|update|rm|exec`: a repository's cron schedules."""

from __future__ import annotations

import click

from server.client.builds import show_build
from server.client.cli import Api, changes_given, client_group, repo_argument, with_api
from server.client.http import repo_path
from server.client.output import Column, field, when

cron_group = client_group("cron", "Cron schedules: list, add, change, remove them, or build one now.")

COLUMNS: list[Column] = [
    ("name", field("name")),
    ("expression", field("expr")),
    ("branch", lambda cron: str(cron.get("branch") or "(default)")),
    ("disabled", field("disabled")),
    ("next", lambda cron: "" if cron.get("disabled") else when(cron.get("next"))),
    ("previous", lambda cron: when(cron.get("prev"))),
]
name_argument = click.argument("name")


@cron_group.command("ls")
@repo_argument
@with_api
def list_crons(api: Api, slug: str) -> None:
    """A repository's crons, with when each is due next."""
    api.out.rows(api.client.get(repo_path(slug, "cron")), COLUMNS, empty=f"{slug} has no crons")


@cron_group.command("info")
@repo_argument
@name_argument
@with_api
def show_cron(api: Api, slug: str, name: str) -> None:
    """One cron."""
    api.out.record(api.client.get(repo_path(slug, "cron", name)), COLUMNS)


@cron_group.command("add")
@repo_argument
@name_argument
@click.argument("expr", metavar="SCHEDULE")
@click.option("--branch", default="", help="The branch to build (default: the repository's default branch).")
@click.option("--disabled", is_flag=True, help="Add it switched off.")
@with_api
def add_cron(api: Api, slug: str, name: str, expr: str, branch: str, disabled: bool) -> None:
    """Add a cron (administrators).

    SCHEDULE: five fields ("0 3 * * *"), Drone's six (seconds first), or @hourly, @daily and the like.
    """
    body = {"name": name, "expr": expr, "branch": branch, "disabled": disabled}
    api.out.record(api.client.call("POST", repo_path(slug, "cron"), body=body), COLUMNS)


@cron_group.command("update")
@repo_argument
@name_argument
@click.option("--schedule", "expr", default=None, help="A new expression (due from now).")
@click.option("--branch", default=None, help="A new branch ('' for the default branch).")
@click.option("--disable/--enable", "disabled", default=None, help="Switch it off or on.")
@with_api
def update_cron(
    api: Api, slug: str, name: str, expr: str | None, branch: str | None, disabled: bool | None
) -> None:
    """Change a cron (administrators): only the options given."""
    changes = {"expr": expr, "branch": branch, "disabled": disabled}
    body = changes_given(changes, "--schedule, --branch, --disable or --enable")
    api.out.record(api.client.call("PATCH", repo_path(slug, "cron", name), body=body), COLUMNS)


@cron_group.command("rm")
@repo_argument
@name_argument
@with_api
def remove_cron(api: Api, slug: str, name: str) -> None:
    """Delete a cron (administrators)."""
    api.client.call("DELETE", repo_path(slug, "cron", name))
    api.out.note(f"removed cron {name} of {slug}")


@cron_group.command("exec")
@repo_argument
@name_argument
@with_api
def run_cron(api: Api, slug: str, name: str) -> None:
    """Build the cron now (its schedule stays as it is)."""
    show_build(api, api.client.call("POST", repo_path(slug, "cron", name)))
