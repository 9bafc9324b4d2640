"""Every real payload of the shared corpus, replayed byte for byte with its documented headers."""

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
from tests.server.forges.expected import EXPECTED, GH_TAG
from tests.server.forges.replay import (
    DELIVERY,
    DOCS_DELIVERY,
    GITLAB_EVENT_UUID,
    as_starlette,
    body_of,
    corpus_files,
    delivery_headers,
)

pytestmark = pytest.mark.corpus

FILES = sorted(EXPECTED)


def test_every_corpus_file_has_an_expectation(corpus: Path) -> None:
    assert corpus_files() == FILES


@pytest.mark.parametrize("kind", ["dict", "starlette"])
@pytest.mark.parametrize("relative", FILES)
def test_detect_read_slug_parse(corpus: Path, relative: str, kind: str) -> None:
    forge = relative.split("/", 1)[0]
    plain = delivery_headers(relative)
    headers = as_starlette(plain) if kind == "starlette" else plain

    assert detect_forge(headers) == forge
    payload = read_payload(headers, body_of(relative))
    owner, name = repository_slug(forge, payload)
    result = parse_hook(forge, headers, payload)

    expected = EXPECTED[relative]
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
def test_signed_delivery_verifies_and_a_changed_byte_does_not(corpus: Path, relative: str) -> None:
    forge = relative.split("/", 1)[0]
    body = body_of(relative)
    headers = delivery_headers(relative, secret="s3cr3t-for-tests")

    assert verify_signature(forge, headers, body, "s3cr3t-for-tests")
    assert verify_signature(forge, as_starlette(headers), body, "s3cr3t-for-tests")
    assert not verify_signature(forge, headers, body, "another-secret")
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    assert verify_signature(forge, headers, tampered, "s3cr3t-for-tests") is (forge == "gitlab")


@pytest.mark.parametrize("relative", FILES)
def test_delivery_id_comes_from_the_forge(corpus: Path, relative: str) -> None:
    forge = relative.split("/", 1)[0]
    headers = delivery_headers(relative)
    expected = {"github": DELIVERY, "gitea": DELIVERY, "gitlab": GITLAB_EVENT_UUID}[forge]
    if relative.endswith("gitea-docs__example.json"):
        expected = DOCS_DELIVERY
    assert delivery_id(forge, as_starlette(headers), body_of(relative)) == expected


def test_github_tag_is_built_from_its_push_not_its_create(corpus: Path) -> None:
    push = parse_hook("github", {"X-GitHub-Event": "push"}, read_payload({}, body_of(GH_TAG)))
    create_file = "github/create__go-scm__tag_create.json"
    create = parse_hook("github", {"X-GitHub-Event": "create"}, read_payload({}, body_of(create_file)))

    assert isinstance(push, Hook)
    assert (push.cause.event, push.cause.ref, push.cause.branch) == ("tag", "refs/tags/v0.0.1", "")
    assert isinstance(create, Ignored)


def test_github_synchronize_and_gitea_synchronized_are_the_same_action(corpus: Path) -> None:
    github_file = "github/pull_request__octokit__synchronize.payload.json"
    gitea_file = "gitea/pull_request__go-scm__pull_request_synchronized.json"
    github = parse_hook("github", delivery_headers(github_file), read_payload({}, body_of(github_file)))
    gitea = parse_hook("gitea", delivery_headers(gitea_file), read_payload({}, body_of(gitea_file)))

    assert isinstance(github, Hook)
    assert isinstance(gitea, Hook)
    assert github.cause.action == gitea.cause.action == "synchronized"
