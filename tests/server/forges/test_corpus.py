"""Every payload the project ships, and every real payload of the corpus when it is there, replayed byte for
byte with its documented headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.forges import (
    Hook,
    Ignored,
    Ping,
    delivery_id,
    detect_forge,
    parse_hook,
    read_payload,
    repository_slug,
    verify_signature,
)
from tests.corpus import needs_corpus
from tests.server.forges.expected import EXPECTED
from tests.server.forges.expected_fixtures import (
    FIXTURE_EXPECTED,
    GH_CREATE,
    GH_PR_SYNC,
    GH_TAG,
    GITEA_PR_SYNC,
)
from tests.server.forges.replay import (
    DELIVERY,
    DOCS_DELIVERY,
    FIXTURES,
    GITLAB_EVENT_UUID,
    as_starlette,
    body_of,
    corpus_files,
    delivery_headers,
    fixture_files,
)

ALL_EXPECTED = FIXTURE_EXPECTED | EXPECTED
FILES = [
    *sorted(FIXTURE_EXPECTED),
    *(pytest.param(name, marks=[pytest.mark.corpus, needs_corpus("webhooks")]) for name in sorted(EXPECTED)),
]


def test_every_fixture_has_an_expectation() -> None:
    assert fixture_files() == sorted(FIXTURE_EXPECTED)


@pytest.mark.corpus
def test_every_corpus_file_has_an_expectation(corpus: Path) -> None:
    assert corpus_files() == sorted(EXPECTED)


@pytest.mark.corpus
def test_no_fixture_hides_a_corpus_file(corpus: Path) -> None:
    """A payload name is looked up among the fixtures first: none may share a corpus file's name."""
    assert not [name for name in corpus_files() if (FIXTURES / name).exists()]


@pytest.mark.parametrize("kind", ["dict", "starlette"])
@pytest.mark.parametrize("relative", FILES)
def test_detect_read_slug_parse(relative: str, kind: str) -> None:
    forge = relative.split("/", 1)[0]
    plain = delivery_headers(relative)
    headers = as_starlette(plain) if kind == "starlette" else plain

    assert detect_forge(headers) == forge
    payload = read_payload(headers, body_of(relative))
    owner, name = repository_slug(forge, payload)
    result = parse_hook(forge, headers, payload)

    expected = ALL_EXPECTED[relative]
    if isinstance(expected, Ignored):
        assert isinstance(result, Ignored)
        assert expected.reason in result.reason
    elif isinstance(expected, Ping):
        assert result == Ping()
    else:
        assert isinstance(result, Hook)
        assert (result.forge, result.repo.owner, result.repo.name) == (forge, owner, name)
        fields = {"forge": result.forge} | result.repo.model_dump() | result.cause.model_dump()
        actual = {field: fields[field] for field in expected}
        assert actual == expected
        assert Hook.model_validate(result.model_dump(mode="json")) == result, "as a delivery stores it"


@pytest.mark.parametrize("relative", FILES)
def test_signed_delivery_verifies_and_a_changed_byte_does_not(relative: str) -> None:
    forge = relative.split("/", 1)[0]
    body = body_of(relative)
    headers = delivery_headers(relative, secret="s3cr3t-for-tests")

    assert verify_signature(forge, headers, body, "s3cr3t-for-tests")
    assert verify_signature(forge, as_starlette(headers), body, "s3cr3t-for-tests")
    assert not verify_signature(forge, headers, body, "another-secret")
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    assert verify_signature(forge, headers, tampered, "s3cr3t-for-tests") is (forge == "gitlab")


@pytest.mark.parametrize("relative", FILES)
def test_delivery_id_comes_from_the_forge(relative: str) -> None:
    forge = relative.split("/", 1)[0]
    headers = delivery_headers(relative)
    expected = {"github": DELIVERY, "gitea": DELIVERY, "gitlab": GITLAB_EVENT_UUID}[forge]
    if relative.endswith("gitea-docs__example.json"):
        expected = DOCS_DELIVERY
    assert delivery_id(forge, as_starlette(headers), body_of(relative)) == expected


def test_github_tag_is_built_from_its_push_not_its_create() -> None:
    push = parse_hook("github", {"X-GitHub-Event": "push"}, read_payload({}, body_of(GH_TAG)))
    create = parse_hook("github", {"X-GitHub-Event": "create"}, read_payload({}, body_of(GH_CREATE)))

    assert isinstance(push, Hook)
    assert (push.cause.event, push.cause.ref, push.cause.branch) == ("tag", "refs/tags/simple-tag", "")
    assert isinstance(create, Ignored)


def test_github_synchronize_and_gitea_synchronized_are_the_same_action() -> None:
    github = parse_hook("github", delivery_headers(GH_PR_SYNC), read_payload({}, body_of(GH_PR_SYNC)))
    gitea = parse_hook("gitea", delivery_headers(GITEA_PR_SYNC), read_payload({}, body_of(GITEA_PR_SYNC)))

    assert isinstance(github, Hook)
    assert isinstance(gitea, Hook)
    assert github.cause.action == gitea.cause.action == "synchronized"
