"""Two runners on one server, 20 builds: every stage runs exactly once, on one of them."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from tests.e2e.processes import hangar_runner, hangar_up
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

BUILDS = 20

PIPELINE = """\
kind: pipeline
name: count
steps:
  - name: mark
    image: busybox
    commands:
      - echo "build $DRONE_BUILD_NUMBER on $HOSTNAME" >> /marks/ran
      - echo "marked build $DRONE_BUILD_NUMBER"
    volumes:
      - name: marks
        path: /marks
volumes:
  - name: marks
    host:
      path: {marks}
"""


async def test_two_runners_share_twenty_builds_and_run_each_stage_once(
    tmp_path: Path, docker_host: str
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    marks.chmod(0o777)
    repo = PushedRepo(tmp_path / "git")
    with (
        hangar_up(tmp_path / "data", "--no-runner") as hangar,
        hangar_runner(hangar.url, "runner-a", tmp_path / "runner-a.log", capacity=2),
        hangar_runner(hangar.url, "runner-b", tmp_path / "runner-b.log", capacity=2),
    ):
        body = {
            "owner": "octo",
            "name": "app",
            "clone_url": str(repo.bare),
            "webhook_secret": WEBHOOK_SECRET,
            "trusted": True,
        }
        with hangar.api() as api:
            assert api.post("/api/repos", json=body).status_code == 201
        hooks = []
        for number in range(1, BUILDS + 1):
            before, sha = repo.push(
                {".ci.yml": PIPELINE.format(marks=marks), "n.txt": str(number)}, f"change {number}"
            )
            hooks.append(github_push("octo", "app", before, sha, f"change {number}"))
        async with httpx.AsyncClient(base_url=hangar.url, trust_env=False) as client:
            answers = await asyncio.gather(
                *(client.post("/hook", content=h, headers=github_headers(h)) for h in hooks)
            )
        assert [answer.status_code for answer in answers] == [202] * BUILDS
        builds = [await asyncio.to_thread(hangar.wait_for_build, "octo/app", n) for n in range(1, BUILDS + 1)]

    assert [build["status"] for build in builds] == ["success"] * BUILDS, [b["error"] for b in builds]
    runners = Counter(build["stages"][0]["runner"] for build in builds)
    assert set(runners) == {"runner-a", "runner-b"}, runners
    ran = Counter(line.split()[1] for line in (marks / "ran").read_text().splitlines())
    assert ran == Counter({str(n): 1 for n in range(1, BUILDS + 1)}), "each stage ran exactly once"
