"""What a stage may do with caches: the branch it saves under, where else it looks, whether it may save."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from pipelines.runner_api import CachePolicy
from server.caches.policy import cache_policy, searched_branches
from server.crypto import Cipher
from server.db.models import Build, Repo
from server.services import Services
from tests.server.caches.support import take_stage


def repo(**fields: object) -> Repo:
    return Repo.model_validate({"id": 7, "owner": "octo", "name": "app", "default_branch": "main"} | fields)


def build(**fields: object) -> Build:
    return Build.model_validate({"repo_id": 7, "number": 1, "event": "push", "branch": "main"} | fields)


def pull_request(fork: bool) -> Build:
    return build(
        event="pull_request", branch="release", source_branch="feature", target_branch="release", fork=fork
    )


def test_a_push_to_the_default_branch_saves_there_and_looks_nowhere_else() -> None:
    policy = cache_policy(build(), repo(cache_generation=3), shared=True)
    assert policy == CachePolicy(
        scope="repo-7", generation=3, branch="main", fallback_branches=[], save=True, auto=True, shared=True
    )


def test_a_push_to_another_branch_falls_back_to_the_default_branch() -> None:
    policy = cache_policy(build(branch="feature"), repo(cache_auto=False), shared=False)
    assert (policy.branch, policy.fallback_branches) == ("feature", ["main"])
    assert policy.save and not policy.auto and not policy.shared


def test_a_pull_request_saves_under_its_source_branch_and_reads_its_target_then_the_default() -> None:
    policy = cache_policy(pull_request(fork=False), repo(), shared=True)
    assert (policy.branch, policy.fallback_branches, policy.save) == ("feature", ["release", "main"], True)


def test_a_pull_request_from_a_fork_reads_but_never_saves() -> None:
    policy = cache_policy(pull_request(fork=True), repo(), shared=True)
    assert (policy.branch, policy.fallback_branches, policy.save) == ("feature", ["release", "main"], False)


def test_a_tag_saves_under_the_default_branch() -> None:
    policy = cache_policy(build(event="tag", branch="", ref="refs/tags/v1"), repo(), shared=True)
    assert (policy.branch, policy.fallback_branches) == ("main", [])


def test_a_lookup_searches_only_the_branches_the_policy_allows_in_the_order_asked() -> None:
    policy = cache_policy(pull_request(fork=True), repo(), shared=True)
    assert searched_branches(policy, ["main", "secret-branch", "feature"]) == ["main", "feature"]
    assert searched_branches(policy, []) == ["feature", "release", "main"]


async def test_the_assignment_carries_the_policy(hangar: Services, app: Starlette) -> None:
    async with hangar.transaction() as (session, _changes):
        stored = Repo(owner="octo", name="lib", default_branch="trunk", cache_auto=False, cache_generation=2)
        session.add(stored)
        await session.flush()
    taken = await take_stage(
        hangar, app, stored, "runner-a", event="pull_request", branch="trunk", source_branch="fix",
        target_branch="trunk", fork=True, ref="refs/pull/4/head",
    )  # fmt: skip
    assert taken.assignment.cache == CachePolicy(
        scope=f"{hangar.cipher.installation}-repo-{stored.id}", generation=2, branch="fix",
        fallback_branches=["trunk"], save=False,
        auto=False, shared=True,
    )  # fmt: skip
    await taken.client.close()


def test_two_installations_never_share_a_scope(tmp_path: Path) -> None:
    one, other = (Cipher.from_file(tmp_path / name) for name in ("one.key", "other.key"))
    same = Cipher.from_file(tmp_path / "one.key")
    scopes = {
        cache_policy(build(), repo(), shared=True, installation=c.installation).scope for c in (one, other)
    }
    assert len(scopes) == 2 and one.installation == same.installation and len(one.installation) == 12
