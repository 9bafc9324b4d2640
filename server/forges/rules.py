"""What every forge's hook shares: skip markers, zero shas, ref names and the fields a build cannot lack."""

from __future__ import annotations

import re

from server.forges.hook import HookError

BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"

# Drone's markers; a tag is built even when its commit carries one (release commits often say [skip ci]).
_SKIP = re.compile(r"\[ci skip\]|\[skip ci\]|\*\*\*no_ci\*\*\*", re.IGNORECASE)
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 and SHA-256 object names


def skips_ci(*texts: str) -> bool:
    """True when any text (commit message, pull request title) asks not to build."""
    return any(_SKIP.search(text) for text in texts)


def is_zero_sha(sha: str) -> bool:
    """True for the all-zeros sha a forge sends for a ref that did not exist (before) or no longer does."""
    return bool(sha) and set(sha) == {"0"}


def previous_sha(sha: str) -> str:
    """`sha`, or "" when the forge sent none or the all-zeros placeholder."""
    return "" if is_zero_sha(sha) else sha


def required_sha(sha: str) -> str:
    """The commit sha to build, lower-cased; HookError when it is missing or not a full hex object name."""
    cleaned = sha.strip().lower()
    if not _SHA.fullmatch(cleaned):
        raise HookError(f"the hook has no valid commit sha (got {sha[:80]!r})")
    return cleaned


def required_clone_url(url: str) -> str:
    """The repository's http(s) clone URL; HookError when it is missing or uses another scheme."""
    if not url.lower().startswith(("https://", "http://")):
        raise HookError(f"the repository has no http(s) clone URL (got {url[:200]!r})")
    return url


def required_branch(name: str) -> str:
    """A branch name a pull request names; HookError when it is empty."""
    if not name:
        raise HookError("the pull request does not name its source and target branches")
    return name


def required_number(number: int) -> int:
    """A pull or merge request number; HookError unless it is positive."""
    if number <= 0:
        raise HookError("the pull request has no number")
    return number


def split_slug(full_name: str, *, at_last: bool = False) -> tuple[str, str]:
    """`(owner, name)` from `owner/name`, split at the first "/" or, for GitLab's subgroups, the last."""
    owner, _, name = full_name.rpartition("/") if at_last else full_name.partition("/")
    if not owner or not name or "/" in name:
        raise HookError(f"the payload does not name its repository (got {full_name[:200]!r})")
    return owner, name
