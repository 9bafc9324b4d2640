"""Drone's protected mode: a pipeline file signs itself with a `kind: signature` document holding an HMAC
(SHA-256) of the rest of the file, keyed with the repository's secret signing key, so an edit by someone
without the key is seen and waits for approval."""

from __future__ import annotations

import hashlib
import hmac
import re

_DOCUMENT_START = re.compile(r"^---[ \t]*$", re.MULTILINE)
_SIGNATURE_KIND = re.compile(r"^kind:[ \t]*['\"]?signature['\"]?[ \t]*(#.*)?$", re.MULTILINE)
_HMAC = re.compile(r"^hmac:[ \t]*['\"]?([0-9a-fA-F]+)['\"]?[ \t]*(#.*)?$", re.MULTILINE)


def _documents(text: str) -> list[str]:
    return [part.strip("\n") for part in _DOCUMENT_START.split(text)]


def unsigned(text: str) -> str:
    """The file without its `kind: signature` documents, as it is signed (document by document, blank
    documents dropped, joined by `---`)."""
    kept = [doc for doc in _documents(text) if doc.strip() and not _SIGNATURE_KIND.search(doc)]
    return "\n---\n".join(kept) + "\n"


def signature_of(text: str, key: str) -> str:
    """The HMAC of the file (its signature documents left out) under `key`, in hex."""
    return hmac.new(key.encode(), unsigned(text).encode(), hashlib.sha256).hexdigest()


def signatures_in(text: str) -> list[str]:
    """The `hmac:` values of the file's signature documents."""
    found = []
    for doc in _documents(text):
        if _SIGNATURE_KIND.search(doc):
            match = _HMAC.search(doc)
            found.append(match.group(1).lower() if match else "")
    return found


def is_signed(text: str, key: str) -> bool:
    """Whether one of the file's signature documents matches the rest of it under `key`."""
    expected = signature_of(text, key)
    return any(hmac.compare_digest(found, expected) for found in signatures_in(text))


def signed(text: str, key: str) -> str:
    """The file with one signature document, up to date, at its end (what `hangar sign` writes)."""
    body = unsigned(text)
    return f"{body}---\nkind: signature\nhmac: {signature_of(body, key)}\n"
