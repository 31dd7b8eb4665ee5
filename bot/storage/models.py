"""SQLAlchemy 2.x typed ORM models. The schema's single source of truth (with Alembic)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC datetimes (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Integer primary keys that are BIGINT on PostgreSQL and INTEGER (rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class WorkspaceRow(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class MemberRow(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    reminders_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    quotable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    # The last number given to one of their reflections: numbers are never given twice.
    last_reflection_number: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # No nudges between 21:00 and 08:00 in their own time zone, unless they say otherwise.
    quiet_hours: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class GroupRow(Base):
    """A channel or private conversation that runs reading plans."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    summary_channel_id: Mapped[str | None] = mapped_column(String(32))
    store_all_messages: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class BookRow(Base):
    __tablename__ = "books"
    __table_args__ = (UniqueConstraint("workspace_id", "book_key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(120))
    book_key: Mapped[str] = mapped_column(String(330))
    added_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    chapters: Mapped[list[ChapterRow]] = relationship(
        back_populates="book", order_by="ChapterRow.number", cascade="all, delete-orphan"
    )


class ChapterRow(Base):
    __tablename__ = "chapters"
    __table_args__ = (UniqueConstraint("book_id", "number"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str | None] = mapped_column(String(150))
    questions: Mapped[list[Any]] = mapped_column(default=list)
    book: Mapped[BookRow] = relationship(back_populates="chapters")


#: The partial unique index's condition: a plan that still runs in its channel.
RUNNING_WHERE = "state IN ('active', 'paused')"


class PlanRow(Base):
    """A reading plan: a book read by a group on a cadence."""

    __tablename__ = "reading_plans"
    __table_args__ = (
        # One running (active or paused) plan per group: a database fact, not a check.
        Index(
            "uq_reading_plans_running_group",
            "group_id",
            unique=True,
            sqlite_where=text(RUNNING_WHERE),
            postgresql_where=text(RUNNING_WHERE),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="RESTRICT"))
    host_user_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    cadence_kind: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int | None]
    every_days: Mapped[int | None]
    at_time: Mapped[time] = mapped_column(Time)
    chapters_per_step: Mapped[int]
    start_date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # How often words its digests may quote were taken back (deleted, made private,
    # edited, quoting turned off): a posted digest rendered at a lower count is redone.
    quotes_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    steps: Mapped[list[StepRow]] = relationship(
        back_populates="plan", order_by="StepRow.number", cascade="all, delete-orphan"
    )


class StepRow(Base):
    """One prompt slot of a plan. The row is the truth about whether it was posted."""

    __tablename__ = "plan_steps"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        Index("ix_plan_steps_due", "state", "due_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("reading_plans.id", ondelete="CASCADE"))
    number: Mapped[int]
    first_chapter: Mapped[int]
    last_chapter: Mapped[int]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)  # claims, crashed ones included
    failures: Mapped[int] = mapped_column(default=0, server_default=text("0"))  # Slack errors
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    reminded_at: Mapped[datetime | None]
    plan: Mapped[PlanRow] = relationship(back_populates="steps")


class ReflectionRow(Base):
    __tablename__ = "reflections"
    __table_args__ = (
        Index("ix_reflections_plan_author", "plan_id", "author_id"),
        # Each member numbers their own reflections 1, 2, 3…: a database fact.
        UniqueConstraint("workspace_id", "author_id", "number"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int]
    plan_id: Mapped[int] = mapped_column(ForeignKey("reading_plans.id", ondelete="CASCADE"))
    step_number: Mapped[int]
    chapter: Mapped[int | None]
    author_id: Mapped[str] = mapped_column(String(32))
    visibility: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    edit_count: Mapped[int] = mapped_column(default=0)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Written for the mentor: their DM copy ("channel ts", or a claim while it is posted),
    # claimed by compare-and-set like the thread copy; and when the mentor read it.
    mentor_copy: Mapped[str | None] = mapped_column(String(80))
    mentor_read_at: Mapped[datetime | None]


class ThreadMessageRow(Base):
    """A message captured from a prompt's thread (Events API); unique per channel and ts."""

    __tablename__ = "thread_messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "ts"),
        Index("ix_thread_messages_thread", "channel_id", "thread_ts"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("plan_steps.id", ondelete="SET NULL"))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    files: Mapped[list[Any]] = mapped_column(default=list)
    reaction_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class ReactionRow(Base):
    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("channel_id", "ts", "user_id", "name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class ProcessedEventRow(Base):
    """Events API deliveries already applied, keyed on Slack's ``event_id``."""

    __tablename__ = "processed_events"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]


class SummaryRow(Base):
    """A digest posted to a summary channel; unique per plan and period key."""

    __tablename__ = "summaries"
    __table_args__ = (UniqueConstraint("plan_id", "kind", "period_key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("reading_plans.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    period_key: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    message_ts: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]  # re-rendered since (a wrap-up noting late reflections)
    step_numbers: Mapped[list[Any] | None]  # the steps it covers, to re-render it
    quotes_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class DraftRow(Base):
    """Text a member typed that the bot has not saved yet: it asked first (private or
    shared? did you mean a command? too long?). Buttons carry the draft's id."""

    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    chapter: Mapped[int | None]
    step_id: Mapped[int | None]
    visibility: Mapped[str | None] = mapped_column(String(16))
    reflection_number: Mapped[int | None]  # set when the draft edits an existing reflection
    created_at: Mapped[datetime]


#: The partial unique indexes' conditions: a pair that holds its two people together,
#: and the one pair a conversation belongs to.
OPEN_PAIR_WHERE = "state IN ('proposed', 'active')"
ACTIVE_PAIR_WHERE = "state = 'active'"


class PairRow(Base):
    """A mentee and a mentor. Two people have at most one open pair: a database fact."""

    __tablename__ = "pairs"
    __table_args__ = (
        Index(
            "uq_pairs_open_people",
            "workspace_id",
            "people_key",
            unique=True,
            sqlite_where=text(OPEN_PAIR_WHERE),
            postgresql_where=text(OPEN_PAIR_WHERE),
        ),
        Index(
            "uq_pairs_active_channel",
            "workspace_id",
            "channel_id",
            unique=True,
            sqlite_where=text(ACTIVE_PAIR_WHERE),
            postgresql_where=text(ACTIVE_PAIR_WHERE),
        ),
        Index("ix_pairs_mentee", "workspace_id", "mentee_id"),
        Index("ix_pairs_mentor", "workspace_id", "mentor_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mentee_id: Mapped[str] = mapped_column(String(32))
    mentor_id: Mapped[str] = mapped_column(String(32))
    people_key: Mapped[str] = mapped_column(String(70))  # both ids, sorted: one pair per two
    proposed_by: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(32))
    hopes: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[list[Any]] = mapped_column(default=list)
    goals_by: Mapped[str | None] = mapped_column(String(32))
    goals_agreed_at: Mapped[datetime | None]
    look_back: Mapped[dict[str, Any]] = mapped_column(default=dict)
    look_back_asked_at: Mapped[datetime | None]
    quiet_flagged_at: Mapped[datetime | None]


class FeedbackRow(Base):
    """The private conversation on a reflection written for the mentor."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_reflection", "reflection_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reflection_id: Mapped[int] = mapped_column(ForeignKey("reflections.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ActionItemRow(Base):
    """What one of a pair plans to do; numbered per pair (1, 2, 3…)."""

    __tablename__ = "action_items"
    __table_args__ = (UniqueConstraint("pair_id", "number"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(32))


class PublicationRow(Base):
    """A post the mentee asked to publish; sent only once the mentor approved it."""

    __tablename__ = "publications"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("reading_plans.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    reflection_ids: Mapped[list[Any]] = mapped_column(default=list)
    requested_feedback_ids: Mapped[list[Any]] = mapped_column(default=list)
    allowed_feedback_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class ReaderRow(Base):
    """One member's own pace through one plan: where they are, how far behind the group
    they chose to read, which later threads they asked to see anyway, their welcome."""

    __tablename__ = "readers"
    __table_args__ = (UniqueConstraint("plan_id", "user_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("reading_plans.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    read_through: Mapped[int] = mapped_column(default=0)  # the last chapter they have read
    pace_days: Mapped[int] = mapped_column(default=0)  # how many days behind the group
    revealed_through: Mapped[int] = mapped_column(default=0)  # steps shown anyway
    welcomed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AwayRow(Base):
    """A member away (no nudges; streaks frozen, not broken)."""

    __tablename__ = "away_periods"
    __table_args__ = (Index("ix_away_periods_member", "workspace_id", "user_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class NudgeRow(Base):
    """One member's nudge for one step, at their own time: sent at most once."""

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("step_id", "user_id"),
        Index("ix_nudges_due", "state", "due_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("plan_steps.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime | None]


class CalendarRow(Base):
    """A secret calendar feed: a member's steps at their own pace (or the group's, for
    the host). Only the secret's SHA-256 is stored; a reset revokes it."""

    __tablename__ = "calendars"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    whole_group: Mapped[bool] = mapped_column(Boolean, default=False)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


#: The partial unique index's condition: the group's current poll (taking proposals or votes).
CURRENT_POLL_WHERE = "state IN ('proposing', 'open')"


class PollRow(Base):
    """A group choosing its next book. One current poll per group: a database fact.

    Closing is a conditional UPDATE of ``state`` (open → closed, once); the result is
    stored in the same transaction, then announced once (``announce_claim``, claimed like
    a prompt; ``result_ts`` once Slack took it). Every proposal and ballot first bumps
    ``version``: its row lock orders them against opening and closing.
    """

    __tablename__ = "polls"
    __table_args__ = (
        Index(
            "uq_polls_current_group",
            "group_id",
            unique=True,
            sqlite_where=text(CURRENT_POLL_WHERE),
            postgresql_where=text(CURRENT_POLL_WHERE),
        ),
        Index("ix_polls_due", "state", "closes_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    host_user_id: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[dict[str, Any] | None]
    announce_claim: Mapped[str | None] = mapped_column(String(64))
    announce_claimed_at: Mapped[datetime | None]
    result_ts: Mapped[str | None] = mapped_column(String(32))
    winner_book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id", ondelete="SET NULL"))
    candidates: Mapped[list[PollCandidateRow]] = relationship(
        back_populates="poll", order_by="PollCandidateRow.number", cascade="all, delete-orphan"
    )


class PollCandidateRow(Base):
    """A proposal: one per member and one per book in a poll, numbered in proposal order."""

    __tablename__ = "poll_candidates"
    __table_args__ = (
        UniqueConstraint("poll_id", "number", name="uq_poll_candidates_number"),
        UniqueConstraint("poll_id", "proposed_by", name="uq_poll_candidates_proposer"),
        UniqueConstraint("poll_id", "book_key", name="uq_poll_candidates_book"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(120))
    book_key: Mapped[str] = mapped_column(String(330))
    chapters: Mapped[list[Any]] = mapped_column(default=list)  # titles (or null), in order
    book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id", ondelete="SET NULL"))
    proposed_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    poll: Mapped[PollRow] = relationship(back_populates="candidates")


class PollBallotRow(Base):
    """A member's ranking (candidate numbers, first choice first): one per member."""

    __tablename__ = "poll_ballots"
    __table_args__ = (UniqueConstraint("poll_id", "voter_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    voter_id: Mapped[str] = mapped_column(String(32))
    ranking: Mapped[list[Any]] = mapped_column(default=list)
    cast_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]


class BookImportRow(Base):
    """A book read from an EPUB, waiting for its member to pick the chapters."""

    __tablename__ = "book_imports"
    __table_args__ = (Index("ix_book_imports_user", "workspace_id", "user_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(120))
    entries: Mapped[list[Any]] = mapped_column(default=list)  # [title, depth] pairs
    created_at: Mapped[datetime]
