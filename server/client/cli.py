"""What every client command shares: `--server`, `--token` and `--format` (from HANGAR_SERVER and
HANGAR_TOKEN too), the repository argument, `-p KEY=VALUE` parameters, and quiet exits on Ctrl-C."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from server.client.http import ApiClient
from server.client.output import FORMATS, Output

DEFAULT_SERVER = "http://127.0.0.1:8080"
"""Where `hangar up` listens by default."""
SLUG = re.compile(r"^[^/\s]+/[^/\s]+$")
CONTEXT = {"help_option_names": ["-h", "--help"]}


@dataclass
class Api:
    """A command's connection to the server and its way of printing."""

    client: ApiClient
    out: Output


def with_api(command: Callable[..., None]) -> Callable[..., None]:
    """Give the command `--server`, `--token` and `--format`, and an `Api` as its first argument."""

    @click.option(
        "--server", envvar="HANGAR_SERVER", default=DEFAULT_SERVER, show_default=True, show_envvar=True,
        help="The Hangar server's address.",
    )  # fmt: skip
    @click.option("--token", envvar="HANGAR_TOKEN", default="", show_envvar=True, help="Your API token.")
    @click.option(
        "--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True,
        help="Tables for people, or the server's JSON.",
    )  # fmt: skip
    @functools.wraps(command)
    def run(*args: Any, server: str, token: str, output_format: str, **kwargs: Any) -> None:
        try:
            with ApiClient(server, token) as client:
                command(Api(client, Output(output_format)), *args, **kwargs)
        except KeyboardInterrupt:
            sys.exit(130)
        except BrokenPipeError:  # `hangar build logs … | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)

    return run


def check_slug(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """A repository named as `owner/name`."""
    if not SLUG.match(value):
        raise click.BadParameter(f"{value!r} is not a repository: write OWNER/NAME")
    return value


def repo_argument(command: Callable[..., None]) -> Callable[..., None]:
    """The `OWNER/NAME` argument naming a repository (passed as `slug`)."""
    return click.argument("slug", metavar="OWNER/NAME", callback=check_slug)(command)


def parameters_option(*own: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`-p KEY=VALUE` (repeatable), the build's parameters (passed as `parameters`, a dict); `own` are the
    query names the endpoint takes itself, which a parameter may not be called."""

    def parse(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
        parameters: dict[str, str] = {}
        for pair in values:
            key, equals, value = pair.partition("=")
            if not equals or not key:
                raise click.BadParameter(f"{pair!r} is not KEY=VALUE")
            if key in own:
                raise click.BadParameter(f"{key!r} is this command's own option, not a parameter")
            parameters[key] = value
        return parameters

    return click.option(
        "-p", "--param", "parameters", multiple=True, metavar="KEY=VALUE", callback=parse,
        help="A parameter of the build, a variable of every step (repeatable).",
    )  # fmt: skip


def changes_given(values: dict[str, Any], options: str) -> dict[str, Any]:
    """The values given (not None) for a change; UsageError naming the `options` when none was."""
    given = {key: value for key, value in values.items() if value is not None}
    if not given:
        raise click.UsageError(f"nothing to change: give {options}")
    return given


def client_group(name: str, summary: str) -> click.Group:
    """A sub-command group of `hangar` (its commands added by the module that owns it)."""
    return click.Group(name, help=summary, context_settings=CONTEXT)
