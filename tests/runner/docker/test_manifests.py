"""A pull the policy asks for is skipped only when the registry names the very image already here."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from aiodocker import Docker
from aiohttp import web

from runner.docker.images import ImagePuller, PullRequest
from runner.docker.manifests import ManifestDigests, Reference, _insecure, local_digests, parse_reference
from runner.engine import RegistryAuth

DIGEST = "sha256:" + "1" * 64


@pytest.mark.parametrize(
    ("image", "reference"),
    [
        ("busybox", Reference("docker.io", "library/busybox", "latest")),
        ("busybox:1.36", Reference("docker.io", "library/busybox", "1.36")),
        ("octo/app", Reference("docker.io", "octo/app", "latest")),
        ("docker.io/library/busybox:latest", Reference("docker.io", "library/busybox", "latest")),
        ("index.docker.io/octo/app:2", Reference("docker.io", "octo/app", "2")),
        ("127.0.0.1:5000/x/y", Reference("127.0.0.1:5000", "x/y", "latest")),
        ("localhost:5000/x:v1", Reference("localhost:5000", "x", "v1")),
        ("ghcr.io/a/b:latest", Reference("ghcr.io", "a/b", "latest")),
    ],
)
def test_references_are_split_as_a_registry_is_asked(image: str, reference: Reference) -> None:
    assert parse_reference(image) == reference


def test_a_reference_pinned_by_digest_is_never_asked_about() -> None:
    assert parse_reference(f"busybox@{DIGEST}") is None


def test_local_digests_are_qualified_like_the_reference() -> None:
    inspected = {"RepoDigests": [f"busybox@{DIGEST}", f"127.0.0.1:5000/library/busybox@{DIGEST}", "junk"]}
    assert local_digests(inspected) == {
        ("docker.io/library/busybox", DIGEST),
        ("127.0.0.1:5000/library/busybox", DIGEST),
    }
    assert local_digests({"RepoDigests": None}) == set()


@pytest.mark.parametrize(
    ("host", "insecure"),
    [("127.0.0.1:5000", True), ("localhost:5000", True), ("10.0.0.1:5000", False), ("ghcr.io", False)],
)
def test_insecure_registries_follow_the_engine_configuration(host: str, insecure: bool) -> None:
    config = {"InsecureRegistryCIDRs": ["127.0.0.0/8"], "IndexConfigs": {"docker.io": {"Secure": True}}}
    assert _insecure(host, config) is insecure


# -- on the real engine and registries ---------------------------------------------------------------


class CountingPuller(ImagePuller):
    """Counts the pulls it really makes."""

    pulls = 0

    async def _pull(self, request: PullRequest) -> None:
        self.pulls += 1
        await super()._pull(request)


@pytest.fixture
async def puller(docker_host: str) -> AsyncIterator[CountingPuller]:
    docker = Docker(docker_host)
    puller = CountingPuller(docker)
    try:
        yield puller
    finally:
        await puller.close()
        await docker.close()


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def pushed(services: dict[str, str]) -> Iterator[str]:
    """A `:latest` tag of busybox pushed to the test registry, and pulled here."""
    image = f"{services['HANGAR_REGISTRY']}/hangar-tests/digest-{uuid.uuid4().hex[:8]}:latest"
    docker("tag", "busybox", image)
    docker("push", "-q", image)
    try:
        yield image
    finally:
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True, check=False)


async def test_an_image_up_to_date_is_not_pulled_again(puller: CountingPuller, pushed: str) -> None:
    await puller.ensure("stage-a", PullRequest(pushed, "default"))
    await puller.ensure("stage-b", PullRequest(pushed, "always"))
    assert puller.pulls == 0


async def test_a_tag_moved_on_the_registry_is_pulled(puller: CountingPuller, pushed: str) -> None:
    container = f"hangar-tests-{uuid.uuid4().hex[:8]}"
    docker("run", "--name", container, "busybox", "sh", "-c", "echo v2 > /version")
    try:
        newer = docker("commit", container, pushed)
    finally:
        docker("rm", "-f", container)
    docker("push", "-q", pushed)
    docker("tag", "busybox", pushed)  # here, the tag still names the old image
    await puller.ensure("stage-a", PullRequest(pushed, "default"))
    assert puller.pulls == 1
    assert docker("image", "inspect", "--format", "{{.Id}}", pushed) == newer


async def test_a_registry_refusing_without_credentials_gets_the_pull_and_its_error(
    puller: CountingPuller, services: dict[str, str]
) -> None:
    registry = services["HANGAR_AUTH_REGISTRY"]
    user, password = services["HANGAR_AUTH_REGISTRY_USER"], services["HANGAR_AUTH_REGISTRY_PASSWORD"]
    image = f"{registry}/private/busybox:latest"
    auth = RegistryAuth(registry, user, password)
    await puller.ensure("stage-a", PullRequest(image, "always", auth))  # present now, whatever it was before
    pulls = puller.pulls
    await puller.ensure("stage-b", PullRequest(image, "always", auth))
    assert puller.pulls == pulls  # with credentials, the registry's answer shows the image is current
    with pytest.raises(Exception, match="could not pull"):
        await puller.ensure("stage-c", PullRequest(image, "always"))
    assert puller.pulls == pulls + 1


async def test_a_bearer_challenge_is_answered_with_a_token_for_the_repository() -> None:
    seen: list[str] = []

    async def token(request: web.Request) -> web.Response:
        seen.append(
            f"{request.query['scope']} {request.query['service']} {request.headers.get('Authorization')}"
        )
        return web.json_response({"token": "t0ken"})

    async def manifest(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer t0ken":
            realm = f"http://{request.host}/token"
            challenge = f'Bearer realm="{realm}",service="reg",scope="repository:octo/app:pull"'
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        return web.Response(headers={"Docker-Content-Digest": DIGEST})

    app = web.Application()
    app.router.add_get("/token", token)
    app.router.add_route("HEAD", "/v2/octo/app/manifests/latest", manifest)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    digests = ManifestDigests(Docker("unix:///nonexistent.sock"))
    try:
        reference = Reference(f"127.0.0.1:{port}", "octo/app", "latest")
        auth = RegistryAuth(reference.host, "octo", "secret")
        assert await digests._head(f"http://127.0.0.1:{port}", reference, auth) == DIGEST
        assert await digests._head(f"http://127.0.0.1:{port}", reference, None) == DIGEST
    finally:
        await digests.close()
        await digests._docker.close()
        await runner.cleanup()
    assert seen == [
        "repository:octo/app:pull reg Basic b2N0bzpzZWNyZXQ=",
        "repository:octo/app:pull reg None",
    ]


async def test_an_image_of_another_platform_is_never_taken_for_the_one_a_pull_would_fetch(
    docker_host: str,
) -> None:
    docker = Docker(docker_host)
    digests = ManifestDigests(docker)
    try:
        here = await docker.images.inspect("busybox")
        assert await digests.native(here)
        other = "s390x" if here["Architecture"] != "s390x" else "amd64"
        assert not await digests.native({**here, "Architecture": other})
    finally:
        await digests.close()
        await docker.close()
