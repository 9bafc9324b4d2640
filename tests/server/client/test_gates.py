"""Builds that wait: `hangar build approve|decline` for a repository whose builds are all approved first, and
`hangar sign` for a protected one."""

from __future__ import annotations

from collections.abc import Callable

from tests.server.client.conftest import ECHO, Cli, Project


def test_blocked_builds_are_approved_or_declined(cli: Cli, project: Callable[..., Project]) -> None:
    app = project()
    cli("repo", "update", app.slug, "--approval", "all")
    app.push({"README": "one"}, "first pushed")
    blocked = app.reaches(1, lambda build: build["status"] == "blocked", "waited for approval")
    assert "approved first" in blocked["error"]

    cli("build", "approve", app.slug, "1")
    assert app.finished(1)["status"] == "success"

    app.push({"README": "two"}, "second pushed")
    app.reaches(2, lambda build: build["status"] == "blocked", "waited for approval")
    declined = cli.json("build", "decline", app.slug, "2")
    assert declined["status"] == "declined" and "declined by admin" in declined["error"]
    late = cli("build", "approve", app.slug, "2", ok=False)
    assert late.returncode == 1 and "only a blocked build is approved" in late.stderr


def test_a_protected_repository_runs_a_file_signed_with_hangar_sign(
    cli: Cli, project: Callable[..., Project]
) -> None:
    app = project()
    cli("repo", "update", app.slug, "--protected")
    app.push({"README": "unsigned"}, "unsigned")
    unsigned = app.reaches(1, lambda build: build["status"] == "blocked", "waited for approval")
    assert "not signed" in unsigned["error"]

    printed = cli("sign", app.slug, cwd=app.git.work).stdout
    assert printed.startswith(ECHO) and "kind: signature" in printed
    assert (app.git.work / ".ci.yml").read_text() == ECHO, "without --save the file stays as it was"
    cli("sign", app.slug, ".ci.yml", "--save", cwd=app.git.work)
    assert (app.git.work / ".ci.yml").read_text() == printed

    app.push({}, "signed")
    assert app.finished(2)["status"] == "success"
    cli("build", "decline", app.slug, "1")
