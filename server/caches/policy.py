"""What a stage may do with caches (`CachePolicy`): decided by the server from the build and the repository.

Entries are saved under the build's branch (a pull request's: its source branch) and looked for there first,
then in the fallbacks: a pull request's target branch and the default branch, a push to another branch's
default branch. A pull request from a fork restores but never saves, so it cannot poison what others restore.
"""

from __future__ import annotations

from pipelines.runner_api import CachePolicy
from server.db.models import Build, Repo

PULL_REQUEST = "pull_request"


def cache_policy(build: Build, repo: Repo, *, shared: bool, installation: str = "") -> CachePolicy:
    """The policy of every stage of `build` (`shared`: the server keeps entries too; `installation`: this
    server's id, so two servers' `repo-1` never share a runner's disk)."""
    pull_request = build.event == PULL_REQUEST
    branch = (build.source_branch if pull_request else build.branch) or repo.default_branch
    fallbacks = [build.target_branch, repo.default_branch] if pull_request else [repo.default_branch]
    return CachePolicy(
        scope=f"{installation}-repo-{repo.id}" if installation else f"repo-{repo.id}",
        generation=repo.cache_generation,
        branch=branch,
        fallback_branches=[other for other in dict.fromkeys(fallbacks) if other and other != branch],
        save=not build.fork,
        auto=repo.cache_auto,
        shared=shared,
    )


def searched_branches(policy: CachePolicy, asked: list[str]) -> list[str]:
    """The branches a lookup searches, in order: those asked that the policy allows (all it allows when none
    were asked)."""
    allowed = [policy.branch, *policy.fallback_branches]
    return [branch for branch in dict.fromkeys(asked) if branch in allowed] if asked else allowed
