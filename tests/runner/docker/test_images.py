"""The pure rules of image pulling: which tags `default` re-pulls, and the reference sent with credentials."""

from __future__ import annotations

import pytest

from runner.docker.images import _is_latest, _qualified

DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("image", "latest"),
    [
        ("busybox", True),
        ("busybox:latest", True),
        ("busybox:1.36", False),
        ("ghcr.io/octo/tool", True),
        ("ghcr.io/octo/tool:v2", False),
        ("localhost:5000/x", True),  # the port is not a tag
        ("localhost:5000/x:latest", True),
        ("localhost:5000/x:1", False),
        (f"busybox@{DIGEST}", False),
        (f"busybox:latest@{DIGEST}", False),  # a digest pins the image
    ],
)
def test_default_policy_repulls_only_latest_tags(image: str, latest: bool) -> None:
    assert _is_latest(image) is latest


@pytest.mark.parametrize(
    ("image", "qualified"),
    [
        ("busybox", "docker.io/library/busybox"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox"),
        ("octo/app:1", "docker.io/octo/app:1"),
        ("docker.io/library/busybox", "docker.io/library/busybox"),
        ("ghcr.io/a/b:1", "ghcr.io/a/b:1"),
        ("127.0.0.1:5001/private/busybox", "127.0.0.1:5001/private/busybox"),
    ],
)
def test_the_registry_host_is_spelled_out(image: str, qualified: str) -> None:
    assert _qualified(image) == qualified


@pytest.mark.parametrize("image", ["index.docker.io/library/busybox", "registry-1.docker.io/library/busybox"])
def test_a_docker_hub_alias_is_not_doubled(image: str) -> None:
    assert _qualified(image) in (image, "docker.io/library/busybox")
