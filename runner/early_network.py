"""`hangar exec`'s first stage network, begun while the command is still loading.

Creating a bridge network costs the engine ~100 ms, and the first step's container cannot be created before
it exists. Begun in a thread on the engine's unix socket (plain HTTP/1.0: no client library is loaded yet)
before the runner's modules are imported (~200 ms), it is ready when the stage starts; the engine's network
pool takes it as an idle network of its own. It is labelled like one, so if the process dies first, the next
start-up's sweep removes it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Mapping

from runner.labels import pool_network_body

_CREATED = 201
_TIMEOUT = 30.0
_UNIX = "unix://"
_DEFAULT_SOCKETS = ("/run/docker.sock", "/var/run/docker.sock")
"""Where Docker's client looks when `DOCKER_HOST` is not set (in this order, as aiodocker does)."""


class EarlyNetwork:
    """A pool network being created in a thread; `name()` waits for it."""

    def __init__(self, socket_path: str, labels: Mapping[str, str]) -> None:
        self.socket_path = socket_path
        self.adopted = False
        """Set by the engine that took it into its pool (which removes it in the end)."""
        self._body = pool_network_body(labels)
        self._created = False
        self._thread = threading.Thread(target=self._create, name="early network", daemon=True)
        self._thread.start()

    @classmethod
    def begin(cls, labels: Mapping[str, str]) -> EarlyNetwork | None:
        """Begin creating the network on the engine's unix socket: `DOCKER_HOST`'s, else Docker's default one
        if there is one (None otherwise: the stage creates its network as usual). An engine that connected
        elsewhere (a Docker context chose another) does not adopt it, and it is discarded."""
        default = next((_UNIX + path for path in _DEFAULT_SOCKETS if os.path.exists(path)), "")
        host = os.environ.get("DOCKER_HOST") or default
        return cls(host.removeprefix(_UNIX), labels) if host.startswith(_UNIX) else None

    def name(self) -> str | None:
        """The network's name once created; None if it could not be."""
        self._thread.join(_TIMEOUT)
        return str(self._body["Name"]) if self._created and not self._thread.is_alive() else None

    def discard(self) -> None:
        """Remove the network unless an engine adopted it (the run ended first: no engine, Ctrl-C)."""
        name = self.name()
        if name is not None and not self.adopted:
            self._request("DELETE", f"/networks/{name}", b"")

    def _create(self) -> None:
        self._created = self._request("POST", "/networks/create", json.dumps(self._body).encode()) == _CREATED

    def _request(self, method: str, path: str, body: bytes) -> int:
        """An HTTP/1.0 request on the engine's socket: the answer's status (0 if none came)."""
        head = (
            f"{method} {path} HTTP/1.0\r\nHost: docker\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(_TIMEOUT)
                connection.connect(self.socket_path)
                connection.sendall(head.encode() + body)
                status_line = connection.makefile("rb").readline().split()
        except OSError:
            return 0
        return int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
