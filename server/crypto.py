"""Secrets at rest: Fernet encryption, its key generated into the data folder on first start; token and
password hashes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken


class Cipher:
    """Encrypts and decrypts the secret columns (repository secrets, forge tokens, webhook secrets)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = key

    @classmethod
    def from_file(cls, path: Path) -> Cipher:
        """The key in `path`, created (readable by its owner only) when it does not exist yet."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    @property
    def installation(self) -> str:
        """A short id of this installation, the same on every replica sharing the key (one-way: says nothing
        of the key): it keeps two servers' repository ids apart where both reach one runner host."""
        digest = hashlib.sha256(b"hangar installation:" + self._key).hexdigest()
        return digest[:12]

    def encrypt(self, value: str) -> str:
        """The ciphertext of `value` ('' stays '')."""
        return self._fernet.encrypt(value.encode()).decode() if value else ""

    def decrypt(self, value: str) -> str:
        """The plaintext; raises ValueError when the key does not match."""
        if not value:
            return ""
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            reason = "cannot decrypt: the data folder's secret.key is not the one it was stored with"
            raise ValueError(reason) from None


def hash_token(token: str) -> str:
    """The SHA-256 a token is stored and looked up as."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random API or runner token."""
    return secrets.token_urlsafe(32)


_PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
"""Argon2id as OWASP's Password Storage Cheat Sheet configures it: 2 passes over 19 MiB, 1 lane (argon2-cffi's
defaults, 64 MiB, 3 passes, 4 lanes, raised the server's start-up peak for the admin's password alone). A
stored hash made with other parameters (those defaults too) still matches, and is replaced at the next
sign-in."""
_LEGACY_SCRYPT = "scrypt$"
"""How the hashes made before Argon2id start (`scrypt$n$r$p$salt$hash`, hex; n=2^14, r=8, p=1)."""


@dataclass(frozen=True)
class PasswordCheck:
    """Whether a password matched its stored hash, and the hash to store instead when that one is outdated."""

    matches: bool
    rehashed: str = ""
    """A fresh Argon2id hash of the password when it matched a legacy or outdated hash ('' otherwise)."""


def hash_password(password: str) -> str:
    """An Argon2id hash of a password, as a PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`)."""
    return _PASSWORDS.hash(password)


def check_password(password: str, stored: str) -> PasswordCheck:
    """Check `password` against `stored` (Argon2id, or the legacy scrypt); a match on a legacy hash or on
    Argon2 parameters other than ours comes with the hash to store instead. No stored hash matches nothing."""
    if stored.startswith(_LEGACY_SCRYPT):
        matches = _legacy_scrypt_matches(password, stored)
        return PasswordCheck(matches, hash_password(password) if matches else "")
    try:
        _PASSWORDS.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(matches=False)
    return PasswordCheck(True, hash_password(password) if _PASSWORDS.check_needs_rehash(stored) else "")


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from; False for no password."""
    return check_password(password, stored).matches


def _legacy_scrypt_matches(password: str, stored: str) -> bool:
    """Whether `password` is the one a legacy scrypt hash (`scrypt$n$r$p$salt$hash`) was made from."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
