"""Secrets at rest: Fernet encryption, its key generated into the data folder on first start; token hashes."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class Cipher:
    """Encrypts and decrypts the secret columns (repository secrets, forge tokens, webhook secrets)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_file(cls, path: Path) -> Cipher:
        """The key in `path`, created (readable by its owner only) when it does not exist yet."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

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
