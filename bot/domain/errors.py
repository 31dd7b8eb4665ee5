"""Domain errors carry a message a user can read and act on."""

from __future__ import annotations

from typing import NamedTuple


class Suggestion(NamedTuple):
    """ "Did you mean …?": put ``replacement`` where the member typed ``typed``."""

    typed: str
    replacement: str
    label: str = ""  # what the button says, when the replacement alone says too little


class DomainError(Exception):
    """Something the user asked for cannot be done; ``str(error)`` says what to do instead."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        suggestions: tuple[Suggestion, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # which input it is about, when there is one (for forms)
        # "Did you mean …?": (what was typed, what to put instead), for one-click retries.
        self.suggestions = suggestions


class InvalidInput(DomainError):
    """The input is malformed or out of range."""


class NotFound(DomainError):
    """The named thing does not exist."""


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a plan already running…)."""


class PermissionDenied(DomainError):
    """The caller may not do this."""


class Ambiguous(InvalidInput):
    """The name fits several things; ``suggestions`` lists them to choose from."""


class Duplicate(Conflict):
    """A unique key refused a write: the same thing exists already (maybe written concurrently)."""


def is_number(text: str) -> bool:
    """Plain ASCII digits only: ``str.isdigit`` also accepts "²", which ``int()`` refuses."""
    return text.isascii() and text.isdigit()
