"""`hangar repo …` and the client's errors, against a real server."""

from __future__ import annotations

from tests.server.client.conftest import Cli


def test_a_repository_is_added_listed_shown_changed_and_removed(cli: Cli) -> None:
    added = cli("repo", "add", "client/lifecycle", "--clone-url", "https://git.example/client/lifecycle.git")
    assert "client/lifecycle" in added.stdout
    assert "webhook_secret" in added.stdout and "shown this once" in added.stderr

    assert "client/lifecycle" in cli("repo", "ls").stdout
    listed = cli.json("repo", "ls")
    assert "client/lifecycle" in [repo["slug"] for repo in listed]

    cli("repo", "update", "client/lifecycle", "--approval", "all", "--trusted", "--timeout", "30",
        "--email-recipients", "a@example.com,b@example.com")  # fmt: skip
    shown = cli.json("repo", "info", "client/lifecycle")
    assert (shown["approval"], shown["trusted"], shown["timeout"]) == ("all", True, 30)
    assert shown["email_recipients"] == ["a@example.com", "b@example.com"]
    assert "approval" in cli("repo", "info", "client/lifecycle").stdout

    cli("repo", "rm", "client/lifecycle")
    assert "client/lifecycle" not in [repo["slug"] for repo in cli.json("repo", "ls")]
    gone = cli("repo", "info", "client/lifecycle", ok=False)
    assert gone.returncode == 1 and "no repository client/lifecycle" in gone.stderr


def test_the_server_s_refusals_are_reported_in_its_words(cli: Cli) -> None:
    cli("repo", "add", "client/twice", "--clone-url", "https://git.example/twice.git")
    again = cli("repo", "add", "client/twice", "--clone-url", "https://git.example/twice.git", ok=False)
    assert again.returncode == 1 and "already registered (409)" in again.stderr
    wrong = cli("repo", "update", "client/twice", "--email-recipients", "nobody", ok=False)
    assert (
        wrong.returncode == 1
        and "'nobody' is not an email address" in wrong.stderr
        and "(400)" in wrong.stderr
    )


def test_a_bad_token_is_told_apart_from_an_unknown_repository(cli: Cli) -> None:
    refused = cli("repo", "ls", token="not-a-token", ok=False)
    assert refused.returncode == 1
    assert "unknown API token (401" in refused.stderr and "HANGAR_TOKEN" in refused.stderr

    unknown = cli("build", "ls", "client/never-added", ok=False)
    assert unknown.returncode == 1 and "no repository client/never-added (404)" in unknown.stderr

    anonymous = cli("secret", "ls", "client/never-added", token="", ok=False)
    assert anonymous.returncode == 1 and "(401" in anonymous.stderr


def test_flags_win_over_the_environment_and_an_absent_server_is_named(cli: Cli, closed_port: int) -> None:
    address = f"http://127.0.0.1:{closed_port}"
    away = cli("repo", "ls", "--server", address, ok=False)
    assert away.returncode == 1
    assert f"cannot reach the Hangar server at {address}" in away.stderr

    with_flags = cli("repo", "ls", "--server", cli.hangar.url, "--token", "wrong", ok=False)
    assert "unknown API token" in with_flags.stderr


def test_a_repository_must_be_named_owner_slash_name(cli: Cli) -> None:
    result = cli("repo", "info", "just-a-name", ok=False)
    assert result.returncode == 2 and "write OWNER/NAME" in result.stderr
