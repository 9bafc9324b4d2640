"""Notifications: commit statuses on the forge and build emails over SMTP.

These are library functions; the jobs that call them decide about retries from `NotifyError.retryable`.
"""

from __future__ import annotations

from server.notify.commit_status import describe, send_commit_status, status_request
from server.notify.email import EmailPolicy, SmtpSettings, compose, recipients, send_email, should_email
from server.notify.errors import NotifyError
from server.notify.summary import BuildSummary, StepSummary

__all__ = [
    "BuildSummary",
    "EmailPolicy",
    "NotifyError",
    "SmtpSettings",
    "StepSummary",
    "compose",
    "describe",
    "recipients",
    "send_commit_status",
    "send_email",
    "should_email",
    "status_request",
]
