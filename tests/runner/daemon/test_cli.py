"""`hangar runner` as a user starts it: options, HANGAR_RUNNER_* variables, and its clear refusals."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from runner.daemon_cli import load_settings, runner_command
from runner.settings import docker_platform


@pytest.fixture(autouse=True)
def no_runner_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SERVER", "TOKEN", "SECRET", "CAPACITY", "NAME", "LABELS"):
        monkeypatch.delenv(f"HANGAR_RUNNER_{name}", raising=False)


def test_without_a_server_it_says_which_option_is_missing() -> None:
    result = CliRunner().invoke(runner_command, ["--token", "abc"])
    assert result.exit_code == 2
    assert "missing --server (or HANGAR_RUNNER_SERVER)" in result.output


def test_without_a_token_or_secret_it_says_so() -> None:
    result = CliRunner().invoke(runner_command, ["--server", "http://ci.example.com"])
    assert result.exit_code == 2
    assert "give either --token or --secret" in result.output


def test_a_server_that_is_not_an_address_is_refused() -> None:
    result = CliRunner().invoke(runner_command, ["--server", "ci.example.com", "--token", "abc"])
    assert result.exit_code == 2
    assert "'ci.example.com' is not an http:// or https:// address" in result.output


def test_a_label_must_be_key_equals_value() -> None:
    result = CliRunner().invoke(runner_command, ["--server", "http://ci", "--token", "abc", "--label", "gpu"])
    assert result.exit_code == 2
    assert "label 'gpu' is not KEY=VALUE" in result.output


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANGAR_RUNNER_SERVER", "https://ci.example.com/")
    monkeypatch.setenv("HANGAR_RUNNER_SECRET", "shared")
    monkeypatch.setenv("HANGAR_RUNNER_CAPACITY", "3")
    monkeypatch.setenv("HANGAR_RUNNER_LABELS", "gpu=yes,zone=eu-1")
    settings = load_settings()
    assert settings.server == "https://ci.example.com"
    assert settings.credential == "shared"
    assert settings.capacity == 3
    assert settings.labels == {"gpu": "yes", "zone": "eu-1"}
    assert settings.name == socket.gethostname()
    assert "shared" not in repr(settings)
    assert load_settings(capacity=1, labels={"a": "b"}).capacity == 1  # options win over variables


def test_the_platform_uses_dockers_architecture_names() -> None:
    assert docker_platform("x86_64") == ("amd64", "")
    assert docker_platform("aarch64") == ("arm64", "")
    assert docker_platform("armv7l") == ("arm", "v7")
    assert docker_platform("s390x") == ("s390x", "")
    settings = load_settings(server="http://ci", token="t")
    assert settings.platform.os == "linux"
    assert settings.platform.arch == docker_platform()[0]


def test_without_a_docker_engine_it_exits_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = CliRunner().invoke(runner_command, ["--server", "http://127.0.0.1:9", "--token", "abc"])
    assert result.exit_code == 1
    assert "cannot reach the Docker engine" in result.output
