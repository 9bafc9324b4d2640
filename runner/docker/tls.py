"""aiohttp imported without reading the system's CA certificates twice at start-up.

Importing aiohttp makes two default SSL contexts, and each reads the whole CA bundle (~25 ms apiece here) —
the second one for a context that verifies nothing. A runner or `hangar exec` talking to the Docker engine on
its unix socket may never open a TLS connection. Imported through `import_aiohttp`, the contexts made during
the import read the same certificates just before their first use instead (a handshake, or asking what they
hold), so every connection is verified exactly as before.
"""

from __future__ import annotations

import importlib
import ssl
import sys
import threading
from collections.abc import Callable
from typing import Any

_FIRST_USES = ("wrap_socket", "wrap_bio", "get_ca_certs", "cert_store_stats")
"""What a context does that needs its certificates (asyncio's TLS connections call wrap_bio)."""
_LOAD = "set_default_verify_paths"
_lock = threading.Lock()


def import_aiohttp() -> None:
    """Import aiohttp (once a process), its import-time SSL contexts reading their certificates when used."""
    if "aiohttp" in sys.modules:
        return
    deferred: list[ssl.SSLContext] = []

    def record(context: ssl.SSLContext) -> None:
        deferred.append(context)

    setattr(ssl.SSLContext, _LOAD, record)  # (a class attribute shadowing _ssl._SSLContext's method)
    try:
        importlib.import_module("aiohttp")
    finally:
        delattr(ssl.SSLContext, _LOAD)
    for context in deferred:
        _defer(context)


def _defer(context: ssl.SSLContext) -> None:
    """Make the context read the default certificates on its first use (instance attributes shadowing the
    methods until then)."""
    for name in _FIRST_USES:
        setattr(context, name, _first_use(context, getattr(type(context), name)))


def _first_use(context: ssl.SSLContext, method: Callable[..., Any]) -> Callable[..., Any]:
    def loaded_then(*args: Any, **kwargs: Any) -> Any:
        _load(context)
        return method(context, *args, **kwargs)

    return loaded_then


def _load(context: ssl.SSLContext) -> None:
    with _lock:
        if _FIRST_USES[0] in vars(context):
            for name in _FIRST_USES:
                delattr(context, name)
            context.set_default_verify_paths()
