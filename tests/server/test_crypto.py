"""Password hashes: Argon2id for new ones; a legacy scrypt hash still matches, and comes with its upgrade."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from server.crypto import PasswordCheck, check_password, hash_password, verify_password

PASSWORD = "correct horse battery"
LEGACY_SCRYPT_HASH = (
    "scrypt$16384$8$1$86b56d1e7a4be746105f752f8cdde203$"
    "0639deaa342732db87151c2a9a5c686bc95de8a9ed848ea7a77fced9956315df"
)
"""`PASSWORD` as the code before Argon2id stored it: `scrypt$n$r$p$salt$hash` (hex), n=2^14, r=8, p=1."""


def weak_argon2id_hash(password: str) -> str:
    """An Argon2id hash with cheaper parameters than Hangar's (as an older default would have made)."""
    return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(password)


def argon2_cffi_default_hash(password: str) -> str:
    """An Argon2id hash with argon2-cffi's defaults (64 MiB, t=3, p=4), which Hangar used before OWASP's."""
    return PasswordHasher().hash(password)


def test_a_new_hash_is_argon2id_salted_and_without_the_password() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert first != second  # salted
    assert PASSWORD not in first
    assert check_password(PASSWORD, first).matches and verify_password(PASSWORD, first)
    assert check_password(PASSWORD, first).rehashed == ""  # current: nothing to upgrade


def test_a_new_hash_has_the_owasp_cheat_sheet_parameters() -> None:
    assert hash_password(PASSWORD).startswith("$argon2id$v=19$m=19456,t=2,p=1$")  # 19 MiB, 2 passes, 1 lane


def test_a_legacy_scrypt_hash_matches_and_comes_with_its_argon2id_replacement() -> None:
    check = check_password(PASSWORD, LEGACY_SCRYPT_HASH)
    assert check.matches
    assert check.rehashed.startswith("$argon2id$")
    upgraded = check_password(PASSWORD, check.rehashed)
    assert upgraded.matches and upgraded.rehashed == ""
    assert not check_password("wrong", check.rehashed).matches


def test_an_argon2_hash_with_other_parameters_matches_and_is_upgraded() -> None:
    check = check_password(PASSWORD, weak_argon2id_hash(PASSWORD))
    assert check.matches
    assert check.rehashed.startswith("$argon2id$") and "m=8192" not in check.rehashed
    assert check_password(PASSWORD, check.rehashed).rehashed == ""


def test_a_hash_with_argon2_cffi_defaults_matches_and_is_rehashed_with_ours() -> None:
    check = check_password(PASSWORD, argon2_cffi_default_hash(PASSWORD))
    assert check.matches
    assert check.rehashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password(PASSWORD, check.rehashed) == PasswordCheck(matches=True, rehashed="")


@pytest.mark.parametrize("kind", ["argon2id", "legacy scrypt", "weak argon2id", "argon2-cffi defaults"])
def test_a_wrong_password_matches_no_hash_and_upgrades_nothing(kind: str) -> None:
    stored = {
        "argon2id": hash_password(PASSWORD),
        "legacy scrypt": LEGACY_SCRYPT_HASH,
        "weak argon2id": weak_argon2id_hash(PASSWORD),
        "argon2-cffi defaults": argon2_cffi_default_hash(PASSWORD),
    }[kind]
    for wrong in ("correct horse batteries", "", PASSWORD.upper()):
        check = check_password(wrong, stored)
        assert not check.matches and check.rehashed == ""
        assert not verify_password(wrong, stored)


@pytest.mark.parametrize(
    "stored", ["", "garbage", "scrypt$1$2", "$argon2id$v=19$m=65536,t=3,p=4$bad$bad", "$2b$12$" + "a" * 53]
)
def test_no_stored_hash_or_a_damaged_one_matches_nothing(stored: str) -> None:
    for password in (PASSWORD, ""):
        assert check_password(password, stored) == PasswordCheck(matches=False, rehashed="")
