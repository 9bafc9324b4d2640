"""`hangar cron …`: schedules added, listed, changed, built now and removed."""

from __future__ import annotations

from collections.abc import Callable

from tests.server.client.conftest import Cli, Project


def test_a_cron_is_added_shown_changed_built_now_and_removed(
    cli: Cli, project: Callable[..., Project]
) -> None:
    app = project()
    cli("cron", "add", app.slug, "nightly", "0 3 * * *", "--branch", "main")
    listed = cli("cron", "ls", app.slug).stdout
    assert "nightly" in listed and "0 3 * * *" in listed
    assert [cron["name"] for cron in cli.json("cron", "ls", app.slug)] == ["nightly"]

    cli("cron", "update", app.slug, "nightly", "--schedule", "@hourly", "--disable")
    changed = cli.json("cron", "info", app.slug, "nightly")
    assert (changed["expr"], changed["disabled"], changed["branch"]) == ("@hourly", True, "main")
    wrong = cli("cron", "add", app.slug, "broken", "every day", ok=False)
    assert wrong.returncode == 1 and "(400)" in wrong.stderr and "five" in wrong.stderr

    built = cli.json("cron", "exec", app.slug, "nightly")
    assert (built["event"], built["cron"]) == ("cron", "nightly")
    assert app.finished(built["number"])["status"] == "success"
    assert "EVENT=cron" in app.log(built["number"])

    cli("cron", "rm", app.slug, "nightly")
    assert cli.json("cron", "ls", app.slug) == []
    gone = cli("cron", "info", app.slug, "nightly", ok=False)
    assert gone.returncode == 1 and "no cron 'nightly' (404)" in gone.stderr
