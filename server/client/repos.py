"""`hangar repo ls|info|add|update|rm|caches|purge-caches`: the repositories Hangar builds, their settings and
shared caches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from server.client.cli import Api, changes_given, client_group, repo_argument, with_api
from server.client.http import api_path, repo_path
from server.client.output import Column, field, when

repo_group = client_group(
    "repo", "Repositories: list, show, register, change and remove them; list and purge their caches."
)

TEXT_SETTINGS = {
    "clone_url": "The address runners clone from.",
    "webhook_secret": "The secret the forge signs webhooks with (generated and shown once if not given).",
    "api_url": "The forge's API, for commit statuses (e.g. https://api.github.com).",
    "api_token": "The token commit statuses are sent with.",
    "clone_login": "The login for cloning a private repository.",
    "clone_password": "The password (or token) for cloning a private repository.",
    "config_path": "The pipeline file ('' for .ci.yml, else .drone.yml).",
    "default_branch": "The branch custom builds and crons build by default.",
    "link": "The repository's web page.",
}
CHOICE_SETTINGS = {
    "forge": (("github", "gitea", "gitlab"), "The forge sending webhooks."),
    "email_policy": (("failure", "change", "always", "never"), "When email is sent."),
    "approval": (("none", "forks", "pull_requests", "all"), "Which forge builds wait for approval."),
}
FLAG_SETTINGS = {
    "trusted": "Steps may be privileged and mount host volumes.",
    "private": "Only signed-in users see it.",
    "protected": "A pipeline file not signed with `hangar sign` waits for approval.",
    "cache_auto": "Runners keep the tools' caches of the lockfiles they recognise, with no `cache:` section.",
}
COLUMNS: list[Column] = [
    ("repository", field("slug")),
    ("forge", field("forge")),
    ("default branch", field("default_branch")),
    ("private", field("private")),
    ("builds", field("counter")),
]


def _flag(name: str) -> str:
    return name.replace("_", "-")


def settings_options(command: Callable[..., None]) -> Callable[..., None]:
    """An option per repository setting; those not given are not sent (the server keeps or defaults them)."""
    options = [
        click.option(f"--{_flag(name)}", name, default=None, help=meaning)
        for name, meaning in TEXT_SETTINGS.items()
    ]
    options += [
        click.option(f"--{_flag(name)}", name, type=click.Choice(choices), help=meaning)
        for name, (choices, meaning) in CHOICE_SETTINGS.items()
    ]
    options += [
        click.option(f"--{_flag(name)}/--no-{_flag(name)}", name, default=None, help=meaning)
        for name, meaning in FLAG_SETTINGS.items()
    ]
    options += [
        click.option(
            "--email-recipients",
            metavar="ADDRESS,…",
            callback=addresses,
            help="Who else gets email ('' for nobody).",
        ),
        click.option("--timeout", type=click.IntRange(1, 1440), help="Minutes a stage may run."),
    ]
    for option in reversed(options):  # click lists options in the order they were declared
        command = option(command)
    return command


def addresses(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    """`a@x.org,b@y.org` as a list ('' an empty one; None when the option is not given)."""
    return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


@repo_group.command("ls")
@with_api
def list_repos(api: Api) -> None:
    """The repositories you may see."""
    api.out.rows(api.client.get(api_path("repos")), COLUMNS, empty="no repositories")


@repo_group.command("info")
@repo_argument
@with_api
def show_repo(api: Api, slug: str) -> None:
    """A repository (and its settings, for administrators)."""
    api.out.record(api.client.get(repo_path(slug)))


@repo_group.command("add")
@repo_argument
@settings_options
@with_api
def add_repo(api: Api, slug: str, **settings: Any) -> None:
    """Register a repository (administrators); --clone-url is required."""
    if not settings.get("clone_url"):
        raise click.UsageError("a repository needs --clone-url")
    owner, name = slug.split("/", 1)
    given = {key: value for key, value in settings.items() if value is not None}
    body = {"owner": owner, "name": name, **given}
    repo = api.client.call("POST", api_path("repos"), body=body)
    api.out.record(repo)
    if repo.get("webhook_secret"):
        api.out.note(f"the webhook secret is shown this once: point the forge at {api.client.server}/hook")


@repo_group.command("update")
@repo_argument
@settings_options
@with_api
def update_repo(api: Api, slug: str, **settings: Any) -> None:
    """Change a repository's settings (administrators): only the options given."""
    body = changes_given(settings, "at least one setting (see --help)")
    api.out.record(api.client.call("PATCH", repo_path(slug), body=body))


@repo_group.command("rm")
@repo_argument
@with_api
def remove_repo(api: Api, slug: str) -> None:
    """Remove a repository with its builds, logs, secrets and crons (administrators)."""
    api.client.call("DELETE", repo_path(slug))
    api.out.note(f"removed {slug}")


CACHE_COLUMNS: list[Column] = [
    ("key", field("key")),
    ("branch", field("branch")),
    ("size", lambda entry: f"{entry.get('size', 0) / 1_000_000:.1f} MB"),
    ("saved", field("created")),
    ("last used", lambda entry: when(entry.get("last_used"))),
]


@repo_group.command("caches")
@repo_argument
@with_api
def list_caches(api: Api, slug: str) -> None:
    """The shared cache entries runners saved, the most recently used first."""
    api.out.rows(
        api.client.get(repo_path(slug, "caches")), CACHE_COLUMNS, empty=f"{slug} has no shared caches"
    )


@repo_group.command("purge-caches")
@repo_argument
@with_api
def purge_caches(api: Api, slug: str) -> None:
    """Remove every cache of the repository (administrators): no runner restores anything saved before."""
    purged = api.client.call("DELETE", repo_path(slug, "caches"))
    if api.out.json:
        api.out.raw(purged)
    else:
        api.out.note(
            f"purged the caches of {slug}: {purged['removed']} shared entries, {purged['size']} bytes"
        )
