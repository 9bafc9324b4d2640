"""The key the secret columns are encrypted with: a value or file given by setting (every replica of a
production deployment must have the same one), else `secret.key` generated into the data folder; and the
start-up check that it is the key the database was written with."""

from __future__ import annotations

from sqlmodel import col, select

from server.crypto import Cipher
from server.db.engine import create_engine, session_factory
from server.db.models import Repo, Secret
from server.settings import Settings


class KeyMismatch(Exception):
    """The database's secrets were stored with another key (the message says what to do)."""


def cipher_for(settings: Settings) -> Cipher:
    """The cipher of `HANGAR_SECRET_KEY`, else of the key file (`HANGAR_SECRET_KEY_FILE`, else the data
    folder's `secret.key`, generated on first start)."""
    if settings.secret_key:
        return Cipher(settings.secret_key.encode())
    return Cipher.from_file(settings.key_file)


async def check_key(settings: Settings) -> None:
    """Refuse to start (KeyMismatch) when an encrypted value in the database does not open with this key,
    rather than failing every request that needs one (a replica that generated a key of its own)."""
    cipher = cipher_for(settings)
    engine = create_engine(settings.sqlalchemy_url)
    try:
        async with session_factory(engine)() as session:
            stored = (
                await session.exec(select(Repo.webhook_secret).where(col(Repo.webhook_secret) != "").limit(1))
            ).first() or (await session.exec(select(Secret.value).limit(1))).first()
    finally:
        await engine.dispose()
    try:
        cipher.decrypt(stored or "")
    except ValueError:
        where = "HANGAR_SECRET_KEY" if settings.secret_key else f"the key file {settings.key_file}"
        raise KeyMismatch(
            f"the database's secrets were not encrypted with {where}: give every server, worker and "
            "`hangar up` of this database the same key (HANGAR_SECRET_KEY, or HANGAR_SECRET_KEY_FILE "
            "pointing at a copy of the first one's secret.key)"
        ) from None
