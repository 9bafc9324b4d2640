"""What a build is about: the event that caused it, the commit, its author, the pull request. Declared once.

The hook parsers fill a BuildCause, the server's `builds` table has one column per field, the compiler's
BuildContext inherits it (the DRONE_* variables read it), and the REST API shows it: a field added here
appears in all of them. `link` always means a repository's web page; the commit's is `commit_link`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class LongText:
    """Marks a text that may run to many lines (a commit message): databases store it as TEXT."""


class BuildCause(BaseModel):
    """The event, commit, author and pull request a build is about, in Drone's terms."""

    model_config = ConfigDict(use_attribute_docstrings=True, json_schema_serialization_defaults_required=True)

    event: str = "push"
    """push | tag | pull_request (promote, cron and custom builds to come)."""
    action: str = ""
    """Pull requests: `opened` or `synchronized`; "" otherwise."""
    ref: str = ""
    """refs/heads/main | refs/tags/v1.0 | refs/pull/7/head | refs/merge-requests/7/head"""
    sha: str = ""
    """The commit to build (pull request: its head commit)."""
    before: str = ""
    """The previous commit, "" when none (pull request: the base commit, as Drone does)."""
    branch: str = ""
    """Push: the branch; tag: ""; pull request: the target branch (Drone's DRONE_BRANCH)."""
    source_branch: str = ""
    """Pull request: the head branch; "" otherwise."""
    target_branch: str = ""
    """Pull request: the base branch; push: the branch; tag: ""."""
    pull_request: int = 0
    """The pull or merge request's number, 0 otherwise."""
    pull_request_title: str = ""
    """The pull or merge request's title, "" otherwise."""
    message: Annotated[str, LongText()] = ""
    """The head commit's message (pull request: the title when the forge sends no commit)."""
    author_login: str = ""
    """The commit author's login on the forge."""
    author_name: str = ""
    """The commit author's name."""
    author_email: str = ""
    """The commit author's email address."""
    author_avatar: str = ""
    """The address of the author's avatar image."""
    commit_link: str = ""
    """The commit's web page (or the compare view, or the pull request's page)."""
    fork: bool = False
    """A pull request from another repository: its builds get no secrets."""
    sender: str = ""
    """The login of whoever caused the build (pushed, opened the pull request)."""
    deploy_to: str = ""
    """The deployment target of a promote build, "" otherwise."""
    cron: str = ""
    """The name of the cron job that started the build, "" otherwise."""
    parameters: dict[str, str] = Field(default_factory=dict)
    """Variables given to a custom or promoted build."""


def cause_of(source: object) -> BuildCause:
    """The cause `source` (a stored build, a context) describes: each field read by its name."""
    return BuildCause.model_validate({name: getattr(source, name) for name in BuildCause.model_fields})
