"""Decoding a hook's body: JSON or a form's `payload` field; anything else is a HookError (a 400)."""

from __future__ import annotations

import json
from urllib.parse import quote_plus, urlencode

import pytest

from server.forges import Hook, HookError, header, parse_hook, read_payload, verify_signature
from tests.server.forges.expected_fixtures import GH_PUSH
from tests.server.forges.replay import as_starlette, body_of, delivery_headers, hmac_hex

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_form_encoded_github_push_gives_the_same_hook() -> None:
    raw = body_of(GH_PUSH)
    form_body = b"payload=" + quote_plus(raw).encode("ascii")  # GitHub's "application/x-www-form-urlencoded"
    headers = delivery_headers(GH_PUSH) | FORM | {"X-Hub-Signature-256": f"sha256={hmac_hex('k', form_body)}"}

    payload = read_payload(headers, form_body)

    assert payload == json.loads(raw)
    assert verify_signature("github", headers, form_body, "k")  # GitHub signs the form body as sent
    from_form = parse_hook("github", headers, payload)
    from_json = parse_hook("github", delivery_headers(GH_PUSH), read_payload(JSON, raw))
    assert isinstance(from_form, Hook)
    assert from_form == from_json


def test_form_field_order_and_other_fields_do_not_matter() -> None:
    body = urlencode({"secret": "x", "payload": '{"ref": "refs/heads/main"}'}).encode()
    assert read_payload(FORM, body) == {"ref": "refs/heads/main"}


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.x+json"],
)
def test_json_content_types(content_type: str) -> None:
    assert read_payload({"content-type": content_type}, b'{"a": 1}') == {"a": 1}


def test_missing_content_type_is_read_as_json() -> None:
    assert read_payload({}, '{"message": "héllo"}'.encode()) == {"message": "héllo"}


def test_starlette_headers_are_read_whatever_the_case() -> None:
    headers = as_starlette({"X-GitHub-Event": "push", "Content-Type": "application/json"})
    assert header(headers, "x-github-event") == "push"
    assert header({"x-github-event": " push "}, "X-GitHub-Event") == "push"
    assert header({"X-GITHUB-EVENT": "push"}, "X-GitHub-Event") == "push"
    assert header({}, "X-GitHub-Event") == ""


MALFORMED = [
    b"",
    b"{not json",
    b'{"ref": "refs/heads/main"',
    b"\xff\xfe\x00garbage",
    b'{"a": 1} trailing',
    b"[" * 100_000,  # deep enough to exhaust Python's recursion limit
    b"1" * 5_000,  # longer than Python's int digit limit
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_json_is_a_hook_error(body: bytes) -> None:
    with pytest.raises(HookError, match="not valid JSON"):
        read_payload(JSON, body)


def test_a_truncated_payload_is_a_hook_error() -> None:
    with pytest.raises(HookError):
        read_payload(JSON, body_of(GH_PUSH)[:-10])


@pytest.mark.parametrize("body", [b"[]", b'["push"]', b'"push"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_a_hook_error(body: bytes) -> None:
    with pytest.raises(HookError, match="not an object"):
        read_payload(JSON, body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"secret=x",
        b"payload=%7Bnot+json",
        b"payload=%5B%5D",  # a JSON array
        "payload={é}".encode(),  # a form body is ASCII
        b"payload=%FF%FE",  # percent-encoded bytes that are not UTF-8
        b"&".join([b"f=1"] * 200),
    ],
)
def test_malformed_form_is_a_hook_error(body: bytes) -> None:
    with pytest.raises(HookError):
        read_payload(FORM, body)


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml"])
def test_other_content_types_are_a_hook_error(content_type: str) -> None:
    with pytest.raises(HookError, match="content type"):
        read_payload({"Content-Type": content_type}, b'{"a": 1}')
