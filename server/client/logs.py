"""`hangar build logs`: a step's log, followed live while the step runs (the server's SSE stream)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from pipelines.status import Status
from server.client.cli import Api, repo_argument, with_api
from server.client.http import ApiError, repo_path
from server.client.output import Row

PAGE = 5000
"""Log lines asked for at a time."""
FAILED = ("failure", "error", "killed")
DONE = frozenset(status.value for status in Status if status.is_done)


@click.command("logs")
@repo_argument
@click.argument("number", type=click.IntRange(min=1))
@click.argument("stage", required=False)
@click.argument("step", required=False)
@click.option("--no-follow", is_flag=True, help="Print what is there and stop, even while the step runs.")
@with_api
def logs_command(
    api: Api, slug: str, number: int, stage: str | None, step: str | None, no_follow: bool
) -> None:
    """A step's log; while the step runs it is followed until it ends (Ctrl-C stops).

    STAGE and STEP are numbers or names; without them, the failed step, else the running one, else the
    last one that ran (stage 1's first while nothing ran yet).
    """
    build = api.client.get(repo_path(slug, "builds", number))
    stage_row, step_row = choose_step(build, stage, step)
    where = repo_path(slug, "builds", number, "logs", stage_row["number"], step_row["number"])
    api.out.note(f"{slug}#{number} stage {stage_row['name']} step {step_row['name']}: {step_row['status']}")
    if no_follow or step_row["status"] in DONE:
        position = 0
        while lines := api.client.get(where, start=position, limit=PAGE):
            _print(api, lines)
            position = lines[-1]["pos"] + 1
        return
    _follow(api, where)


def choose_step(build: Row, stage: str | None, step: str | None) -> tuple[Row, Row]:
    """The stage and step named (by number or name), or the one worth reading; UsageError if none is."""
    stages: list[Row] = build.get("stages", [])
    if stage is not None:
        stages = [_named(stages, stage, f"build {build['number']} has no stage")]
    steps = [(stage_row, step_row) for stage_row in stages for step_row in stage_row.get("steps", [])]
    if step is not None:
        chosen = _named([row for _s, row in steps], step, f"stage {stages[0]['name']} has no step")
        return stages[0], chosen
    if not steps:
        raise click.ClickException(
            f"build {build['number']} has no steps: {build.get('error') or build['status']}"
        )
    for wanted in (lambda row: row["status"] in FAILED, lambda row: row["status"] == "running"):
        found = next(((s, row) for s, row in steps if wanted(row)), None)
        if found:
            return found
    ran = [(s, row) for s, row in steps if row.get("started")]
    return ran[-1] if ran else steps[0]


def _named(rows: list[Row], wanted: str, missing: str) -> Row:
    for row in rows:
        if str(row["number"]) == wanted or row["name"] == wanted:
            return row
    names = ", ".join(f"{row['number']} {row['name']}" for row in rows)
    raise click.UsageError(f"{missing} {wanted!r} (it has: {names or 'none'})")


def _follow(api: Api, where: str) -> None:
    """Print the log's lines as they come until the step ends; a dropped stream is resumed where it was."""
    position = 0
    while True:
        heard = False
        for event in api.client.events(f"{where}/stream", {"start": position}):
            heard = True
            data = _decode(event.data)
            if event.name == "line" and "pos" in data:
                _print(api, [data])
                position = data["pos"] + 1
            elif event.name == "reset":
                api.out.note(f"-- {data.get('reason', 'the log starts again')} --")
                position = 0
            elif event.name == "done":
                exit_code = data.get("exit_code")
                api.out.note(
                    f"step ended: {data.get('status')}" + (f" (exit code {exit_code})" if exit_code else "")
                )
                return
        if not heard:
            raise ApiError(f"the server ended the log stream of {where} without a word")


def _decode(data: str) -> dict[str, Any]:
    """An event's JSON object ({} when it is none)."""
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _print(api: Api, lines: list[Row]) -> None:
    """Log lines as the step printed them (JSON: one object per line, `pos`, `time`, `out`)."""
    if api.out.json:
        sys.stdout.write("".join(json.dumps(line) + "\n" for line in lines))
    else:
        sys.stdout.write("".join(f"{line['out']}\n" for line in lines))
    sys.stdout.flush()
