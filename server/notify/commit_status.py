"""Commit statuses: the red or green mark a forge shows beside a commit and on its pull requests."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.links import build_link
from pipelines.status import Status
from server.crypto import Cipher
from server.notify.errors import NotifyError
from server.notify.summary import elapsed
from server.store.builds import find_build_by_id, list_stages
from server.store.repos import find_repo_by_id
from server.testresults import failure_description
from webui.present import format_duration

FORGES = frozenset({"github", "gitea", "forgejo", "gitlab"})
MAX_DESCRIPTION = 140  # GitHub refuses longer descriptions with a 422

# GitHub, Gitea and Forgejo know four states. A skipped build (its trigger did not match) reports success,
# as GitHub Actions does for skipped jobs, so a required check does not wait forever on a build that will
# never run; a declined build (an approval was refused) reports error, so code nobody built cannot merge.
_GITHUB_STATES: dict[Status, str] = {
    Status.PENDING: "pending",
    Status.WAITING: "pending",
    Status.BLOCKED: "pending",
    Status.RUNNING: "pending",
    Status.SUCCESS: "success",
    Status.FAILURE: "failure",
    Status.KILLED: "error",
    Status.ERROR: "error",
    Status.SKIPPED: "success",
    Status.DECLINED: "error",
}

# GitLab shows running builds as running and cancelled ones as canceled; the same reasoning for skipped
# and declined builds holds ("canceled" blocks a merge request that requires a successful pipeline).
_GITLAB_STATES: dict[Status, str] = {
    Status.PENDING: "pending",
    Status.WAITING: "pending",
    Status.BLOCKED: "pending",
    Status.RUNNING: "running",
    Status.SUCCESS: "success",
    Status.FAILURE: "failed",
    Status.KILLED: "canceled",
    Status.ERROR: "failed",
    Status.SKIPPED: "success",
    Status.DECLINED: "canceled",
}

_PHRASES: dict[Status, str] = {
    Status.PENDING: "is pending",
    Status.WAITING: "is waiting on dependencies",
    Status.BLOCKED: "is waiting for approval",
    Status.RUNNING: "is running",
    Status.SUCCESS: "succeeded",
    Status.FAILURE: "failed",
    Status.KILLED: "was cancelled",
    Status.ERROR: "could not run",
    Status.SKIPPED: "was skipped",
    Status.DECLINED: "was declined",
}


def forge_state(forge: str, status: Status) -> str:
    """The state word `forge` expects for a build in `status` (see the tables above for the choices)."""
    table = _GITLAB_STATES if _forge(forge) == "gitlab" else _GITHUB_STATES
    return table[status]


def describe(status: Status, duration: float | None, number: int | None = None, subject: str = "") -> str:
    """A short human description, e.g. "Build #12 succeeded in 34s" or "The build failed after 2m 05s"."""
    subject = subject or (f"Build #{number}" if number is not None else "The build")
    text = f"{subject} {_PHRASES[status]}"
    took = format_duration(duration)
    if took and status.is_done and status not in (Status.SKIPPED, Status.DECLINED):
        text += f" in {took}" if status == Status.SUCCESS else f" after {took}"
    return _shorten(text)


def status_request(
    forge: str,
    api_url: str,
    api_token: str,
    owner: str,
    name: str,
    sha: str,
    status: Status,
    target_url: str,
    description: str,
    context: str,
) -> httpx.Request:
    """The forge API request that sets the commit status `context` of `sha` (raises ValueError if unknown)."""
    kind = _forge(forge)
    base = api_url.rstrip("/")
    commit = quote(sha, safe="")
    state = forge_state(kind, status)
    body = {"state": state, "target_url": target_url, "description": _shorten(description)}
    if kind == "gitlab":
        project = quote(f"{owner}/{name}", safe="")
        return httpx.Request(
            "POST",
            f"{base}/projects/{project}/statuses/{commit}",
            headers={"Authorization": f"Bearer {api_token}"},  # OAuth and personal access tokens alike
            json={**body, "name": context},
        )
    path = f"{base}/repos/{quote(owner, safe='')}/{quote(name, safe='')}/statuses/{commit}"
    if kind == "github":
        headers = {"Authorization": f"Bearer {api_token}", "Accept": "application/vnd.github+json"}
    else:
        headers = {"Authorization": f"token {api_token}", "Accept": "application/json"}
    return httpx.Request("POST", path, headers=headers, json={**body, "context": context})


async def build_status_request(
    session: AsyncSession, cipher: Cipher, server_url: str, build_id: int, status: Status, stage: int = 0
) -> httpx.Request | None:
    """The request that sets the build's commit status (or, `stage` > 0, that of the build's stage of that
    number: a Woodpecker workflow's, context `hangar/<workflow>`) to `status`; None when its repository has
    no forge API set (or the build is gone)."""
    build = await find_build_by_id(session, build_id)
    repo = await find_repo_by_id(session, build.repo_id) if build else None
    if build is None or repo is None or not repo.api_url or not build.sha:
        return None
    description = describe(status, elapsed(build.started, build.finished), build.number)
    if status.is_failed:
        description = await failure_description(session, build, MAX_DESCRIPTION) or description
    context = f"hangar/{build.event}"
    if stage:
        found = next((s for s in await list_stages(session, build_id) if s.number == stage), None)
        if found is None:
            return None
        took = elapsed(found.started, found.finished)
        description = describe(status, took, subject=f"Workflow {found.name}")
        context = f"hangar/{found.name}"
    return status_request(
        repo.forge,
        repo.api_url,
        cipher.decrypt(repo.api_token),
        repo.owner,
        repo.name,
        build.sha,
        status,
        build_link(server_url, repo.slug, build.number),
        description,
        context,
    )


async def post_commit_status(client: httpx.AsyncClient, request: httpx.Request) -> None:
    """Send a request made by `status_request`; raises NotifyError, retryable for outages and rate limits."""
    where = f"{request.method} {request.url.copy_with(query=None)}"
    try:
        response = await client.send(request)
    except httpx.UnsupportedProtocol as exc:
        raise NotifyError(f"commit status {where}: {exc}", retryable=False) from exc
    except httpx.TransportError as exc:  # connection refused or reset, DNS, timeouts
        reason = str(exc) or type(exc).__name__
        raise NotifyError(f"commit status {where}: {reason}", retryable=True) from exc
    if response.is_success:
        return
    code = response.status_code
    detail = " ".join(response.text.split())[:300]
    retryable = code == 429 or code >= 500
    raise NotifyError(f"commit status {where}: HTTP {code} {detail}".rstrip(), retryable=retryable)


def _forge(forge: str) -> str:
    kind = forge.strip().lower()
    if kind not in FORGES:
        raise ValueError(f"unknown forge {forge!r}: expected one of {', '.join(sorted(FORGES))}")
    return kind


def _shorten(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_DESCRIPTION else line[: MAX_DESCRIPTION - 1].rstrip() + "…"
