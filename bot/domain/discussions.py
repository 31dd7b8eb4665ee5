"""Discussion threads: what the bot keeps of a message, an edit, a deletion or a reaction."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime

MAX_STORED_TEXT = 40_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class MessageChange(enum.StrEnum):
    POSTED = "posted"
    EDITED = "edited"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A message, edit or deletion seen in a channel, as plain data."""

    event_id: str
    team_id: str
    channel_id: str
    ts: str
    change: MessageChange
    thread_ts: str | None = None
    user_id: str | None = None
    text: str | None = None
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReactionEvent:
    event_id: str
    team_id: str
    channel_id: str
    ts: str
    user_id: str
    name: str
    added: bool


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    channel_id: str
    ts: str
    thread_ts: str | None
    user_id: str | None
    text: str | None
    created_at: datetime
    step_id: int | None = None
    files: list[str] = field(default_factory=list)
    reaction_count: int = 0
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    id: int | None = None

    @property
    def visible(self) -> bool:
        return self.deleted_at is None and bool(self.text)


def edit_applies(stored: ThreadMessage | None, edit: MessageEvent) -> bool:
    """An edit changes a stored message only when it names the message's own author (and
    the message is still there): an event naming anyone else changes nothing."""
    return (
        stored is not None
        and stored.deleted_at is None
        and stored.user_id is not None
        and edit.user_id == stored.user_id
    )


def stored_text(text: str | None) -> str | None:
    """Text as kept: without control characters (PostgreSQL refuses NUL, and Slack would
    retry such an event forever), at most ``MAX_STORED_TEXT`` characters (Slack's own
    message limit)."""
    if text is None:
        return None
    return _CONTROL.sub("", text)[:MAX_STORED_TEXT]
