"""What the bot tells the people of a mentoring pair (and the programme's admins), and a
member about a book file they sent, as plain data. The Notifier renders each kind (Block Kit in Slack); services only say which.

Most notes go to one person's DM; the mentor's copy of a reflection and a publication
request are updated in place as things change (edited, taken back, consented).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.imports import PendingImport
from bot.domain.model import (
    ActionItem,
    Feedback,
    Pair,
    PublicationState,
    Reflection,
    Role,
    Step,
)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a message the bot sent is: enough to update it later."""

    channel_id: str
    ts: str

    def __str__(self) -> str:
        return f"{self.channel_id} {self.ts}"

    @staticmethod
    def parse(text: str | None) -> MessageRef | None:
        if not text or " " not in text:
            return None
        channel_id, ts = text.split(" ", 1)
        return MessageRef(channel_id, ts)


@dataclass(frozen=True, slots=True)
class PairInvite:
    """To the person asked: accept or decline."""

    pair: Pair
    asker_role: Role  # what the asker will be


@dataclass(frozen=True, slots=True)
class PairAnswered:
    """The invite, once answered or expired (``pair.state`` says which): no buttons."""

    pair: Pair


@dataclass(frozen=True, slots=True)
class PairWelcome:
    """In the pair's conversation, once accepted: who is who, and what to do first."""

    pair: Pair


@dataclass(frozen=True, slots=True)
class PairDeclined:
    pair: Pair


@dataclass(frozen=True, slots=True)
class PairExpired:
    pair: Pair


@dataclass(frozen=True, slots=True)
class PairEnded:
    pair: Pair
    left: str  # who left


@dataclass(frozen=True, slots=True)
class MentorCopy:
    """A reflection written for the mentor, in the mentor's DM: Reply, Mark read."""

    reflection: Reflection
    step: Step
    book_title: str
    read: bool = False


@dataclass(frozen=True, slots=True)
class MentorCopyWithdrawn:
    """What the mentor's copy says once the mentee made it private or deleted it."""

    author_id: str
    number: int | None


@dataclass(frozen=True, slots=True)
class FeedbackNote:
    """A reply in the private conversation on a reflection, to the other one of the pair."""

    feedback: Feedback
    reflection: Reflection
    book_title: str
    to_role: Role


@dataclass(frozen=True, slots=True)
class AgreementNote:
    """The pair's agreement, as one of them wrote it, for the other to agree to."""

    pair: Pair
    agreed: bool = False


@dataclass(frozen=True, slots=True)
class LookBackAsk:
    """At the end of the book: look back at the goals you agreed."""

    pair: Pair
    book_title: str


@dataclass(frozen=True, slots=True)
class LookBackShared:
    pair: Pair
    author_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ActionAdded:
    item: ActionItem
    number: int


@dataclass(frozen=True, slots=True)
class PublishRequest:
    """To the mentor: the mentee would like to publish; consent note by note."""

    publication_id: int
    mentee_id: str
    book_title: str
    notes: tuple[Feedback, ...]  # the mentor's own replies the mentee asks to quote
    allowed: frozenset[int] = field(default_factory=frozenset)
    reflection_count: int = 0
    decided: PublicationState | None = None


@dataclass(frozen=True, slots=True)
class PublishDecided:
    """To the mentee: what the mentor decided."""

    mentor_id: str
    book_title: str
    sent: bool
    quoted: int = 0


@dataclass(frozen=True, slots=True)
class QuietPair:
    """To the programme's admins: a pair has gone quiet (counts only, never words)."""

    pair: Pair
    days: int
    book_title: str | None


@dataclass(frozen=True, slots=True)
class Welcome:
    """To a member who joined a channel mid-book: where the group is, how to catch up."""

    channel_id: str
    book_title: str
    book_author: str
    group_step: int
    step_count: int
    group_chapters: str  # "chapters 5–6"
    next_due: datetime | None
    timezone: str


@dataclass(frozen=True, slots=True)
class CalendarLink:
    """A member's secret calendar link (only they get it)."""

    url: str
    book_title: str
    whole_group: bool
    replaced: bool = False  # the old link was revoked


@dataclass(frozen=True, slots=True)
class ImportReady:
    """To the member who sent an EPUB: what was read, and a button to pick the chapters."""

    pending: PendingImport
    picked: int  # entries picked as chapters by default


@dataclass(frozen=True, slots=True)
class ImportRefused:
    """To the member who sent a file that cannot be imported: why, and what to do."""

    filename: str
    reason: str


@dataclass(frozen=True, slots=True)
class DirectMessageHelp:
    """To a member who typed in their DM with the bot: what the DM is for."""


Note = (
    Welcome
    | CalendarLink
    | PairInvite
    | PairAnswered
    | PairWelcome
    | PairDeclined
    | PairExpired
    | PairEnded
    | MentorCopy
    | MentorCopyWithdrawn
    | FeedbackNote
    | AgreementNote
    | LookBackAsk
    | LookBackShared
    | ActionAdded
    | PublishRequest
    | PublishDecided
    | QuietPair
    | ImportReady
    | ImportRefused
    | DirectMessageHelp
)
