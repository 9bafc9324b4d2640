"""Build emails: who gets one, what it says (plain text and HTML), and sending it over SMTP."""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from enum import StrEnum
from typing import Any

import aiosmtplib
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.sizes import format_size
from pipelines.status import Status
from server.crypto import Cipher
from server.notify.commit_status import describe
from server.notify.errors import NotifyError
from server.notify.summary import BuildSummary, StepSummary, summarise
from server.notify.templates import HTML_TEMPLATE, TEXT_TEMPLATE
from server.settings import Settings, SmtpSettings
from server.store.builds import find_build_by_id, previous_build
from server.store.repos import find_repo_by_id
from webui.ansi import strip_ansi
from webui.present import format_duration

logger = logging.getLogger(__name__)

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
_MAX_ADDRESS = 254

# The server could not be reached, answered too slowly or hung up: all worth another try later.
_UNREACHABLE = (
    aiosmtplib.SMTPTimeoutError,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPServerDisconnected,
    OSError,
)

# A symbol and a word go with every colour, so nobody has to tell red from green to read the email.
_LOOKS: dict[Status, tuple[str, str]] = {
    Status.PENDING: ("○", "#9a6700"),
    Status.WAITING: ("○", "#9a6700"),
    Status.BLOCKED: ("○", "#9a6700"),
    Status.RUNNING: ("…", "#9a6700"),
    Status.SUCCESS: ("✔", "#1a7f37"),
    Status.FAILURE: ("✘", "#cf222e"),
    Status.KILLED: ("■", "#cf222e"),
    Status.ERROR: ("✘", "#cf222e"),
    Status.SKIPPED: ("–", "#656d76"),
    Status.DECLINED: ("–", "#656d76"),
}


class EmailPolicy(StrEnum):
    """When a repository's builds send email."""

    FAILURE = "failure"  # every failed build
    CHANGE = "change"  # a build that broke or fixed the branch
    ALWAYS = "always"  # every finished build
    NEVER = "never"


def should_email(policy: EmailPolicy, status: Status, previous: Status | None) -> bool:
    """Whether a build ending in `status` sends email; `previous` is the branch's build before it."""
    if not status.is_done or policy == EmailPolicy.NEVER:
        return False
    if policy == EmailPolicy.ALWAYS:
        return True
    if policy == EmailPolicy.FAILURE:
        return status.is_failed
    broke = status.is_failed and (previous is None or not previous.is_failed)
    fixed = status == Status.SUCCESS and previous is not None and previous.is_failed
    return broke or fixed


def recipients(author_email: str, extra: Iterable[str]) -> list[str]:
    """The commit author then `extra`, without blanks, invalid addresses or case-insensitive duplicates."""
    candidates = [author_email, *([extra] if isinstance(extra, str) else extra)]
    chosen: dict[str, str] = {}
    for candidate in candidates:
        address = _address(candidate)
        if address and address.lower() not in chosen:
            chosen[address.lower()] = address
    return list(chosen.values())


async def build_email(
    session: AsyncSession, cipher: Cipher, settings: Settings, build_id: int
) -> EmailMessage | None:
    """The email about a finished build to its author and the repository's recipients, if its policy says
    to send one and an SMTP server is set (None otherwise)."""
    if not settings.smtp.host:
        return None
    build = await find_build_by_id(session, build_id)
    repo = await find_repo_by_id(session, build.repo_id) if build else None
    if build is None or repo is None or build.finished is None:
        return None
    previous = await previous_build(session, build)
    policy = EmailPolicy(repo.email_policy) if repo.email_policy in set(EmailPolicy) else EmailPolicy.CHANGE
    if not should_email(policy, Status(build.status), Status(previous.status) if previous else None):
        return None
    to = recipients(build.author_email, repo.email_recipients)
    if not to:
        return None
    summary = await summarise(session, cipher, settings.url, repo, build)
    return compose(summary, settings.smtp.sender, to)


def subject(summary: BuildSummary) -> str:
    """The subject line, e.g. "[octo/hello] main #12 failure"."""
    text = f"[{summary.repo}] {summary.ref_label} #{summary.number} {summary.status.value}"
    return f"{text} (infrastructure: {summary.infrastructure})" if summary.infrastructure else text


def compose(summary: BuildSummary, sender: str, to: Sequence[str]) -> EmailMessage:
    """The email about a finished build: a plain-text part and an HTML alternative saying the same."""
    if not to:
        raise ValueError("a build email needs at least one recipient")
    context = _context(summary)
    message = EmailMessage()
    message["Subject"] = context["subject"]
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    message.set_content(TEXT_TEMPLATE.render(context))
    message.add_alternative(HTML_TEMPLATE.render(context), subtype="html")
    return message


async def send_email(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send `message` to its To/Cc/Bcc recipients; raises NotifyError, retryable unless the server said no."""
    where = f"email via {settings.host}:{settings.port}"
    credentials: dict[str, Any] = {}
    if settings.username:
        credentials = {"username": settings.username, "password": settings.password}
    try:
        refused, _ = await aiosmtplib.send(
            message,
            hostname=settings.host,
            port=settings.port,
            start_tls=settings.starttls,
            timeout=settings.timeout,
            **credentials,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(f"{item.recipient}: {item.code} {item.message}" for item in exc.recipients)
        temporary = any(not _permanent(item.code) for item in exc.recipients)
        raise NotifyError(f"{where}: every recipient was refused ({codes})", retryable=temporary) from exc
    except aiosmtplib.SMTPResponseException as exc:  # greeting, HELO, AUTH, MAIL FROM or DATA said no
        answer = f"{where}: the server answered {exc.code} {exc.message}"
        raise NotifyError(answer, retryable=not _permanent(exc.code)) from exc
    except ssl.SSLCertVerificationError as exc:
        raise NotifyError(f"{where}: untrusted TLS certificate: {exc}", retryable=False) from exc
    except _UNREACHABLE as exc:
        raise NotifyError(f"{where}: {exc}", retryable=True) from exc
    except (aiosmtplib.SMTPException, ValueError) as exc:  # e.g. STARTTLS or AUTH not offered by the server
        raise NotifyError(f"{where}: {exc}", retryable=False) from exc
    if refused:
        logger.warning("%s: some recipients were refused: %s", where, ", ".join(sorted(refused)))


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def _address(candidate: str) -> str:
    text = candidate.strip()
    if not text or "," in text:
        return ""
    address = parseaddr(text)[1] if "<" in text else text
    if len(address) > _MAX_ADDRESS or not _ADDRESS.fullmatch(address):
        return ""
    return address


def _clean(line: str) -> str:
    """A log line as a terminal shows it (as the log search reads it), without trailing blanks."""
    return strip_ansi(line).rstrip()


def _step_row(step: StepSummary) -> dict[str, str]:
    symbol, colour = _LOOKS[step.status]
    code = "" if step.exit_code is None else str(step.exit_code)
    return {
        "path": step.path,
        "word": _word(step.status),
        "symbol": symbol,
        "colour": colour,
        "code": code or "–",
        "exit": f"exit {code}" if code else "",
    }


def _lines_title(summary: BuildSummary) -> str:
    """What the quoted lines are: those new since the last green build, or the last ones."""
    if summary.new_lines:
        return f"Lines of {summary.failing_step} new since the last green build"
    return f"Last {len(summary.failing_lines)} lines of {summary.failing_step}"


def _word(status: Status) -> str:
    return status.value.replace("_", " ")


def _context(summary: BuildSummary) -> dict[str, Any]:
    symbol, colour = _LOOKS[summary.status]
    steps = [_step_row(step) for step in summary.steps]
    author = " ".join(
        part
        for part in (
            summary.author_name,
            f"<{summary.author_email}>" if summary.author_email else "",
            f"(@{summary.author_login})" if summary.author_login else "",
        )
        if part
    )
    ref_kind = {"tag": "Tag", "pull_request": "Pull request"}.get(summary.event, "Branch")
    outcome = describe(summary.status, summary.duration, summary.number)
    return {
        "subject": subject(summary),
        "headline": f"{summary.repo} {summary.ref_label}: {outcome}",
        "symbol": symbol,
        "colour": colour,
        "number": summary.number,
        "short_sha": summary.short_sha,
        "title": _clean(summary.title),
        "commit": f"{summary.short_sha} {_clean(summary.title)}".strip(),
        "ref_kind": ref_kind,
        "ref_label": summary.ref_label,
        "author": author or "unknown",
        "duration": format_duration(summary.duration),
        "event": summary.event,
        "error": [_clean(line) for line in summary.error.strip().splitlines()],
        "steps": steps,
        "step_width": max((len(row["path"]) for row in steps), default=0),
        "word_width": max((len(row["word"]) for row in steps), default=0),
        "failing_step": summary.failing_step,
        "failing_lines": [_clean(line) for line in summary.failing_lines],
        "lines_title": _lines_title(summary),
        "tests": summary.tests,
        "tests_failed": summary.tests_failed,
        "failing_tests": summary.failing_tests,
        "infrastructure": summary.infrastructure,
        "link": summary.link,
        "artifacts": [
            {"path": item.path, "size": format_size(item.size), "link": item.link}
            for item in summary.artifacts
        ],
    }
