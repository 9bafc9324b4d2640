"""Protected mode's signatures: a file signs the rest of itself, any edit breaks it, re-signing is stable."""

from __future__ import annotations

from pipelines.signature import is_signed, signature_of, signatures_in, signed, unsigned

FILE = """\
kind: pipeline
name: test
steps:
  - name: test
    image: busybox
    commands: [echo hi]
"""
KEY = "repository-signing-key"


def test_a_signed_file_verifies_under_its_key_only() -> None:
    text = signed(FILE, KEY)
    assert text.startswith(FILE) and text.rstrip().endswith(signature_of(FILE, KEY))
    assert is_signed(text, KEY)
    assert not is_signed(text, "another key")
    assert not is_signed(FILE, KEY), "no signature document: not signed"


def test_any_edit_breaks_the_signature() -> None:
    text = signed(FILE, KEY)
    assert not is_signed(text.replace("echo hi", "echo pwned"), KEY)
    assert not is_signed(text + "---\nkind: pipeline\nname: extra\nsteps: []\n", KEY)


def test_signing_again_replaces_the_old_signature_and_is_stable() -> None:
    once = signed(FILE, KEY)
    assert signed(once, KEY) == once
    edited = once.replace("echo hi", "echo bye")
    again = signed(edited, KEY)
    assert len(signatures_in(again)) == 1 and is_signed(again, KEY)


def test_the_signature_document_may_sit_anywhere_and_be_quoted() -> None:
    hmac = signature_of(FILE, KEY)
    text = f"---\nkind: 'signature'\nhmac: \"{hmac}\"\n---\n{FILE}"
    assert unsigned(text) == FILE
    assert is_signed(text, KEY)
