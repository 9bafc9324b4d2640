"""Replaying webhook payloads, the project's own and the real-world corpus's: their bytes, and the headers
each forge sends. A payload is named `forge/event__source__name.json`, looked up in `fixtures/`, then the
corpus."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from starlette.datastructures import Headers

from tests.corpus import corpus_dir
from tests.corpus import corpus_files as corpus_paths

FIXTURES = Path(__file__).parent / "fixtures"
DELIVERY = "ee8d97b4-1479-43f1-9cac-fbbd1b80da55"  # the GUID go-scm's tests send
DOCS_DELIVERY = "f6266f16-1bf3-46a5-9ea4-602e06ead473"  # the Gitea docs' example
GITLAB_EVENTS = {"push": "Push Hook", "tag_push": "Tag Push Hook", "merge_request": "Merge Request Hook"}
GITLAB_WEBHOOK = "4f2a6e2c-6bd5-4a7e-9f4e-3f0c8b1d2a11"
GITLAB_EVENT_UUID = "0a7c1c5e-2f0b-4e43-8a5c-9d7f1e3b6c20"


def body_of(relative: str) -> bytes:
    """The payload file `forge/name.json`, byte for byte: the project's own, else the corpus's."""
    own = FIXTURES / relative
    return (own if own.is_file() else corpus_dir() / "webhooks" / relative).read_bytes()


def event_of(relative: str) -> str:
    """The event header value the file was delivered with (HEADERS.md: the file name starts with it)."""
    forge, name = relative.split("/")
    event = name.split("__", 1)[0]
    return GITLAB_EVENTS[event] if forge == "gitlab" else event


def hmac_hex(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the body, as every forge but GitLab signs it."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_headers(relative: str, secret: str = "") -> dict[str, str]:
    """The headers HEADERS.md documents for this file, signed with `secret` when one is given."""
    forge = relative.split("/", maxsplit=1)[0]
    event = event_of(relative)
    body = body_of(relative)
    headers = {"Content-Type": "application/json"}
    if forge == "github":
        headers |= {
            "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": DELIVERY,
            "X-GitHub-Hook-ID": "109948940",
        }
        if secret:
            digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
            headers |= {
                "X-Hub-Signature": f"sha1={digest}",
                "X-Hub-Signature-256": f"sha256={hmac_hex(secret, body)}",
            }
    elif forge == "gitea":
        if relative.endswith("push__gitea-docs__example.json"):  # the block printed in the Gitea docs
            headers = {}
            for name in ("GitHub", "Gogs", "Gitea"):
                headers |= {f"X-{name}-Delivery": DOCS_DELIVERY, f"X-{name}-Event": "push"}
        else:
            fine = "pull_request_sync" if "synchronized" in relative else event
            for name in ("Gitea", "Gogs", "GitHub"):
                headers |= {
                    f"X-{name}-Delivery": DELIVERY,
                    f"X-{name}-Event": event,
                    f"X-{name}-Event-Type": fine,
                }
        if secret:
            digest = hmac_hex(secret, body)
            headers |= {"X-Gitea-Signature": digest, "X-Gogs-Signature": digest}
            headers |= {"X-Hub-Signature-256": f"sha256={digest}"}
    else:
        headers |= {
            "User-Agent": "GitLab/16.4.0",
            "X-Gitlab-Event": event,
            "X-Gitlab-Instance": "https://gitlab.com",
            "X-Gitlab-Webhook-UUID": GITLAB_WEBHOOK,
            "X-Gitlab-Event-UUID": GITLAB_EVENT_UUID,
        }
        if secret:
            headers["X-Gitlab-Token"] = secret
    return headers


def as_starlette(headers: dict[str, str]) -> Headers:
    """The same headers as the endpoint will see them: starlette's Headers over lower-cased raw bytes."""
    return Headers(
        raw=[(key.lower().encode("latin-1"), value.encode("utf-8")) for key, value in headers.items()]
    )


def fixture_files() -> list[str]:
    """Every payload file the project ships, as `forge/name.json`."""
    return sorted(f"{path.parent.name}/{path.name}" for path in FIXTURES.glob("*/*.json"))


def corpus_files() -> list[str]:
    """Every payload file in the corpus, as `forge/name.json`; none without the corpus."""
    return [f"{path.parent.name}/{path.name}" for path in corpus_paths("webhooks", "*/*.json")]


def webhook_files() -> list[str]:
    """The project's payload files, then the corpus's when it is there."""
    return [*fixture_files(), *corpus_files()]
