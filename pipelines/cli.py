"""The `hangar` command: its sub-commands come from each package (entry points `hangar.commands`)."""

from __future__ import annotations

import gc
import json
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click
from rich.console import Console

from pipelines import CONFIG_FILES, BuildContext, Compilation, ConfigError, Problem, Repo
from pipelines.configuration import Configuration, compile_configuration, lint_configuration
from pipelines.local import local_configuration, local_context
from pipelines.woodpecker import FOLDER, SINGLE_FILES, workflow_files

_console = Console(stderr=True, highlight=False)


class _PackageCommands(click.Group):
    """A group whose commands are declared by the packages that own them."""

    def _entries(self) -> dict[str, str]:
        return {ep.name: ep.value for ep in entry_points(group="hangar.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Names of every installed sub-command."""
        return sorted(set(self._entries()) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Load a sub-command only when it is used."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        for ep in entry_points(group="hangar.commands"):
            if ep.name == cmd_name:
                command = _load_uncollected(ep)
                return command if isinstance(command, click.Command) else None
        return None


def _load_uncollected(entry: EntryPoint) -> object:
    """Load a sub-command with the garbage collector paused: its imports make ~90,000 objects that live as
    long as the process, which collections made meanwhile would only walk again and again (~10% of them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return entry.load()
    finally:
        if enabled:
            gc.enable()


@click.group(cls=_PackageCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hangar-ci")
def main() -> None:
    """Hangar: a container-native CI server that speaks Drone's pipeline language."""


def default_config_file() -> Path:
    """The pipeline file in the current folder: the first of `.ci.yml`, `.drone.yml`, `.drone.jsonnet`,
    `.drone.star`, else Woodpecker's `.woodpecker/` folder, `.woodpecker.yaml`, `.woodpecker.yml`."""
    for name in CONFIG_FILES:
        if Path(name).is_file():
            return Path(name)
    folder = Path(FOLDER)
    if folder.is_dir() and workflow_files(child.name for child in folder.iterdir()):
        return folder
    for name in SINGLE_FILES:
        if Path(name).is_file():
            return Path(name)
    names = ", ".join((*CONFIG_FILES, f"{FOLDER}/*.yaml", SINGLE_FILES[0])) + f" or {SINGLE_FILES[1]}"
    raise click.UsageError(f"no {names} here; name the file to read")


def read_configuration(path: Path, context: BuildContext) -> Configuration:
    """The configuration at `path` (a file or a folder of Woodpecker workflow files); raises ConfigError
    when a Jsonnet or Starlark file cannot be evaluated, a usage error when there is no such file."""
    try:
        return local_configuration(path, context)
    except FileNotFoundError:
        raise click.UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _print_problem(problem: Problem) -> None:
    style = "bold red" if problem.is_error else "yellow"
    _console.print(problem.format(), style=style, markup=False, soft_wrap=True)


@click.command("lint")
@click.option(
    "--trusted", is_flag=True, help="Allow what only trusted repositories may do (privileged, host volumes)."
)
@click.option("--event", default="push", show_default=True, help="The event Jsonnet and Starlark files see.")
@click.option("--branch", default="", help="The branch they see (default: the git branch, else main).")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def lint_command(trusted: bool, event: str, branch: str, files: tuple[Path, ...]) -> None:
    """Check pipeline files (YAML, Jsonnet, Starlark, Woodpecker files or their `.woodpecker/` folder);
    prints `file:line:col: message` per problem, exits 1 on any error."""
    paths = list(files) or [default_config_file()]
    failed = 0
    warned = 0
    for path in paths:
        context = local_context(path.resolve().parent, event, branch, trusted=trusted)
        try:
            problems = lint_configuration(read_configuration(path, context), context)
        except ConfigError as exc:
            problems = exc.problems
        for problem in problems:
            _print_problem(problem)
        errors = sum(p.is_error for p in problems)
        warned += len(problems) - errors
        failed += bool(errors)
    summary = f"{len(paths)} file(s) checked: {failed} with errors, {warned} warning(s)"
    _console.print(summary, style="bold red" if failed else "green")
    sys.exit(1 if failed else 0)


@click.command("compile")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--event",
    default="push",
    show_default=True,
    help="push, pull_request, tag, promote, cron, custom (Woodpecker's names too: manual, deployment)",
)
@click.option("--branch", default="", help="Default: the current git branch, else main.")
@click.option("--ref", default="", help="Defaults to refs/heads/BRANCH.")
@click.option("--sha", default="", help="Commit sha (default: the work tree's HEAD).")
@click.option("--repo", "slug", default="octocat/hello-world", show_default=True, help="owner/name")
@click.option("--action", default="")
@click.option("--target", default="", help="Deployment target (promote events).")
@click.option("--changed", multiple=True, help="A changed file, for `paths` conditions (repeatable).")
@click.option("--secret", "secrets", multiple=True, help="Name of a secret the repository has (repeatable).")
@click.option("--trusted", is_flag=True)
@click.option("--json", "as_json", is_flag=True, help="Print the Plans as JSON.")
@click.option(
    "--show-config", is_flag=True, help="Print the pipeline YAML (what a Jsonnet or Starlark file produces)."
)
def compile_command(
    file: Path | None,
    event: str,
    branch: str,
    ref: str,
    sha: str,
    slug: str,
    action: str,
    target: str,
    changed: tuple[str, ...],
    secrets: tuple[str, ...],
    trusted: bool,
    as_json: bool,
    show_config: bool,
) -> None:
    """Compile a pipeline file (YAML, Jsonnet, Starlark, Woodpecker files or their folder) for one build and
    print the runnable Plan of every stage."""
    path = file or default_config_file()
    owner, _, name = slug.rpartition("/")
    fields: dict[str, object] = {
        "repo": Repo(owner=owner, name=name, remote_url=f"https://example.invalid/{slug}.git"),
        "action": action,
        "deploy_to": target,
        "changed_files": list(changed) if changed else None,
        "secrets": list(secrets) if secrets else None,
        "trusted": trusted,
    }
    context = local_context(path.resolve().parent, event, branch, **fields)
    context = context.model_copy(update={"ref": ref or context.ref, "sha": sha or context.sha or "0" * 40})
    try:
        configuration = read_configuration(path, context)
        if show_config:
            click.echo(configuration.text, nl=False)
            return
        compilation = compile_configuration(configuration, context)
    except ConfigError as exc:
        for problem in exc.problems:
            _print_problem(problem)
        sys.exit(1)
    for problem in compilation.warnings:
        _print_problem(problem)
    if as_json:
        document = {
            "plans": [plan.model_dump(mode="json") for plan in compilation.plans],
            "skipped": [{"name": s.name, "reason": s.reason} for s in compilation.skipped],
            "warnings": [p.to_dict() for p in compilation.warnings],
        }
        click.echo(json.dumps(document, indent=2))
        return
    _print_plans(compilation)


def _print_plans(compilation: Compilation) -> None:
    """A table of stages and steps for people."""
    from rich.table import Table  # noqa: PLC0415  (only `compile` prints tables)

    out = Console(highlight=False)
    for plan in compilation.plans:
        table = Table(title=f"stage {plan.stage.number}: {plan.stage.name}", title_justify="left")
        for column in ("#", "step", "kind", "image", "after", "runs"):
            table.add_column(column)
        for step in plan.steps:
            runs = step.run_policy.value + (" (detached)" if step.detach else "")
            table.add_row(
                str(step.number), step.name, step.kind.value, step.image, ", ".join(step.depends_on), runs
            )
        out.print(table)
    for skipped in compilation.skipped:
        out.print(f"stage {skipped.name!r} skipped: {skipped.reason}")
