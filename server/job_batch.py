"""Many arq jobs queued in one Redis round trip: a Lua script does what `ArqRedis.enqueue_job` does for each
job (skip it when its id is taken by a waiting job or a kept result; else store it and add it to the queue),
atomically, for a whole group (the triggers of a burst of webhooks), instead of three round trips per job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms

ENQUEUE_MANY = """
local queued = {}
for n = 1, #KEYS / 2 do
  local job_key, result_key = KEYS[2 * n - 1], KEYS[2 * n]
  if redis.call('exists', job_key, result_key) == 0 then
    redis.call('psetex', job_key, ARGV[1], ARGV[3 * n + 2])
    redis.call('zadd', ARGV[2], ARGV[3 * n + 1], ARGV[3 * n])
    queued[n] = 1
  else
    queued[n] = 0
  end
end
return queued
"""
"""KEYS: each job's key and result key; ARGV: expiry (ms), queue, then each job's id, score and data."""


@dataclass(frozen=True)
class QueuedJob:
    """A job to queue: its function's name, arguments and (unique) id."""

    function: str
    args: tuple[Any, ...]
    job_id: str


async def enqueue_many(jobs: ArqRedis, queue: str, wanted: Sequence[QueuedJob]) -> list[bool]:
    """Queue the jobs in one round trip, as arq would one by one; per job, False when its id was taken."""
    if not wanted:
        return []
    now = timestamp_ms()
    keys: list[str] = []
    args: list[Any] = [jobs.expires_extra_ms, queue]
    for job in wanted:
        keys += [job_key_prefix + job.job_id, result_key_prefix + job.job_id]
        data = serialize_job(job.function, job.args, {}, None, now, serializer=jobs.job_serializer)
        args += [job.job_id, now, data]
    script = jobs.register_script(ENQUEUE_MANY)
    answers = await script(keys=keys, args=args, client=jobs)
    return [bool(answer) for answer in answers]
