"""Registry credentials: Docker config.json documents, image hosts, and which credentials an image gets."""

from __future__ import annotations

import base64
import json

import pytest

from runner.engine import RegistryAuth
from runner.registry_auth import auth_for_image, image_host, parse_docker_config, registry_host


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CONFIG = json.dumps(
    {
        "auths": {
            "https://index.docker.io/v1/": {"auth": b64("hubuser:hub:pass")},
            "127.0.0.1:5001": {"username": "local", "password": "s3cret"},
            "https://GHCR.io": {"auth": b64("octo:ghp_token"), "email": "octo@example.com"},
            "quay.io": {},
        },
        "credsStore": "desktop",
    }
)


def test_a_docker_config_gives_credentials_per_normalised_host() -> None:
    assert parse_docker_config(CONFIG) == [
        RegistryAuth("docker.io", "hubuser", "hub:pass"),
        RegistryAuth("127.0.0.1:5001", "local", "s3cret"),
        RegistryAuth("ghcr.io", "octo", "ghp_token"),
    ]


def test_entries_without_a_user_are_ignored() -> None:
    text = json.dumps({"auths": {"a.io": {"password": "p"}, "b.io": "nonsense", "c.io": {"auth": ""}}})
    assert parse_docker_config(text) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"auths": {', "not a Docker config.json: .* at line 1"),
        ("[]", 'no "auths" object'),
        ('{"auths": []}', 'no "auths" object'),
        ('{"credsStore": "desktop"}', 'no "auths" object'),
    ],
)
def test_a_document_that_is_not_a_docker_config_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_docker_config(text)


def test_an_auth_that_is_not_base64_is_refused_naming_the_registry() -> None:
    text = json.dumps({"auths": {"registry.example.com": {"auth": "abc"}}})
    with pytest.raises(ValueError, match=r"'registry\.example\.com' is not base64 of user:password"):
        parse_docker_config(text)


def test_an_auth_that_is_not_utf8_is_refused() -> None:
    text = json.dumps({"auths": {"r.io": {"auth": base64.b64encode(b"\xff\xfe:x").decode()}}})
    with pytest.raises(ValueError, match=r"'r\.io'"):
        parse_docker_config(text)


@pytest.mark.parametrize("auth", ["%%%%", b64("userpass")])
def test_an_auth_that_is_not_user_colon_password_is_refused(auth: str) -> None:
    text = json.dumps({"auths": {"r.io": {"auth": auth}}})
    with pytest.raises(ValueError, match=r"'r\.io'"):
        parse_docker_config(text)


@pytest.mark.parametrize(
    ("image", "host"),
    [
        ("busybox", "docker.io"),
        ("busybox:1.36", "docker.io"),
        ("busybox@sha256:" + "a" * 64, "docker.io"),
        ("library/busybox", "docker.io"),
        ("octo/app:1.0", "docker.io"),
        ("docker.io/library/busybox", "docker.io"),
        ("index.docker.io/library/busybox", "docker.io"),
        ("ghcr.io/a/b:1", "ghcr.io"),
        ("localhost/x", "localhost"),
        ("localhost:5000/x", "localhost:5000"),
        ("127.0.0.1:5001/private/busybox", "127.0.0.1:5001"),
    ],
)
def test_image_host(image: str, host: str) -> None:
    assert image_host(image) == host


@pytest.mark.parametrize(
    ("address", "host"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("http://127.0.0.1:5001/v2/", "127.0.0.1:5001"),
        ("GHCR.IO", "ghcr.io"),
    ],
)
def test_registry_host(address: str, host: str) -> None:
    assert registry_host(address) == host


def test_an_image_gets_the_credentials_of_its_own_registry() -> None:
    auths = parse_docker_config(CONFIG)
    assert auth_for_image("127.0.0.1:5001/private/busybox:latest", auths) == RegistryAuth(
        "127.0.0.1:5001", "local", "s3cret"
    )
    assert auth_for_image("busybox", auths) == RegistryAuth("docker.io", "hubuser", "hub:pass")
    assert auth_for_image("ghcr.io/octo/tool", auths) == RegistryAuth("ghcr.io", "octo", "ghp_token")
    assert auth_for_image("127.0.0.1:5002/private/busybox", auths) is None
    assert auth_for_image("quay.io/x/y", auths) is None
    assert auth_for_image("busybox", []) is None
