"""Signatures and tokens: the documented test vectors pass, anything else fails without raising.

The vectors published with go-scm's payloads are checked over the corpus; the others over the project's own
payloads, signed here with HMAC SHA-256 as the forges do."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from starlette.datastructures import Headers

from server.forges import delivery_id, verify_signature
from tests.server.forges.expected_fixtures import GH_PUSH, GITEA_PUSH, GITLAB_PUSH
from tests.server.forges.replay import body_of, hmac_hex

GO_SCM_GITHUB_BODY = "github/push__go-scm__push.json"
GO_SCM_GITHUB_SIGNATURE = "sha256=e3bfe744d4e2e29ed990bde8acfb8255ca51ef65f99657767989fb6349f32957"
GO_SCM_GITHUB_SHA1 = "sha1=cf93f9ba3c8d3a789e61f91e1e5c6a360d036e98"
GO_SCM_GITEA_BODY = "gitea/pull_request__go-scm__pull_request_edited.json"
GO_SCM_GITEA_SECRET = "71295b197fa25f4356d2fb9965df3f2379d903d7"
GO_SCM_GITEA_SIGNATURE = "a31111f057bafe895837f4a93c0f1f528919c199a20438b1fc8e23485780a33a"

GITHUB_BODY = body_of(GH_PUSH)
GITHUB_SIGNATURE = f"sha256={hmac_hex('topsecret', GITHUB_BODY)}"
GITHUB_SHA1 = f"sha1={hmac.new(b'topsecret', GITHUB_BODY, hashlib.sha1).hexdigest()}"
GITEA_BODY = body_of(GITEA_PUSH)
GITEA_SECRET = "71295b197fa25f4356d2fb9965df3f2379d903d7"
GITEA_SIGNATURE = hmac_hex(GITEA_SECRET, GITEA_BODY)


def test_github_documented_vector() -> None:
    """The example in GitHub's "Validating webhook deliveries"."""
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": signature}
    assert verify_signature("github", headers, b"Hello, World!", "It's a Secret to Everybody")
    assert not verify_signature("github", headers, b"Hello, World!", "It's a secret to everybody")


def test_github_signs_the_body_with_hmac_sha256() -> None:
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": GITHUB_SIGNATURE}
    assert verify_signature("github", headers, GITHUB_BODY, "topsecret")
    assert not verify_signature("github", headers, GITHUB_BODY, "topsecreT")


@pytest.mark.corpus
def test_github_vector(corpus: Path) -> None:
    body = body_of(GO_SCM_GITHUB_BODY)
    assert len(body) == 8556
    headers = {
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": GO_SCM_GITHUB_SIGNATURE,
        "X-Hub-Signature": GO_SCM_GITHUB_SHA1,
    }
    assert verify_signature("github", headers, body, "topsecret")
    assert not verify_signature("github", headers, body, "topsecreT")


def test_github_legacy_sha1_alone_is_not_enough() -> None:
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature": GITHUB_SHA1}
    assert not verify_signature("github", headers, GITHUB_BODY, "topsecret")


def test_github_signature_without_its_prefix_fails() -> None:
    headers = {"X-Hub-Signature-256": GITHUB_SIGNATURE.removeprefix("sha256=")}
    assert not verify_signature("github", headers, GITHUB_BODY, "topsecret")


@pytest.mark.corpus
def test_gitea_vector(corpus: Path) -> None:
    body = body_of(GO_SCM_GITEA_BODY)
    assert len(body) == 5109
    headers = {"X-Gitea-Event": "pull_request", "X-Gitea-Signature": GO_SCM_GITEA_SIGNATURE}
    assert verify_signature("gitea", headers, body, GO_SCM_GITEA_SECRET)
    assert not verify_signature("gitea", headers, body, "topsecret")


def test_gitea_signs_the_body_with_hmac_sha256() -> None:
    headers = {"X-Gitea-Event": "push", "X-Gitea-Signature": GITEA_SIGNATURE}
    assert verify_signature("gitea", headers, GITEA_BODY, GITEA_SECRET)
    assert not verify_signature("gitea", headers, GITEA_BODY, "topsecret")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Forgejo-Signature", GITEA_SIGNATURE),
        ("X-Gogs-Signature", GITEA_SIGNATURE),
        ("X-Hub-Signature-256", f"sha256={GITEA_SIGNATURE}"),
        ("x-gitea-signature", GITEA_SIGNATURE),
    ],
)
def test_gitea_accepts_each_of_its_signature_headers(name: str, value: str) -> None:
    assert verify_signature("gitea", {name: value}, GITEA_BODY, GITEA_SECRET)


def test_gitlab_token() -> None:
    body = body_of(GITLAB_PUSH)
    assert verify_signature("gitlab", {"X-Gitlab-Token": "topsecret"}, body, "topsecret")
    assert not verify_signature("gitlab", {"X-Gitlab-Token": "void"}, body, "topsecret")
    assert not verify_signature("gitlab", {"X-Gitlab-Token": "TOPSECRET"}, body, "topsecret")


def test_gitlab_non_ascii_token_matches_as_starlette_and_as_text() -> None:
    sent = Headers(raw=[(b"x-gitlab-token", "tøp-sécret".encode())])  # decoded by starlette as latin-1
    assert verify_signature("gitlab", sent, b"{}", "tøp-sécret")
    assert verify_signature("gitlab", {"X-Gitlab-Token": "tøp-sécret"}, b"{}", "tøp-sécret")
    assert not verify_signature("gitlab", {"X-Gitlab-Token": "t?p-s?cret"}, b"{}", "tøp-sécret")


def test_a_wrong_forge_header_proves_nothing() -> None:
    body = GITHUB_BODY
    assert not verify_signature("gitlab", {"X-Hub-Signature-256": GITHUB_SIGNATURE}, body, "topsecret")
    assert not verify_signature("github", {"X-Gitlab-Token": "topsecret"}, body, "topsecret")
    assert not verify_signature("bitbucket", {"X-Hub-Signature-256": GITHUB_SIGNATURE}, body, "topsecret")


@pytest.mark.parametrize("forge", ["github", "gitea", "gitlab"])
def test_missing_signature_fails(forge: str) -> None:
    assert not verify_signature(forge, {"Content-Type": "application/json"}, GITHUB_BODY, "topsecret")


def test_one_changed_byte_fails() -> None:
    body = bytearray(GITHUB_BODY)
    body[100] ^= 0x20
    headers = {"X-Hub-Signature-256": GITHUB_SIGNATURE}
    assert not verify_signature("github", headers, bytes(body), "topsecret")
    assert not verify_signature("github", headers, GITHUB_BODY + b"\n", "topsecret")


def test_empty_secret_fails_even_with_a_matching_signature() -> None:
    body = b'{"ref": "refs/heads/main"}'
    unkeyed = hmac.new(b"", body, hashlib.sha256).hexdigest()  # anyone can compute this one
    assert not verify_signature("github", {"X-Hub-Signature-256": f"sha256={unkeyed}"}, body, "")
    assert not verify_signature("gitea", {"X-Gitea-Signature": unkeyed}, body, "")
    assert not verify_signature("gitlab", {"X-Gitlab-Token": ""}, body, "")


GARBAGE = [
    "",
    "   ",
    "sha256=",
    "sha256=zz",
    "sha256=" + "0" * 64,
    "sha256=" + "e3bfe744" * 4,  # right prefix, half the length
    GITHUB_SIGNATURE + "00",
    "sha256=ü" + "e" * 63,
    "sha256=\x00" + "e" * 63,
    "sha256=\udcff" + "e" * 63,  # a lone surrogate, as a sloppy decoder may leave one
    "x" * 100_000,
    GITHUB_SHA1,
]


@pytest.mark.parametrize("value", GARBAGE, ids=range(len(GARBAGE)))
@pytest.mark.parametrize("forge", ["github", "gitea", "gitlab"])
def test_garbage_header_values_fail_without_raising(forge: str, value: str) -> None:
    names = ["X-Hub-Signature-256", "X-Gitea-Signature", "X-Forgejo-Signature", "X-Gogs-Signature"]
    headers = dict.fromkeys([*names, "X-Gitlab-Token"], value)
    assert not verify_signature(forge, headers, GITHUB_BODY, "topsecret")


def test_non_latin1_bytes_from_starlette_fail_without_raising() -> None:
    raw = [(b"x-hub-signature-256", b"sha256=\xff\xfe" + b"e" * 62), (b"x-gitlab-token", b"\xc3\x28")]
    headers = Headers(raw=raw)
    for forge in ("github", "gitea", "gitlab"):
        assert not verify_signature(forge, headers, GITHUB_BODY, "topsecret")


def test_delivery_ids_per_forge() -> None:
    body = b'{"zen": "Design for failure."}'
    assert delivery_id("github", {"X-GitHub-Delivery": "72d3162e"}, body) == "72d3162e"
    assert delivery_id("gitea", {"X-Gitea-Delivery": "gitea-1"}, body) == "gitea-1"
    assert delivery_id("gitea", {"X-Forgejo-Delivery": "forgejo-1"}, body) == "forgejo-1"
    assert delivery_id("gitea", {"X-Gogs-Delivery": "gogs-1"}, body) == "gogs-1"
    both = {"X-Gitlab-Event-UUID": "event-1", "X-Gitlab-Webhook-UUID": "hook-1"}
    assert delivery_id("gitlab", both, body) == "event-1"


def test_gitlab_webhook_uuid_is_combined_with_the_body() -> None:
    headers = {"X-Gitlab-Webhook-UUID": "hook-1"}
    first = delivery_id("gitlab", headers, b'{"after": "1"}')
    assert first == "hook-1:" + hashlib.sha256(b'{"after": "1"}').hexdigest()
    assert delivery_id("gitlab", headers, b'{"after": "1"}') == first
    assert delivery_id("gitlab", headers, b'{"after": "2"}') != first


def test_without_an_id_the_body_digest_recognises_a_redelivery() -> None:
    body = b'{"ref": "refs/heads/main"}'
    expected = "sha256:" + hashlib.sha256(body).hexdigest()
    assert delivery_id("github", {}, body) == expected
    assert delivery_id("gitlab", {"X-Gitlab-Token": "x"}, body) == expected
    assert delivery_id("github", {}, body + b" ") != expected


@pytest.mark.parametrize("value", ["", "   ", "x" * 500, "id\nwith-newline", "ïd"])
def test_unusable_delivery_header_falls_back_to_the_digest(value: str) -> None:
    body = b"{}"
    assert delivery_id("github", {"X-GitHub-Delivery": value}, body).startswith("sha256:")
