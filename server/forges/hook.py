"""What parsing a webhook gives: a build-worthy Hook, a Ping, or the reason it was Ignored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict

from pipelines.cause import BuildCause

Forge: TypeAlias = Literal["github", "gitea", "gitlab"]
FORGES: tuple[Forge, ...] = ("github", "gitea", "gitlab")


class HookError(ValueError):
    """The request is malformed or lacks what a build needs (the endpoint answers 400)."""


class Repository(BaseModel):
    """The repository a hook is about, as every forge's payload describes it."""

    model_config = ConfigDict(frozen=True)

    owner: str  # may contain "/" (GitLab subgroups)
    name: str
    clone_url: str  # http(s)
    link: str  # the repository's web page
    private: bool
    default_branch: str

    @property
    def slug(self) -> str:
        """`owner/name`, the repository's full name on its forge."""
        return f"{self.owner}/{self.name}"


class Hook(BaseModel):
    """What a forge says happened: to which repository, and what a build of it is about."""

    model_config = ConfigDict(frozen=True)

    forge: str  # github | gitea | gitlab
    repo: Repository
    cause: BuildCause


@dataclass(frozen=True, slots=True)
class Ping:
    """The forge checks that the hook works (GitHub's `ping`); answer 200 and build nothing."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A genuine hook that starts no build, and why (shown to whoever reads the delivery log)."""

    reason: str


HookResult: TypeAlias = Hook | Ping | Ignored
