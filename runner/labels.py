"""The labels on what Hangar creates in Docker, and a pooled stage network's body (no Docker client needed:
`hangar exec` uses them before its engine's modules are loaded)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from secrets import token_hex
from typing import Any

MANAGED_LABEL = "io.hangar.managed"
STAGE_LABEL = "io.hangar.stage"
STEP_LABEL = "io.hangar.step"
OWNER_LABEL = "io.hangar.owner"
RUNNER_LABEL = "io.hangar.runner"
POOL_LABEL = "io.hangar.pool"
"""On every network of a pool: it belongs to no one stage (its stage label is not set)."""


def owner_label() -> str:
    """This process as an owner: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def pool_network_body(labels: Mapping[str, str]) -> dict[str, Any]:
    """`POST /networks/create` for a new pool network (a fresh name) carrying `labels` but a stage's."""
    own = {key: value for key, value in labels.items() if key != STAGE_LABEL}
    return {
        "Name": f"hangar-net-{token_hex(6)}",
        "Driver": "bridge",
        "Labels": {**own, MANAGED_LABEL: "true", POOL_LABEL: "true"},
    }
