"""`hangar secret ls|add|update|rm`: a repository's secrets (administrators); values go in, never out."""

from __future__ import annotations

from typing import Any

import click

from server.client.cli import Api, changes_given, client_group, repo_argument, with_api
from server.client.http import repo_path
from server.client.output import Column, field, when

secret_group = client_group("secret", "Secrets: list, add, change and remove them (administrators).")

COLUMNS: list[Column] = [
    ("name", field("name")),
    ("pull requests", field("pull_request")),
    ("created", lambda secret: when(secret.get("created"))),
]
name_argument = click.argument("name")
value_option = click.option("--value", default=None, help="The value (it shows in your shell's history).")
file_option = click.option(
    "--from-file",
    type=click.File("r"),
    default=None,
    help="Read the value from a file ('-': standard input).",
)


def read_value(value: str | None, source: Any) -> str | None:
    """The value given with --value or --from-file (None when neither); UsageError when both."""
    if value is not None and source is not None:
        raise click.UsageError("give --value or --from-file, not both")
    return source.read() if source is not None else value


@secret_group.command("ls")
@repo_argument
@with_api
def list_secrets(api: Api, slug: str) -> None:
    """A repository's secrets, by name."""
    api.out.rows(api.client.get(repo_path(slug, "secrets")), COLUMNS, empty=f"{slug} has no secrets")


@secret_group.command("add")
@repo_argument
@name_argument
@value_option
@file_option
@click.option("--pull-request", is_flag=True, help="Pull requests get it too (they may come from forks).")
@with_api
def add_secret(api: Api, slug: str, name: str, value: str | None, from_file: Any, pull_request: bool) -> None:
    """Add a secret, from --value or --from-file."""
    text = read_value(value, from_file)
    if not text:
        raise click.UsageError("a secret needs a value: --value TEXT or --from-file PATH")
    body = {"name": name, "value": text, "pull_request": pull_request}
    api.out.record(api.client.call("POST", repo_path(slug, "secrets"), body=body), COLUMNS)


@secret_group.command("update")
@repo_argument
@name_argument
@value_option
@file_option
@click.option("--pull-request/--no-pull-request", default=None, help="Whether pull requests get it.")
@with_api
def update_secret(
    api: Api, slug: str, name: str, value: str | None, from_file: Any, pull_request: bool | None
) -> None:
    """Replace a secret's value or pull-request flag."""
    changes = {"value": read_value(value, from_file), "pull_request": pull_request}
    body = changes_given(changes, "--value, --from-file or --[no-]pull-request")
    api.out.record(api.client.call("PATCH", repo_path(slug, "secrets", name), body=body), COLUMNS)


@secret_group.command("rm")
@repo_argument
@name_argument
@with_api
def remove_secret(api: Api, slug: str, name: str) -> None:
    """Delete a secret."""
    api.client.call("DELETE", repo_path(slug, "secrets", name))
    api.out.note(f"removed secret {name} of {slug}")
