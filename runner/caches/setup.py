"""Where a runner (or `hangar exec`) keeps caches, and the CacheSetup of a stage from its policy."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from pipelines.runner_api import CachePolicy
from runner.caches.disk import DiskStore
from runner.caches.layered import LayeredStore
from runner.caches.stage import CacheSetup
from runner.caches.store import CacheStore

DEFAULT_MAX_BYTES = 10 * 1024**3


def user_cache_dir(name: str) -> Path:
    """`$XDG_CACHE_HOME/hangar/<name>` (`~/.cache/hangar/<name>` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hangar" / name


def disk_setup(
    policy: CachePolicy, root: Path, max_bytes: int = DEFAULT_MAX_BYTES, shared: Sequence[CacheStore] = ()
) -> CacheSetup:
    """The disk store of the policy's scope and generation first, then any shared stores."""
    disk = DiskStore(root, policy.scope, policy.generation, max_bytes)
    return CacheSetup(policy, LayeredStore([disk, *shared]), disk.folder)


def local_policy(root: Path, branch: str, default_branch: str, *, auto: bool = True) -> CachePolicy:
    """`hangar exec`'s policy: a scope per project folder, saved under the current branch."""
    scope = f"exec-{root.name}-{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]}"
    fallbacks = [default_branch] if default_branch and default_branch != branch else []
    return CachePolicy(scope=scope, branch=branch, fallback_branches=fallbacks, auto=auto)
