"""`hangar secret …`: values go in, never come out."""

from __future__ import annotations

from pathlib import Path

from tests.server.client.conftest import Cli


def test_secrets_are_added_listed_changed_and_removed_without_showing_values(
    cli: Cli, tmp_path: Path
) -> None:
    cli("repo", "add", "client/secrets", "--clone-url", "https://git.example/secrets.git")
    cli("secret", "add", "client/secrets", "token", "--value", "hunter2-on-the-line")
    (tmp_path / "key.pem").write_text("-----BEGIN KEY-----\nabc\n-----END KEY-----\n")
    cli(
        "secret",
        "add",
        "client/secrets",
        "deploy_key",
        "--from-file",
        str(tmp_path / "key.pem"),
        "--pull-request",
    )

    table = cli("secret", "ls", "client/secrets").stdout
    assert "token" in table and "deploy_key" in table
    assert "hunter2" not in table and "BEGIN KEY" not in table
    listed = {secret["name"]: secret["pull_request"] for secret in cli.json("secret", "ls", "client/secrets")}
    assert listed == {"deploy_key": True, "token": False}

    taken = cli("secret", "add", "client/secrets", "token", "--value", "other", ok=False)
    assert taken.returncode == 1 and "(409)" in taken.stderr
    cli("secret", "update", "client/secrets", "token", "--pull-request")
    cli("secret", "rm", "client/secrets", "deploy_key")
    remaining = cli.json("secret", "ls", "client/secrets")
    assert [(secret["name"], secret["pull_request"]) for secret in remaining] == [("token", True)]
