"""A `hangar worker` killed in the middle of a job: another worker takes the job about `job_lease_seconds`
later (arq alone would leave it marked in progress for its longest job timeout, 30 minutes)."""

from __future__ import annotations

from pathlib import Path

import httpx
import redis
from cryptography.fernet import Fernet

from tests.e2e.processes import hangar_parts, hangar_worker, wait_until
from tests.server.support import WEBHOOK_SECRET, github_headers, github_push, silent_git_server


def test_the_job_of_a_killed_worker_is_taken_by_another_worker(
    tmp_path: Path, services: dict[str, str]
) -> None:
    with redis.Redis.from_url(services["HANGAR_TEST_REDIS_URL"]) as client:
        client.flushdb()  # no job of an earlier run under the same id (job ids follow the database's row ids)
    env = {
        "HANGAR_DATABASE_URL": f"sqlite:///{tmp_path / 'hangar.db'}",
        "HANGAR_REDIS_URL": services["HANGAR_TEST_REDIS_URL"],
        "HANGAR_JOB_LEASE_SECONDS": "3",
        "HANGAR_SECRET_KEY": Fernet.generate_key().decode(),
    }
    with silent_git_server() as forge, hangar_parts(tmp_path / "data", env, worker=False) as hangar:
        with hangar.api() as api:
            clone_url = f"http://127.0.0.1:{forge.port}/octo/app.git"
            body = {"owner": "octo", "name": "app", "clone_url": clone_url, "webhook_secret": WEBHOOK_SECRET}
            assert api.post("/api/repos", json=body).status_code == 201
        hook = github_push("octo", "app", "0" * 40, "a" * 40, "go")
        answer = httpx.post(f"{hangar.url}/hook", content=hook, headers=github_headers(hook), trust_env=False)
        assert answer.status_code == 202
        with hangar_worker(tmp_path / "first", env, tmp_path / "first.log") as first:
            wait_until(lambda: len(forge.accepted) >= 1, "the first worker's fetch", 60, hangar.output())
            first.kill()
            first.wait()
        taken_at = len(forge.accepted)
        with hangar_worker(tmp_path / "second", env, tmp_path / "second.log") as second:
            waited = wait_until(
                lambda: len(forge.accepted) > taken_at,
                "the second worker to take the job again",
                90,
                (tmp_path / "second.log").read_text(errors="replace"),
            )
            second.kill()  # its fetch hangs on the silent forge: a graceful stop would wait for it
        print(f"the second worker fetched again {waited:.1f}s after it started (job lease 3 s)")
