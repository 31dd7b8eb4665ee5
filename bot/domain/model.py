"""Entities of a reading group, as plain dataclasses.

Datetimes are timezone-aware UTC everywhere; local time is computed at the edges from a
plan's IANA time zone.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from bot.domain.text import number as number_in


class PlanState(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    FINISHED = "finished"  # read to the end (or finished early by the host): a wrap-up follows
    CANCELLED = "cancelled"  # started by mistake: no wrap-up, no "thanks for reading"


#: A plan in one of these states still runs in its channel (at most one per channel).
RUNNING_PLAN_STATES = frozenset({PlanState.ACTIVE, PlanState.PAUSED})


class StepState(enum.StrEnum):
    PENDING = "pending"  # waiting for its due time
    CLAIMED = "claimed"  # a scheduler took it and is posting it
    POSTED = "posted"  # Slack accepted the prompt
    SKIPPED = "skipped"  # a host skipped it
    CANCELLED = "cancelled"  # the plan finished before it was due
    MISSED = "missed"  # too late to post; listed in a catch-up message instead


OPEN_STEP_STATES = frozenset({StepState.PENDING, StepState.CLAIMED})


class Visibility(enum.StrEnum):
    PRIVATE = "private"  # only the author
    SHARED = "shared"  # the group: the step's thread, digests (with consent)
    MENTOR = "mentor"  # in a mentoring pair: the author and their mentor, nobody else


class CadenceKind(enum.StrEnum):
    WEEKLY = "weekly"
    EVERY_N_DAYS = "every_n_days"


@dataclass(frozen=True, slots=True)
class Cadence:
    """When steps fall due: a weekday each week, or every N days, at a local time."""

    kind: CadenceKind
    at: time
    weekday: int | None = None  # 0 = Monday, for WEEKLY
    every_days: int | None = None  # for EVERY_N_DAYS

    @staticmethod
    def weekly(weekday: int, at: time) -> Cadence:
        return Cadence(CadenceKind.WEEKLY, at=at, weekday=weekday)

    @staticmethod
    def every(days: int, at: time) -> Cadence:
        return Cadence(CadenceKind.EVERY_N_DAYS, at=at, every_days=days)

    @property
    def period_days(self) -> int:
        return 7 if self.kind is CadenceKind.WEEKLY else int(self.every_days or 1)

    def describe(self) -> str:
        from bot.domain.schedule import WEEKDAY_NAMES

        at = self.at.strftime("%H:%M")
        if self.kind is CadenceKind.WEEKLY:
            return f"every {WEEKDAY_NAMES[self.weekday or 0].capitalize()} at {at}"
        days = self.every_days or 1
        return f"every {'day' if days == 1 else f'{days} days'} at {at}"


@dataclass(slots=True)
class Chapter:
    number: int
    title: str | None = None
    questions: list[str] = field(default_factory=list)

    def label(self) -> str:
        """``Chapter 3: The Middle``; ``Chapter 3`` alone when the chapter has no title,
        or its title only repeats its label (``Chapter 3``, ``ch. 3``, ``3``)."""
        title = self.own_title
        return f"Chapter {self.number}" + (f": {title}" if title else "")

    @property
    def own_title(self) -> str | None:
        """The title, unless it says no more than the chapter's number (then None)."""
        if not self.title:
            return None
        found = _OWN_LABEL.fullmatch(" ".join(self.title.split()))
        said = (found.group("named") or found.group("bare")) if found is not None else None
        return None if said is not None and number_in(said) == self.number else self.title


#: A chapter title that is only a chapter label: "Chapter 3", "ch. 3", "3.", "Chapter three"
#: (a number word only after "chapter": "One" alone is a title).
_OWN_LABEL = re.compile(
    r"(?:(?:chapter|chap\.?|ch\.?)\s*(?P<named>[0-9]+|[a-z]+)|(?P<bare>[0-9]+))\.?",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Book:
    workspace_id: int
    title: str
    author: str
    chapters: list[Chapter]
    added_by: str | None = None
    id: int | None = None

    @property
    def chapter_count(self) -> int:
        return len(self.chapters)

    def chapter(self, number: int) -> Chapter:
        return self.chapters[number - 1]


@dataclass(slots=True)
class Step:
    number: int
    first_chapter: int
    last_chapter: int
    due_at: datetime
    state: StepState = StepState.PENDING
    id: int | None = None
    posted_at: datetime | None = None
    message_ts: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    late: bool = False
    reminded_at: datetime | None = None
    failures: int = 0  # times Slack refused or failed the post (a crash is not a failure)

    @property
    def chapters(self) -> range:
        return range(self.first_chapter, self.last_chapter + 1)

    def describe_chapters(self) -> str:
        if self.first_chapter == self.last_chapter:
            return f"chapter {self.first_chapter}"
        return f"chapters {self.first_chapter}–{self.last_chapter}"


@dataclass(slots=True)
class Plan:
    group_id: int
    book_id: int
    host_user_id: str
    cadence: Cadence
    chapters_per_step: int
    start_date: date
    timezone: str
    created_at: datetime
    state: PlanState = PlanState.ACTIVE
    steps: list[Step] = field(default_factory=list)
    paused_at: datetime | None = None
    finished_at: datetime | None = None
    id: int | None = None

    def step(self, number: int) -> Step:
        for step in self.steps:
            if step.number == number:
                return step
        raise KeyError(number)

    def step_for_chapter(self, chapter: int) -> Step | None:
        return next((s for s in self.steps if chapter in s.chapters), None)

    @property
    def open_steps(self) -> list[Step]:
        return [s for s in self.steps if s.state in OPEN_STEP_STATES]

    @property
    def next_step(self) -> Step | None:
        return min(self.open_steps, key=lambda s: s.number, default=None)

    def current_step(self, now: datetime) -> Step | None:
        """The step being read now: the latest posted (or due) one, else the first."""
        started = [
            s
            for s in self.steps
            if s.state is StepState.POSTED or (s.state in OPEN_STEP_STATES and s.due_at <= now)
        ]
        if started:
            return max(started, key=lambda s: s.number)
        return self.next_step


@dataclass(frozen=True, slots=True)
class Group:
    workspace_id: int
    channel_id: str
    name: str | None = None
    summary_channel_id: str | None = None
    store_all_messages: bool = False
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PlanView:
    """A plan with what a reader needs to describe it: its book and its group."""

    plan: Plan
    book: Book
    group: Group

    def local(self, moment: datetime) -> datetime:
        from bot.domain.schedule import zone

        return moment.astimezone(zone(self.plan.timezone))


@dataclass(slots=True)
class Reflection:
    plan_id: int
    step_number: int
    author_id: str
    text: str
    visibility: Visibility
    created_at: datetime
    chapter: int | None = None  # None: the whole step
    updated_at: datetime | None = None
    edit_count: int = 0
    message_ts: str | None = None  # where a shared reflection was echoed in the thread
    number: int | None = None  # the author's own numbering: their first reflection is #1
    workspace_id: int | None = None
    id: int | None = None
    # Written for the mentor: where the mentor's copy is (their DM: "channel ts"), and
    # when the mentor marked it read.
    mentor_copy: str | None = None
    mentor_read_at: datetime | None = None


@dataclass(slots=True)
class Draft:
    """Text a member typed that is not saved yet, because the bot asked first (is
    "private" meant as a keyword? did "lst" mean `list`? is it over the limit?). The
    member's words are kept here until they answer with a button."""

    workspace_id: int
    user_id: str
    channel_id: str
    text: str
    created_at: datetime
    chapter: int | None = None
    step_id: int | None = None
    visibility: Visibility | None = None
    reflection_number: int | None = None  # editing this reflection of theirs
    id: int | None = None


class PairState(enum.StrEnum):
    PROPOSED = "proposed"  # asked; waiting for the other person's answer
    ACTIVE = "active"  # accepted: the two read together in their conversation
    DECLINED = "declined"  # the other person said no
    EXPIRED = "expired"  # never answered in time
    ENDED = "ended"  # one of them left


#: A pair in one of these states holds its two people together (at most one per two).
OPEN_PAIR_STATES = frozenset({PairState.PROPOSED, PairState.ACTIVE})


class Role(enum.StrEnum):
    MENTEE = "mentee"
    MENTOR = "mentor"


@dataclass(slots=True)
class Pair:
    """A mentee and a mentor who read together, in a conversation of their own.

    ``channel_id`` is that conversation (a group DM with the bot, or a private channel of
    just the two), known once the pair is accepted. The agreement (``hopes``, ``goals``)
    and the look-back are private to the two.
    """

    workspace_id: int
    mentee_id: str
    mentor_id: str
    proposed_by: str
    created_at: datetime
    state: PairState = PairState.PROPOSED
    channel_id: str | None = None
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    hopes: str | None = None  # the mentee's "where do I want to be in five years?"
    goals: list[str] = field(default_factory=list)
    goals_by: str | None = None  # who wrote the goals as they stand
    goals_agreed_at: datetime | None = None  # the other one agreed to them
    look_back: dict[str, str] = field(default_factory=dict)  # user id → their look-back
    look_back_asked_at: datetime | None = None
    quiet_flagged_at: datetime | None = None
    id: int | None = None

    def role_of(self, user_id: str) -> Role | None:
        if user_id == self.mentee_id:
            return Role.MENTEE
        if user_id == self.mentor_id:
            return Role.MENTOR
        return None

    def partner_of(self, user_id: str) -> str:
        return self.mentor_id if user_id == self.mentee_id else self.mentee_id

    @property
    def people(self) -> tuple[str, str]:
        return (self.mentee_id, self.mentor_id)


@dataclass(slots=True)
class Feedback:
    """One message of the private conversation on a reflection written for the mentor:
    the mentor's reply, the mentee's answer, and so on."""

    reflection_id: int
    pair_id: int
    author_id: str
    text: str
    created_at: datetime
    id: int | None = None


@dataclass(slots=True)
class ActionItem:
    """Something one of the pair plans to do, often taken from a line of feedback."""

    pair_id: int
    text: str
    created_by: str
    created_at: datetime
    feedback_id: int | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    id: int | None = None


class PublicationState(enum.StrEnum):
    REQUESTED = "requested"  # the mentee asked; the mentor decides, note by note
    SENT = "sent"  # the mentor approved; the file went to the mentee
    DECLINED = "declined"  # the mentor said no; nothing was sent


@dataclass(slots=True)
class Publication:
    """A post the mentee builds from their reflections, with the mentor's replies quoted
    only where the mentor consents, one by one; sent only once the mentor approves."""

    pair_id: int
    plan_id: int
    reflection_ids: list[int]
    requested_feedback_ids: list[int]  # the mentor's replies the mentee would like to quote
    created_at: datetime
    state: PublicationState = PublicationState.REQUESTED
    allowed_feedback_ids: list[int] = field(default_factory=list)  # the mentor's consent
    decided_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """One member's progress through a plan."""

    user_id: str
    chapters_reflected: int
    chapter_count: int
    steps_reflected: int
    steps_posted: int
    streak: int

    @property
    def percent(self) -> int:
        if not self.chapter_count:
            return 0
        return round(100 * self.chapters_reflected / self.chapter_count)


@dataclass(slots=True)
class Member:
    workspace_id: int
    user_id: str
    display_name: str | None = None
    timezone: str | None = None
    reminders_muted: bool = False
    quotable: bool = False
    quiet_hours: bool = True  # no nudges between 21:00 and 08:00 in their own time zone
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, as the adapter established it (Slack admin flags, configured admins)."""

    team_id: str
    user_id: str
    is_admin: bool = False
