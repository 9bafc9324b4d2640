"""What parsing a webhook gives: a build-worthy Hook, a Ping, or the reason it was Ignored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

Forge: TypeAlias = Literal["github", "gitea", "gitlab"]
FORGES: tuple[Forge, ...] = ("github", "gitea", "gitlab")


class HookError(ValueError):
    """The request is malformed or lacks what a build needs (the endpoint answers 400)."""


@dataclass(frozen=True, slots=True)
class Hook:
    """What a forge says happened, in Drone's terms."""

    forge: str  # github | gitea | gitlab
    event: str  # push | tag | pull_request
    action: str  # "" for push and tag; "opened" or "synchronized" for pull requests
    owner: str  # may contain "/" (GitLab subgroups)
    name: str
    clone_url: str  # http(s)
    link: str  # the repository's web page
    private: bool
    default_branch: str
    ref: str  # refs/heads/main | refs/tags/v1.0 | refs/pull/7/head | refs/merge-requests/7/head
    sha: str  # the commit to build (pull request: its head commit)
    before: str  # the previous sha, "" when none (pull request: the base commit, as Drone does)
    branch: str  # push: the branch; tag: ""; pull request: the target branch (Drone's DRONE_BRANCH)
    source_branch: str  # pull request: the head branch; "" otherwise
    target_branch: str  # pull request: the base branch; push: the branch; tag: ""
    pull_request: int  # the pull/merge request number, 0 otherwise
    title: str  # pull request title, "" otherwise
    message: str  # head commit message (pull request: the title when the payload carries no commit)
    author_login: str
    author_name: str
    author_email: str
    author_avatar: str
    commit_link: str  # web link to the commit, the compare view or the pull request
    fork: bool  # a pull request from another repository: its builds get no secrets
    sender: str  # login of who triggered it

    @property
    def slug(self) -> str:
        """`owner/name`, the repository's full name on its forge."""
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class Ping:
    """The forge checks that the hook works (GitHub's `ping`); answer 200 and build nothing."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A genuine hook that starts no build, and why (shown to whoever reads the delivery log)."""

    reason: str


HookResult: TypeAlias = Hook | Ping | Ignored
