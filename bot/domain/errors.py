"""Domain errors carry a message a user can read and act on."""

from __future__ import annotations


class DomainError(Exception):
    """Something the user asked for cannot be done; ``str(error)`` says what to do instead."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # which input it is about, when there is one (for forms)


class InvalidInput(DomainError):
    """The input is malformed or out of range."""


class NotFound(DomainError):
    """The named thing does not exist."""


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a plan already running…)."""


class PermissionDenied(DomainError):
    """The caller may not do this."""


class Duplicate(Conflict):
    """A unique key refused a write: the same thing exists already (maybe written concurrently)."""


def is_number(text: str) -> bool:
    """Plain ASCII digits only: ``str.isdigit`` also accepts "²", which ``int()`` refuses."""
    return text.isascii() and text.isdigit()
