"""What the services need from the outside world, as Protocols (implemented in storage/, slack/)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol, runtime_checkable

from bot.domain.digests import Digest, DigestKey
from bot.domain.discussions import MessageEvent, ReactionEvent, ThreadMessage
from bot.domain.model import Book, Draft, Group, Member, Plan, Reflection, Step, StepState
from bot.domain.prompts import PromptContent


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to: for tests and the console's virtual time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


class WorkspaceRepository(Protocol):
    def ensure(self, team_id: str, now: datetime) -> int:
        """The workspace's id, creating the row on first sight."""
        ...

    def all_ids(self) -> list[int]: ...


class MemberRepository(Protocol):
    def ensure(self, workspace_id: int, user_id: str, now: datetime) -> Member: ...
    def get(self, workspace_id: int, user_id: str) -> Member | None: ...
    def save(self, member: Member) -> None: ...
    def quotable(self, workspace_id: int) -> set[str]:
        """User ids of members who allow others to quote them."""
        ...

    def muted(self, workspace_id: int) -> set[str]:
        """User ids of members who turned reminders off."""
        ...


class GroupRepository(Protocol):
    def ensure(self, workspace_id: int, channel_id: str, now: datetime) -> Group: ...
    def get(self, workspace_id: int, channel_id: str) -> Group | None: ...
    def by_id(self, group_id: int) -> Group: ...
    def save(self, group: Group) -> None: ...


class BookRepository(Protocol):
    def add(self, book: Book, key: str, now: datetime) -> Book: ...
    def get(self, book_id: int) -> Book | None: ...
    def many(self, book_ids: Sequence[int]) -> list[Book]:
        """The books with these ids that exist (in two queries, however many)."""
        ...

    def key_exists(self, workspace_id: int, key: str) -> bool: ...
    def all(self, workspace_id: int) -> list[Book]: ...
    def set_questions(self, book_id: int, chapter: int, questions: list[str]) -> None: ...


class PlanRepository(Protocol):
    def add(self, plan: Plan) -> Plan: ...
    def get(self, plan_id: int) -> Plan | None: ...
    def by_step(self, step_id: int) -> Plan | None: ...
    def many(self, plan_ids: Sequence[int]) -> list[Plan]:
        """The plans with these ids that exist (in two queries, however many)."""
        ...

    def running_for_group(self, group_id: int) -> Plan | None:
        """The group's active or paused plan."""
        ...

    def latest_for_group(self, group_id: int) -> Plan | None:
        """The group's most recent plan that was not cancelled (running or finished)."""
        ...

    def for_group(self, group_id: int) -> list[Plan]:
        """Every plan of the group, newest first."""
        ...

    def running_in_workspace(self, workspace_id: int) -> list[Plan]: ...
    def running_all(self) -> list[Plan]: ...
    def all_for_book(self, book_id: int) -> list[Plan]: ...
    def all_in_workspace(self, workspace_id: int) -> list[tuple[int, Plan]]:
        """(group id, plan) for every plan of the workspace."""
        ...

    def needing_digests(self) -> list[Plan]:
        """Running plans, and finished plans that have no wrap-up yet."""
        ...

    def digest_keys(self, plan_ids: Sequence[int]) -> set[DigestKey]:
        """The digests these plans already have (posted or being posted)."""
        ...

    def save(self, plan: Plan) -> None:
        """Write the plan's state and every step back."""
        ...


class ReflectionRepository(Protocol):
    def add(self, reflection: Reflection) -> Reflection: ...
    def get(self, reflection_id: int) -> Reflection | None: ...
    def by_number(self, workspace_id: int, author_id: str, number: int) -> Reflection | None:
        """A member's reflection by their own number (#1 is their first)."""
        ...

    def save(self, reflection: Reflection) -> None: ...
    def delete(self, reflection_id: int) -> None: ...
    def for_plan(self, plan_id: int, author_id: str | None = None) -> list[Reflection]: ...
    def by_author(self, workspace_id: int, author_id: str) -> Sequence[Reflection]: ...


@dataclass(frozen=True, slots=True)
class DueStep:
    """A step the scheduler may act on, as the queue sees it."""

    step_id: int
    plan_id: int
    number: int
    due_at: datetime
    state: StepState
    attempts: int
    claimed_at: datetime | None
    channel_id: str


class PromptQueue(Protocol):
    """The plan_steps table seen as a work queue. Claims are conditional updates: a database fact."""

    def candidates(self, now: datetime, stale_before: datetime, limit: int) -> list[DueStep]:
        """Steps of active plans that are due (and not waiting for a retry), or claimed long ago."""
        ...

    def claim(
        self, step_ids: Sequence[int], token: str, now: datetime, stale_before: datetime
    ) -> list[int]:
        """Claim what is still claimable of ``step_ids`` for ``token``; returns the ids won."""
        ...

    def renew(self, step_id: int, token: str, now: datetime) -> bool:
        """Restart the lease of ``token``'s claim at ``now``; False if the claim was lost."""
        ...

    def mark_posted(self, step_id: int, token: str, ts: str, now: datetime, late: bool) -> bool: ...
    def release(self, step_id: int, token: str, retry_at: datetime) -> None: ...
    def mark_missed(self, step_ids: Sequence[int]) -> None: ...
    def claim_reminder(self, step_id: int, now: datetime) -> bool:
        """Take the right to send a step's reminders (at most once)."""
        ...

    def posted_unreminded(self) -> list[Plan]:
        """Active plans that have a posted step whose reminders have not gone out."""
        ...


class DeliveryFailed(Exception):
    """Slack did not take a post. ``retry_after`` in seconds when Slack said so."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class Notifier(Protocol):
    """How services reach people (Slack in production; the emulator behind the same client in tests)."""

    def post_prompt(self, channel_id: str, content: PromptContent) -> str:
        """Post a chapter prompt; returns its ts (the discussion thread). Raises DeliveryFailed."""
        ...

    def find_prompt(self, channel_id: str, step_id: int, since: datetime) -> str | None:
        """The ts of a prompt for ``step_id`` already in the channel (posted before a crash), if any."""
        ...

    def post_catch_up(
        self,
        channel_id: str,
        book_title: str,
        missed: Sequence[Step],
        timezone: str,
        next_step: Step | None,
    ) -> None: ...

    def channel_members(self, channel_id: str) -> list[str]: ...

    def remind(
        self, user_id: str, channel_id: str, thread_ts: str | None, content: PromptContent
    ) -> None:
        """A private nudge (DM) to reflect on a step; never an @-mention in the channel."""
        ...

    def post_reflection(
        self, channel_id: str, thread_ts: str, reflection: Reflection, step: Step
    ) -> str:
        """Echo a shared reflection into its prompt's thread (escaped); returns its ts."""
        ...

    def post_digest(self, channel_id: str, digest: Digest) -> list[str]:
        """Post a digest (split into several messages when long); returns their ts values."""
        ...

    def send_file(
        self, user_id: str, filename: str, title: str, content: str, comment: str
    ) -> None:
        """Send a file to a member privately (their DM)."""
        ...


@runtime_checkable
class Directory(Protocol):
    """Who people and channels are, for text meant to be read (exports, posts, digests).

    Slack in production (``users.info``, ``conversations.info``); a name that cannot be
    looked up comes back as the id itself, never as an error.
    """

    def user_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        """Display names (``display_name``, else ``real_name``, else ``name``) by user id."""
        ...

    def channel_name(self, channel_id: str) -> str:
        """``book-club`` for a channel id (the id itself for DMs or when unknown)."""
        ...


class DiscussionRepository(Protocol):
    def claim_event(self, event_id: str, now: datetime) -> bool:
        """Record that ``event_id`` is being applied; False if it was applied already."""
        ...

    def where_to_keep(
        self, channel_id: str, thread_ts: str | None
    ) -> tuple[int, int | None] | None:
        """(workspace, step) for a prompt-thread reply, (workspace, None) where the group
        keeps every message, None when the message is not kept (privacy)."""
        ...

    def add_message(
        self, workspace_id: int, step_id: int | None, event: MessageEvent, now: datetime
    ) -> bool: ...
    def edit_message(self, channel_id: str, ts: str, text: str | None, now: datetime) -> bool: ...
    def delete_message(self, channel_id: str, ts: str, now: datetime) -> bool: ...
    def tracked(self, channel_id: str, ts: str) -> bool:
        """Is (channel, ts) a stored message, a prompt or a reflection echo?"""
        ...

    def react(self, event: ReactionEvent, now: datetime) -> bool: ...
    def for_steps(self, step_ids: Sequence[int]) -> list[ThreadMessage]: ...
    def reaction_counts(self, channel_id: str, ts_values: Sequence[str]) -> dict[str, int]: ...
    def for_export(self, workspace_id: int, channel_id: str | None) -> list[ThreadMessage]: ...


class SummaryRepository(Protocol):
    def claim(self, key: DigestKey, channel_id: str, now: datetime) -> int | None:
        """Create the digest's row (unique per plan, kind, period); None if it exists already."""
        ...

    def mark_posted(self, summary_id: int, ts_values: Sequence[str], now: datetime) -> None: ...
    def release(self, summary_id: int) -> None: ...
    def for_plan(self, plan_id: int) -> list[dict[str, object]]: ...


class DraftRepository(Protocol):
    def add(self, draft: Draft) -> Draft: ...
    def get(self, draft_id: int) -> Draft | None: ...
    def take(self, draft_id: int) -> bool:
        """Delete the draft; True only for the caller that deleted it."""
        ...

    def purge(self, before: datetime) -> int: ...


class Unit(Protocol):
    """One transaction over every repository. Changes are kept only on ``commit()``;
    leaving the ``with`` block rolls back anything else and closes the transaction."""

    # Read-only in the protocol, so implementations may use their own repository classes.
    @property
    def workspaces(self) -> WorkspaceRepository: ...
    @property
    def members(self) -> MemberRepository: ...
    @property
    def groups(self) -> GroupRepository: ...
    @property
    def books(self) -> BookRepository: ...
    @property
    def plans(self) -> PlanRepository: ...
    @property
    def reflections(self) -> ReflectionRepository: ...
    @property
    def prompts(self) -> PromptQueue: ...
    @property
    def discussions(self) -> DiscussionRepository: ...
    @property
    def summaries(self) -> SummaryRepository: ...
    @property
    def drafts(self) -> DraftRepository: ...

    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def __enter__(self) -> Unit: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWork(Protocol):
    """Opens a :class:`Unit` per call (``with uow() as unit:``); safe to share between threads."""

    def __call__(self) -> Unit: ...
