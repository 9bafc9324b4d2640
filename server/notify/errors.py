"""The one exception every notification raises, saying whether trying again later can help."""

from __future__ import annotations


class NotifyError(Exception):
    """A notification could not be delivered; `retryable` tells whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"NotifyError({str(self)!r}, retryable={self.retryable})"
