"""Is a hook really from its forge (signature or token, in constant time), and which delivery is it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from server.forges.payload import header

# Gitea sends its hex digest under several names, all without a prefix; Forgejo and Gogs add their own.
_GITEA_SIGNATURES = ("X-Gitea-Signature", "X-Forgejo-Signature", "X-Gogs-Signature")
_GITEA_DELIVERIES = ("X-Gitea-Delivery", "X-Forgejo-Delivery", "X-Gogs-Delivery")
_MAX_DELIVERY_LENGTH = 128


def verify_signature(forge: str, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """True only when the request proves it knows `secret`: an HMAC-SHA256 of the body, or GitLab's token.

    An empty secret, a missing header or any odd header value gives False, never an exception.
    """
    if not secret:
        return False
    key = secret.encode("utf-8")
    if forge == "gitlab":
        return _any_equal(header(headers, "X-Gitlab-Token"), key)
    digest = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
    if forge == "github":  # the legacy X-Hub-Signature (SHA-1) alone is not enough
        return _any_equal(header(headers, "X-Hub-Signature-256").lower(), b"sha256=" + digest)
    if forge == "gitea":
        checks = [_any_equal(header(headers, name).lower(), digest) for name in _GITEA_SIGNATURES]
        checks.append(_any_equal(header(headers, "X-Hub-Signature-256").lower(), b"sha256=" + digest))
        return any(checks)
    return False


def _any_equal(value: str, expected: bytes) -> bool:
    """Whether a header value is `expected`, compared in constant time, whichever way its bytes were decoded.

    Starlette decodes header bytes as latin-1; a plain dict in a test holds the text itself: both spellings
    of a non-ASCII value are compared, always both, so the time taken says nothing about the secret.
    """
    if not value:
        return False
    as_text = value.encode("utf-8", "surrogatepass")
    try:
        as_received = value.encode("latin-1")
    except UnicodeEncodeError:  # not from starlette: the text is all there is
        as_received = as_text
    text_matches = hmac.compare_digest(as_text, expected)
    received_matches = hmac.compare_digest(as_received, expected)
    return text_matches or received_matches


def delivery_id(forge: str, headers: Mapping[str, str], body: bytes) -> str:
    """The forge's id for this delivery, so a redelivery is recognised; else `sha256:` + the body's digest."""
    body_digest = hashlib.sha256(body).hexdigest()
    names: tuple[str, ...] = ()
    if forge == "github":
        names = ("X-GitHub-Delivery",)
    elif forge == "gitea":
        names = _GITEA_DELIVERIES
    elif forge == "gitlab":
        names = ("X-Gitlab-Event-UUID",)
    for name in names:
        value = header(headers, name)
        if _usable(value):
            return value
    if forge == "gitlab":  # one webhook sends the same bytes for one event, even when retried
        webhook = header(headers, "X-Gitlab-Webhook-UUID")
        if _usable(webhook):
            return f"{webhook}:{body_digest}"
    return f"sha256:{body_digest}"


def _usable(value: str) -> bool:
    """True for a delivery id worth storing: short printable ASCII (else the digest is used)."""
    return 0 < len(value) <= _MAX_DELIVERY_LENGTH and value.isascii() and value.isprintable()
