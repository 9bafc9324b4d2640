"""Every webhook the project ships, and every one of the corpus when it is there, replayed byte for byte to
`POST /hook` with its documented headers: a forged signature is refused (401), the true one accepted."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from server.db.models import Delivery
from server.forges import Hook, Ping, detect_forge, parse_hook, read_payload, repository_slug
from server.services import Services
from tests.corpus import or_skip
from tests.server.forges.replay import as_starlette, body_of, corpus_files, delivery_headers, fixture_files
from tests.server.support import WEBHOOK_SECRET, register_repo

FILES = [
    *fixture_files(),
    *or_skip(corpus_files(), "webhooks", marks=[pytest.mark.corpus]),
]


@pytest.mark.parametrize("relative", FILES)
async def test_the_endpoint_answers_every_corpus_webhook(
    relative: str, client: httpx.AsyncClient, hangar: Services
) -> None:
    body = body_of(relative)
    headers = delivery_headers(relative, WEBHOOK_SECRET)
    forge = detect_forge(as_starlette(headers))
    assert forge is not None
    payload = read_payload(as_starlette(headers), body)
    owner, name = repository_slug(forge, payload)
    expected = parse_hook(forge, as_starlette(headers), payload)
    await register_repo(hangar, owner, name, "/nowhere", forge=forge)

    if "X-Gitea-Signature" in headers or "X-Hub-Signature-256" in headers or "X-Gitlab-Token" in headers:
        forged = dict(headers)
        for key in ("X-Gitea-Signature", "X-Gogs-Signature", "X-Hub-Signature-256", "X-Gitlab-Token"):
            if key in forged:
                forged[key] = "0" * 64 if key != "X-Hub-Signature-256" else "sha256=" + "0" * 64
        assert (await client.post("/hook", content=body, headers=forged)).status_code == 401
    answer = await client.post("/hook", content=body, headers=headers)
    if isinstance(expected, Hook):
        assert answer.status_code == 202, answer.text
        again = await client.post("/hook", content=body, headers=headers)
        assert again.status_code == 200 and "duplicate" in again.json()
    elif isinstance(expected, Ping):
        assert answer.status_code == 200 and answer.json() == {"message": "pong"}
    else:
        assert answer.status_code == 202 and answer.json() == {"ignored": expected.reason}
    async with hangar.reading() as session:
        deliveries = (await session.exec(select(Delivery))).all()
    assert len(deliveries) == (1 if isinstance(expected, Hook) else 0)
