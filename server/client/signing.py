"""`hangar sign OWNER/NAME [FILE] [--save]`: sign a pipeline file with the repository's key, which the server
keeps (Drone's `drone sign`), so that a protected repository runs it without waiting for approval."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.cli import default_config_file
from server.client.cli import Api, repo_argument, with_api
from server.client.http import ApiError, repo_path


@click.command("sign")
@repo_argument
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--save", is_flag=True, help="Write the signed file back in place of printing it.")
@with_api
def sign_command(api: Api, slug: str, file: Path | None, save: bool) -> None:
    """Sign FILE (.ci.yml, else .drone.yml): the file with a `kind: signature` document at its end."""
    path = file or default_config_file()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{path}: {exc}") from None
    answer = api.client.call("POST", repo_path(slug, "sign"), body={"data": text})
    signed = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(signed, str):
        raise ApiError(f"{api.client.server} answered the signing without the signed file")
    if not save:
        if api.out.json:
            api.out.raw(answer)
        else:
            click.echo(signed, nl=False)
        return
    path.write_text(signed, encoding="utf-8")
    api.out.note(f"signed {path} for {slug}")
