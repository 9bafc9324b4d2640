"""Every name the server gives things in Redis, in one place (as arq's `constants.py`): the job queue and job
ids, live-event channels, keys and locks.

A name built from a database id relies on that id never being handed out twice: the tables whose ids appear
here are AUTOINCREMENT on SQLite (`server.db.models.NEVER_REUSED`, migration 0006), as PostgreSQL's sequences
are; and a job id still held by a finished job's result is freed rather than silently refused
(`server.services.Services.enqueue`).
"""

from __future__ import annotations

QUEUE_NAME = "hangar:queue"
"""The arq queue of the server's jobs."""
TRIGGER_JOB = "trigger_build"
"""The job that turns a recorded webhook into a build."""
STATUS_JOB = "send_commit_status"
"""The job that sends one commit status of a build."""
EMAIL_JOB = "send_build_email"
"""The job that emails about a finished build."""
HEARTBEAT_KEY = "hangar:api-heartbeat"
"""Set (with a short expiry) by every running API server; the lease reaper waits while none is up."""
CHANNEL_PREFIX = "hangar:"
"""Every live-event channel's Redis name starts with it (the names below are given without it)."""

JOBS_CHANNEL = "jobs"
"""A job was queued: it wakes the workers at once."""
STAGES_CHANNEL = "stages"
"""A stage became ready: it wakes the runners' long-polls."""
EVENTS_CHANNEL = "events"
"""Every build state change, for dashboards."""


def build_channel(build_id: int | None) -> str:
    """The channel of a build's, its stages' and its steps' states."""
    return f"build:{build_id}"


def log_channel(step_id: int | None) -> str:
    """The channel of a step's new log lines (and of its end)."""
    return f"log:{step_id}"


def cancel_channel(stage_id: int | str) -> str:
    """The channel that tells the runner of a stage to stop it."""
    return f"cancel:{stage_id}"


def trigger_job_id(delivery_id: int) -> str:
    """The job id of a delivery's trigger: queuing it twice runs it once."""
    return f"trigger:{delivery_id}"


def outbox_job_id(outbox_id: int) -> str:
    """The job id of an outbox row's notification: queuing it again while it waits or runs does nothing."""
    return f"outbox:{outbox_id}"


def status_lock_key(build_id: int) -> str:
    """The lock that sends a build's commit statuses one at a time."""
    return f"hangar:lock:status:{build_id}"


def status_sent_key(build_id: int, stage_number: int = 0) -> str:
    """The sequence of the newest commit status sent for a build, or one of its stages (an older one is
    then stale)."""
    return f"hangar:status-sent:{build_id}" + (f":{stage_number}" if stage_number else "")


def sign_in_failures_key(kind: str, value: str) -> str:
    """The counter of wrong passwords for a login or a client address (`kind`: `login` or `ip`)."""
    return f"sign-in-failures:{kind}:{value}"


def permission_key(user_id: int, repo_id: int) -> str:
    """What the forge said a user may do with a repository, kept for `HANGAR_PERMISSION_SECONDS`."""
    return f"hangar:permission:{user_id}:{repo_id}"


def forge_repos_key(user_id: int) -> str:
    """The repositories a user has on the forge, as last synced (JSON)."""
    return f"hangar:forge-repos:{user_id}"


def oauth_state_key(state: str) -> str:
    """A sign-in under way: its PKCE verifier and where to go afterwards, until the forge sends the visitor
    back with the same `state`."""
    return f"hangar:oauth:{state}"


def token_lock_key(user_id: int) -> str:
    """The lock that refreshes a user's forge token once (a refresh token is good for one use)."""
    return f"hangar:lock:forge-token:{user_id}"
