"""Why an action was refused: words for people and, for handlers answering over HTTP, a status code."""

from __future__ import annotations


class ActionError(Exception):
    """An action that cannot be done as asked; `status_code` is the HTTP status saying why."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ActionError):
    """What the action is about does not exist."""

    status_code = 404


class Conflict(ActionError):
    """The action does not fit the current state (a build already finished, a name already taken)."""

    status_code = 409
