"""Hostile webhooks through the in-process app: a wrong or missing signature is refused (401) with nothing
stored; a correctly signed but arbitrary or mangled payload (GitHub, Gitea/Forgejo, GitLab) never gets a 5xx
nor raises: it is accepted, ignored, or refused with a JSON error. The payloads are the project's own, and the
real-world corpus's when it is there."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import func, select

from server.db.models import Build, Delivery
from server.forges import detect_forge, read_payload, repository_slug
from server.services import Services
from tests.server.forges.replay import as_starlette, body_of, delivery_headers, hmac_hex, webhook_files
from tests.server.support import WEBHOOK_SECRET, register_repo

FILES = webhook_files()
EXAMPLES = hypothesis_settings(
    max_examples=int(os.environ.get("HANGAR_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SIGNATURES = (
    "X-Hub-Signature-256",
    "X-Hub-Signature",
    "X-Gitea-Signature",
    "X-Gogs-Signature",
    "X-Gitlab-Token",
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=80)


def slug_of(relative: str) -> tuple[str, str, str]:
    """The forge and repository a payload is about."""
    headers = as_starlette(delivery_headers(relative))
    forge = detect_forge(headers)
    assert forge is not None
    owner, name = repository_slug(forge, read_payload(headers, body_of(relative)))
    return forge, owner, name


@pytest.fixture
async def registered(hangar: Services) -> Services:
    """Every repository the payloads are about, registered with WEBHOOK_SECRET."""
    for forge, owner, name in sorted({slug_of(relative) for relative in FILES}):
        await register_repo(hangar, owner, name, "/nonexistent/repo.git", forge=forge)
    return hangar


def signed(relative: str, body: bytes) -> dict[str, str]:
    """The headers the file's forge sends with `body`, signed with WEBHOOK_SECRET by the forge's scheme."""
    headers = delivery_headers(relative, WEBHOOK_SECRET)
    digest = hmac_hex(WEBHOOK_SECRET, body)
    headers.pop("X-Hub-Signature", None)  # SHA-1 of the original body, never checked
    for name in ("X-Gitea-Signature", "X-Gogs-Signature"):
        if name in headers:
            headers[name] = digest
    if "X-Hub-Signature-256" in headers:
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    return headers


def on_the_wire(headers: dict[str, str]) -> dict[bytes, bytes]:
    """Headers as the bytes a client sends (latin-1, as HTTP/1.1 carries them)."""
    return {name.encode("latin-1"): value.encode("latin-1") for name, value in headers.items()}


async def stored(hangar: Services) -> tuple[int, int]:
    """How many deliveries and builds the database holds."""
    async with hangar.reading() as session:
        deliveries = (await session.exec(select(func.count()).select_from(Delivery))).one()
        builds = (await session.exec(select(func.count()).select_from(Build))).one()
    return deliveries, builds


def assert_answered_cleanly(answer: httpx.Response) -> None:
    """A 2xx, or a 4xx saying why in JSON; never a 5xx."""
    assert answer.status_code < 500, answer.text
    assert 200 <= answer.status_code < 300 or "error" in answer.json(), answer.text


@st.composite
def mangled(draw: st.DrawFn, document: Any, depth: int = 0) -> Any:
    """The JSON document with some values replaced, removed or re-typed (at times the repository's name)."""
    if isinstance(document, dict) and document and depth < 6:
        changed = dict(document)
        for key in draw(st.lists(st.sampled_from(sorted(changed)), max_size=3, unique=True)):
            action = draw(st.sampled_from(["recurse", "recurse", "replace", "delete"]))
            if action == "delete":
                del changed[key]
            elif action == "replace":
                changed[key] = draw(JSON)
            else:
                changed[key] = draw(mangled(changed[key], depth + 1))
        return changed
    if isinstance(document, list) and document and depth < 6:
        return [draw(mangled(item, depth + 1)) for item in document]
    return draw(st.sampled_from([document, document, None])) if depth else document


BAD_SIGNATURE = st.one_of(
    st.just(None),  # missing
    HEADER_TEXT,
    st.just("sha256=" + "0" * 64),
    st.just("0" * 64),
    st.just(hmac_hex("not-the-secret", b"")),
)


@EXAMPLES
@given(
    relative=st.sampled_from(FILES),
    signature=BAD_SIGNATURE,
    extra=st.dictionaries(st.sampled_from(SIGNATURES), HEADER_TEXT, max_size=2),
)
@example(relative=FILES[0], signature="sha256=" + hmac_hex(WEBHOOK_SECRET, b"other body"), extra={})
async def test_a_bad_or_missing_signature_is_refused_and_nothing_stored(
    relative: str,
    signature: str | None,
    extra: dict[str, str],
    registered: Services,
    client: httpx.AsyncClient,
) -> None:
    body = body_of(relative)
    headers = dict(delivery_headers(relative, WEBHOOK_SECRET))
    for name in SIGNATURES:
        headers.pop(name, None)
    for name, value in extra.items():  # a wrong value under any forge's signature header
        if value not in (WEBHOOK_SECRET, hmac_hex(WEBHOOK_SECRET, body)):
            headers[name] = value
    if signature is not None:
        headers["X-Gitlab-Token" if relative.startswith("gitlab/") else "X-Hub-Signature-256"] = signature
    answer = await client.post("/hook", content=body, headers=on_the_wire(headers))
    assert answer.status_code == 401, answer.text
    assert "error" in answer.json()
    assert await stored(registered) == (0, 0)


@EXAMPLES
@given(
    body=st.binary(max_size=500) | JSON.map(lambda value: json.dumps(value).encode()),
    forge=st.sampled_from(FILES),
    headers=st.dictionaries(
        st.sampled_from(["Content-Type", "X-GitHub-Event", "X-Gitea-Event", "X-Gitlab-Event", *SIGNATURES]),
        HEADER_TEXT,
        max_size=4,
    ),
)
async def test_arbitrary_unsigned_bodies_and_headers_store_nothing(
    body: bytes,
    forge: str,
    headers: dict[str, str],
    registered: Services,
    client: httpx.AsyncClient,
) -> None:
    sent = delivery_headers(forge) | headers
    answer = await client.post("/hook", content=body, headers=on_the_wire(sent))
    assert answer.status_code in (400, 401, 404), answer.text
    assert "error" in answer.json()
    assert await stored(registered) == (0, 0)


@st.composite
def signed_mangled_payload(draw: st.DrawFn) -> tuple[str, bytes]:
    """A payload, mangled, or arbitrary JSON about the same repository; with the file's name."""
    relative = draw(st.sampled_from(FILES))
    document = json.loads(body_of(relative))
    if draw(st.booleans()):
        forge, owner, name = slug_of(relative)
        document = draw(st.dictionaries(st.text(max_size=12), JSON, max_size=6))
        if forge == "gitlab":
            document["project"] = {"path_with_namespace": f"{owner}/{name}"}
        else:
            document["repository"] = {"full_name": f"{owner}/{name}"} | draw(
                st.dictionaries(st.sampled_from(["clone_url", "html_url", "private", "default_branch"]), JSON)
            )
    return relative, json.dumps(draw(mangled(document))).encode()


@EXAMPLES
@given(delivery=signed_mangled_payload())
async def test_signed_but_mangled_payloads_never_fail(
    delivery: tuple[str, bytes],
    registered: Services,
    client: httpx.AsyncClient,
) -> None:
    relative, body = delivery
    answer = await client.post("/hook", content=body, headers=signed(relative, body))
    assert_answered_cleanly(answer)
