"""What a finished (or started) build tells the world: commit statuses and emails, from the database."""

from __future__ import annotations

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.status import Status
from server.db.models import Build, Repo
from server.notify import BuildSummary, StepSummary
from server.notify.commit_status import describe, send_commit_status, status_request
from server.notify.email import EmailPolicy, SmtpSettings, compose, recipients, send_email, should_email
from server.notify.summary import elapsed
from server.services import Services
from server.store.builds import find_build_by_id, list_stages, list_steps, previous_build
from server.store.logs import last_lines
from server.store.repos import find_repo_by_id
from server.store.secrets import list_secrets

FAILING_LINES = 50


def build_link(hangar: Services, repo: Repo, build: Build) -> str:
    """The build page's public URL."""
    return f"{hangar.settings.url.rstrip('/')}/{repo.slug}/{build.number}"


async def send_status(hangar: Services, client: httpx.AsyncClient, build_id: int, status: str) -> bool:
    """Set the commit status for `status` of the build; False when the repository has no forge API set."""
    async with hangar.reading() as session:
        build = await find_build_by_id(session, build_id)
        repo = await find_repo_by_id(session, build.repo_id) if build else None
    if build is None or repo is None or not repo.api_url or not build.sha:
        return False
    request = status_request(
        repo.forge,
        repo.api_url,
        hangar.cipher.decrypt(repo.api_token),
        repo.owner,
        repo.name,
        build.sha,
        Status(status),
        build_link(hangar, repo, build),
        describe(Status(status), elapsed(build.started, build.finished), build.number),
        f"hangar/{build.event}",
    )
    await send_commit_status(client, request)
    return True


async def send_build_email(hangar: Services, build_id: int) -> bool:
    """Email the author and the repository's recipients if its policy says so; False when nothing was sent."""
    smtp = hangar.settings.smtp
    if not smtp.host:
        return False
    async with hangar.reading() as session:
        build = await find_build_by_id(session, build_id)
        repo = await find_repo_by_id(session, build.repo_id) if build else None
        if build is None or repo is None or build.finished is None:
            return False
        previous = await previous_build(session, build)
        policy = (
            EmailPolicy(repo.email_policy) if repo.email_policy in set(EmailPolicy) else EmailPolicy.CHANGE
        )
        if not should_email(policy, Status(build.status), Status(previous.status) if previous else None):
            return False
        to = recipients(build.author_email, repo.email_recipients)
        if not to:
            return False
        summary = await summarise(hangar, session, repo, build)
    settings = SmtpSettings(smtp.host, smtp.port, smtp.username, smtp.password, smtp.starttls, smtp.sender)
    await send_email(settings, compose(summary, smtp.sender, to))
    return True


async def summarise(hangar: Services, session: AsyncSession, repo: Repo, build: Build) -> BuildSummary:
    """The build as notifications describe it, with the failing step's last lines masked once more."""
    stages = {stage.id: stage for stage in await list_stages(session, build.id or 0)}
    steps = await list_steps(session, [stage_id or 0 for stage_id in stages])
    summaries: list[StepSummary] = []
    failing_step, failing_lines = "", tuple[str, ...]()
    for step in steps:
        stage = stages[step.stage_id]
        summary = StepSummary(
            stage.name, step.name, Status(step.status), step.exit_code, step.started, step.finished
        )
        summaries.append(summary)
        if not failing_step and Status(step.status).is_failed:
            failing_step = summary.path
            values = [
                hangar.cipher.decrypt(secret.value) for secret in await list_secrets(session, repo.id or 0)
            ]
            failing_lines = tuple(
                _mask(line, values) for line in await last_lines(session, step.id or 0, FAILING_LINES)
            )
    return BuildSummary(
        repo=repo.slug, number=build.number, status=Status(build.status), event=build.event, ref=build.ref,
        branch=build.branch, sha=build.sha, message=build.message, author_name=build.author_name,
        author_email=build.author_email, author_login=build.author_login, started=build.started,
        finished=build.finished, link=build_link(hangar, repo, build), error=build.error,
        steps=tuple(summaries), failing_step=failing_step, failing_lines=failing_lines,
    )  # fmt: skip


def _mask(line: str, secrets: list[str]) -> str:
    for value in secrets:
        for part in value.splitlines():
            if part.strip():
                line = line.replace(part, "******")
    return line
