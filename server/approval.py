"""Approval gates: which builds wait, `blocked`, until someone who may build approves them (Woodpecker's
modes: none, forks, pull_requests, all; and Drone's protected mode, where an unsigned pipeline file waits)."""

from __future__ import annotations

from pipelines.signature import is_signed
from server.crypto import Cipher
from server.db.models import Build, Repo

STARTED_BY_PEOPLE = frozenset({"custom", "promote", "rollback", "cron"})
"""Events of builds that someone who may build started (or scheduled): they need no second look."""


def approval_needed(repo: Repo, build: Build, pipeline_file: str, cipher: Cipher) -> str:
    """Why the build must wait for approval before anything of it runs ("" when it need not)."""
    if build.event in STARTED_BY_PEOPLE or build.parent:
        return ""  # started (or restarted: it has a parent) by someone who may build
    if repo.protected and not (
        repo.signing_key and is_signed(pipeline_file, cipher.decrypt(repo.signing_key))
    ):
        return "waiting for approval: the pipeline file is not signed with this repository's key (protected)"
    if repo.approval == "all":
        return "waiting for approval: every build of this repository is approved first"
    if repo.approval == "pull_requests" and build.event == "pull_request":
        return "waiting for approval: pull requests are approved first"
    if repo.approval == "forks" and build.fork:
        return "waiting for approval: the pull request comes from a fork"
    return ""
