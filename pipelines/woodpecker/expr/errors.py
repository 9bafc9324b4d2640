"""The error of an `evaluate` expression, located inside it."""

from __future__ import annotations


class ExpressionError(Exception):
    """An expression that cannot be read, does not type-check or fails while it runs."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        """0-based position in the expression's text."""
