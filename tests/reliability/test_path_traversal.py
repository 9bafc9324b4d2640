"""Path traversal is refused: pipelines cannot mount host paths (untrusted) nor leave the workspace, hostile
path segments in API, page and download addresses get a 4xx and never another repository's data, and a
hostile step name cannot inject a header into a log download."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from pipelines import ConfigError
from pipelines.status import Status
from runner.docker import DockerEngine
from runner.executor import run_stage
from runner.workspace import local_workspace
from server.app import create_app
from server.services import Services
from tests.e2e.processes import Hangar, hangar_up
from tests.e2e.test_push_to_build import push_and_hook, register
from tests.peers import RecordingForge
from tests.reliability.sweep import (
    asgi_request,
    every_route,
    fill,
)
from tests.runner.support import RecordingReporter, plan_of
from tests.server.api.seed import StageSeed, add_build, add_lines, add_repo
from tests.server.support import PushedRepo

HOST_CANARY = "host-file-canary-61d2c9"


def pipeline(volumes: str = "", steps: str = "", workspace: str = "") -> str:
    """A one-step pipeline that reads /x/secret, with the given volume, step and workspace keys."""
    step = steps or "    volumes:\n      - name: host\n        path: /x\n"
    return (
        "kind: pipeline\nname: default\nclone: {disable: true}\n" + workspace
        + "steps:\n  - name: read\n    image: busybox\n    commands: [cat /x/secret]\n" + step + volumes
    )  # fmt: skip


HOST_LINE = "  - name: host"
"""The line of the pipeline's host volume, where the compiler points."""
HOST_VOLUME = "volumes:\n  - name: host\n    host:\n      path: {path}\n"


@pytest.mark.parametrize(
    ("text", "trusted", "line_of", "message"),
    [
        (
            pipeline(HOST_VOLUME.format(path="/etc")),
            False,
            HOST_LINE,
            "host volume 'host' needs a trusted repository",
        ),
        (
            pipeline(steps='    volumes: ["/etc:/x"]\n'),
            True,
            '    volumes: ["/etc:/x"]',
            "a volume must be a map of keys to values, not the value '/etc:/x'",
        ),
        (
            pipeline(HOST_VOLUME.format(path="../../etc")),
            True,
            HOST_LINE,
            "must be absolute and must not contain '..'",
        ),
        (pipeline(HOST_VOLUME.format(path="/var/cache/../../etc")), True, HOST_LINE, "must not contain '..'"),
        (pipeline(HOST_VOLUME.format(path="etc")), True, HOST_LINE, "host path 'etc' must be absolute"),
        (
            pipeline(
                "volumes:\n  - name: host\n    temp: {}\n",
                "    volumes:\n      - name: host\n        path: /drone/src/../../x\n",
            ),
            True,
            "      - name: host",
            "mount path '/drone/src/../../x' must be absolute and must not contain '..'",
        ),
        (
            pipeline(workspace="workspace:\n  base: /drone\n  path: ../../etc\n", steps="\n"),
            True,
            "  base: /drone",
            "workspace '/drone/../../etc' must be an absolute path without '..'",
        ),
        (
            pipeline(workspace="workspace:\n  base: drone/src\n", steps="\n"),
            True,
            "  base: drone/src",
            "must be an absolute path",
        ),
        (
            pipeline(workspace="workspace:\n  base: /etc\n", steps="\n"),
            True,
            "  base: /etc",
            "would hide the container's own",
        ),
        (
            pipeline(
                HOST_VOLUME.format(path="/dev/sda"),
                "    devices:\n      - name: host\n        path: /dev/x\n",
            ),
            False,
            "      - name: host",
            "sets `devices`, which needs a trusted repository",
        ),
    ],
)
def test_a_pipeline_that_reaches_for_the_host_or_out_of_its_workspace_does_not_compile(
    text: str, trusted: bool, line_of: str, message: str
) -> None:
    line = [row.rstrip() for row in text.splitlines()].index(line_of) + 1  # where the bad value starts
    with pytest.raises(ConfigError) as refused:
        plan_of(text, trusted=trusted)
    found = [p for p in refused.value.problems if message in p.message]
    assert found, [p.format() for p in refused.value.problems]
    assert found[0].line == line, found[0].format()


@pytest.fixture
async def engine(docker_host: str) -> AsyncIterator[DockerEngine]:
    async with await DockerEngine.connect() as engine:
        yield engine


@pytest.fixture
def host_folder(tmp_path: Path) -> Path:
    """A host folder holding a file `secret` that no untrusted container may read."""
    folder = tmp_path / "host"
    folder.mkdir()
    (folder / "secret").write_text(f"{HOST_CANARY}\n")
    return folder


async def test_only_a_trusted_repository_mounts_a_host_folder_into_a_real_container(
    engine: DockerEngine, host_folder: Path
) -> None:
    text = pipeline(HOST_VOLUME.format(path=host_folder))
    with pytest.raises(ConfigError):
        plan_of(text, trusted=False)
    reporter = RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(text, trusted=True))
    assert report.status == Status.SUCCESS, reporter.text("read")
    assert HOST_CANARY in reporter.text("read"), "the probe reads the host file when it is allowed to"


async def run_in_workspace(engine: DockerEngine, work: Path, commands: str) -> tuple[Status, Status, str]:
    """Run `commands` in a real container over a copy of `work`: the clone's and step's status, the log."""
    text = pipeline(steps="\n").replace("[cat /x/secret]", commands).replace("clone: {disable: true}\n", "")
    reporter = RecordingReporter()
    report = await run_stage(engine, reporter, plan_of(text), workspace=local_workspace(work))
    log = "\n".join(reporter.text("clone") + reporter.text("read"))
    return report.step("clone").status, report.step("read").status, log


async def test_absolute_symlinks_in_the_workspace_point_into_the_container_not_the_host(
    engine: DockerEngine, host_folder: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "absolute").symlink_to(host_folder / "secret")
    (work / "folder").symlink_to(host_folder, target_is_directory=True)
    commands = "[ls -la, 'cat absolute folder/secret']"
    clone, read, log = await run_in_workspace(engine, work, commands)
    assert (clone, read) == (Status.SUCCESS, Status.FAILURE), log
    assert "absolute ->" in log and "folder ->" in log, "the links were copied, as links"
    assert HOST_CANARY not in log


async def test_a_relative_symlink_climbing_out_of_the_workspace_never_reaches_the_host(
    engine: DockerEngine, host_folder: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "relative").symlink_to(Path("..") / "host" / "secret")
    _clone, read, log = await run_in_workspace(engine, work, "[cat relative]")
    # Today Docker refuses the whole copy ('invalid symlink'); were it accepted, the link would point at
    # /drone/host/secret inside the container. Either way the host file never shows.
    assert read != Status.SUCCESS, log
    assert HOST_CANARY not in log


@pytest.fixture
def hangar_process(tmp_path: Path, docker_host: str) -> Iterator[Hangar]:
    """`hangar up` with its own runner, on real Docker."""
    with hangar_up(tmp_path / "data") as running:
        yield running


async def test_hangar_up_refuses_a_host_volume_of_an_untrusted_repository_until_an_admin_trusts_it(
    hangar_process: Hangar, host_folder: Path, tmp_path: Path, forge: RecordingForge
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar_process, repo, forge)
    text = pipeline(HOST_VOLUME.format(path=host_folder))
    line = text.splitlines().index(HOST_LINE) + 1
    push_and_hook(hangar_process, repo, {".ci.yml": text}, "mount the host")
    refused = await asyncio.to_thread(hangar_process.wait_for_build, "octo/app", 1)
    assert refused["status"] == "error" and refused["stages"] == [], refused
    assert f".ci.yml:{line}:" in refused["error"] and "needs a trusted repository" in refused["error"]
    with hangar_process.api() as api:
        assert api.patch("/api/repos/octo/app", json={"trusted": True}).status_code == 200
        assert api.post("/api/repos/octo/app/builds/1").status_code == 201
    trusted = await asyncio.to_thread(hangar_process.wait_for_build, "octo/app", 2)
    assert trusted["status"] == "success", trusted
    with hangar_process.api() as api:
        lines = [line["out"] for line in api.get("/api/repos/octo/app/builds/2/logs/1/1").json()]
    assert HOST_CANARY in lines, "once trusted, the same pipeline reads the host file: the refusal was real"


OTHER_CANARY = "other-repo-canary-3e8b"
PUBLIC_LINE = "public-log-line"
HOSTILE = [
    "..", "%2e%2e", "%2E%2E", "..%2f..%2facme%2fother", "%2e%2e%2f%2e%2e%2facme%2fother", "%2f", "%252e%252e",
    "%252f", "%00", "%2500", "99999999999999999999", "2147483648", "4294967297", "-1", "+1", "%201", "1.0",
    "1e3", "0x1", "%D9%A1", "%EF%BC%91", "%C0%AE%C0%AE", "%ff", "..;", "%5c..%5c", "~", "%E2%80%AE",
    "x" * 5000, "%F0%9F%94%91", "1%0d%0aX-Injected:%20yes", "acme", "ACME", "other",
]  # fmt: skip


@pytest.fixture
async def two_repos(hangar: Services, redis_url: str) -> Starlette:
    """octo/hello (public, a build with a log) and acme/other (private, its log holding a canary)."""
    public = await add_repo(hangar, "octo", "hello")
    seeded = await add_build(
        hangar, public, "success", [StageSeed("test", "success", (("unit", "success"),))]
    )
    await add_lines(hangar, seeded.steps[(1, 1)], [PUBLIC_LINE])
    other = await add_repo(hangar, "acme", "other", private=True)
    hidden = await add_build(
        hangar, other, "success", [StageSeed("test", "success", (("unit", "success"),))], message=OTHER_CANARY
    )
    await add_lines(hangar, hidden.steps[(1, 1)], [OTHER_CANARY])
    return create_app(hangar.settings, redis_url, hangar)


async def test_hostile_path_segments_are_refused_never_crash_and_never_show_another_repository(
    two_repos: Starlette,
) -> None:
    values = {"owner": "octo", "name": "hello", "number": "1", "stage": "1", "step": "1", "secret": "s"}
    values |= {"stage_id": "1", "runner": "r", "path": "hangar.css", "cron": "nightly", "key": "t"}
    values |= {"entry_id": "1"}
    templates = [r.template for r in every_route(two_repos.routes) if r.params]
    templates.append("/api/repos/{owner}/{name}/builds/{number}/logs/{stage}/{step}?format=text")
    wrong, sent = [], 0
    for template in templates:
        for param in dict.fromkeys(p for p in values if "{" + p + "}" in template):
            for hostile in HOSTILE:
                path = fill(template, values | {param: hostile})
                answer = await asgi_request(two_repos, path, max_body=100_000)
                sent += 1
                body = answer.everything()
                injected = any(
                    b"injected" in k.lower() or b"\n" in v or b"\r" in v for k, v in answer.headers
                )
                if answer.status >= 500 or OTHER_CANARY.encode() in body or injected:
                    wrong.append(f"{path[:120]}: {answer.status} {answer.body[:120]!r}")
                elif answer.status == 200 and hostile not in ("acme", "ACME", "other"):
                    wrong.append(f"{path[:120]}: 200 for a hostile {param}")
    print(f"\n{sent} hostile requests over {len(templates)} routes")
    assert wrong == [], "\n".join(wrong[:40])


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server/app.py", "/static/%2e%2e/server/app.py", "/static/..%2f..%2fetc%2fpasswd",
        "/static/%252e%252e/server/app.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
        "/static/..%5c..%5cserver%5capp.py", "/static/hangar.css/../../../webui/__init__.py",
    ],
)  # fmt: skip
async def test_static_files_never_serve_a_file_outside_their_folder(two_repos: Starlette, path: str) -> None:
    answer = await asgi_request(two_repos, path)
    assert answer.status in (400, 404), (answer.status, answer.body[:200])
    assert b"import" not in answer.body and b"root:" not in answer.body


async def test_a_hostile_step_name_cannot_inject_a_header_into_a_log_download(
    hangar: Services,
    redis_url: str,
) -> None:
    repo = await add_repo(hangar, "octo", "hello")
    names = (
        ('st"age\r\nX-Stage: 1', "success"),
        ("\"; filename*=UTF-8''evil.sh\r\nX-Injected: yes", "success"),
    )
    seeded = await add_build(hangar, repo, "success", [StageSeed('sta"ge\r\n', "success", names)])
    await add_lines(hangar, seeded.steps[(1, 2)], ["hello"])
    app = create_app(hangar.settings, redis_url, hangar)
    answer = await asgi_request(app, "/api/repos/octo/hello/builds/1/logs/1/2?format=text")
    assert answer.status == 200 and answer.body == b"hello\n"
    names_sent = [name.lower() for name, _value in answer.headers]
    assert b"x-injected" not in names_sent and b"x-stage" not in names_sent
    disposition = answer.header("content-disposition")
    assert disposition.startswith('attachment; filename="octo-hello-1-sta_ge__-')
    assert disposition.count('"') == 2 and "\r" not in disposition and "\n" not in disposition
    assert "filename*" not in disposition
