"""What the services need from the outside world, as Protocols (implemented in storage/, slack/)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol, runtime_checkable

from bot.domain.digests import Digest, DigestKey, SummaryRecord
from bot.domain.discussions import MessageEvent, ReactionEvent, ThreadMessage
from bot.domain.imports import PendingImport
from bot.domain.model import (
    ActionItem,
    Book,
    Draft,
    Feedback,
    Group,
    Member,
    Pair,
    PairState,
    Plan,
    PlanView,
    Publication,
    PublicationState,
    Reflection,
    Step,
    StepState,
)
from bot.domain.notes import MessageRef, Note
from bot.domain.pace import Away, Calendar, DueNudge, Reader
from bot.domain.pairs import Person
from bot.domain.polls import Ballot, Candidate, Count, Poll, PollState
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
    def teams(self) -> list[str]:
        """The Slack team ids of every workspace, oldest first."""
        ...


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

    def without_quiet_hours(self, workspace_id: int) -> set[str]:
        """User ids of members who take nudges at any hour (quiet hours off)."""
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
    def update(self, book: Book, key: str) -> None: ...
    def delete(self, book_id: int) -> None: ...
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
        """The group's most recent plan, running or finished (None if it was cancelled)."""
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

    def delete(self, plan_id: int) -> None: ...
    def quotes_changed(self, plan_ids: Sequence[int], now: datetime) -> None:
        """Words these plans' digests may quote were taken back at ``now``."""
        ...

    def quotes_changed_in_workspace(self, workspace_id: int, now: datetime) -> None: ...


class ReflectionRepository(Protocol):
    def add(self, reflection: Reflection) -> Reflection: ...
    def get(self, reflection_id: int) -> Reflection | None: ...
    def by_number(self, workspace_id: int, author_id: str, number: int) -> Reflection | None:
        """A member's reflection by their own number (#1 is their first)."""
        ...

    def swap_echo(self, reflection_id: int, expected: str | None, new: str | None) -> bool:
        """Compare-and-set of the reflection's echo ts; True if it was ``expected``."""
        ...

    def swap_mentor_copy(self, reflection_id: int, expected: str | None, new: str | None) -> bool:
        """Compare-and-set of where the mentor's DM copy is ("channel ts", or a claim)."""
        ...

    def mark_read(self, reflection_id: int, now: datetime) -> bool:
        """The mentor read it; False if they had already."""
        ...

    def save(self, reflection: Reflection) -> None: ...
    def save_content(self, reflection: Reflection) -> None:
        """Save everything but the echo ts (which only :meth:`swap_echo` changes)."""
        ...

    def delete(self, reflection_id: int) -> None: ...
    def for_plan(self, plan_id: int, author_id: str | None = None) -> list[Reflection]: ...
    def unechoed(self, plan_ids: Sequence[int]) -> set[tuple[int, int]]:
        """(plan id, step number) of shared reflections not yet in their step's thread."""
        ...

    def by_author(self, workspace_id: int, author_id: str) -> Sequence[Reflection]: ...


@dataclass(frozen=True, slots=True)
class DueStep:
    """A step the scheduler may act on, as the queue sees it."""

    step_id: int
    plan_id: int
    number: int
    due_at: datetime
    state: StepState
    attempts: int  # claims, crashed ones included (> 0: a prompt may be in the channel)
    claimed_at: datetime | None
    channel_id: str
    failures: int = 0  # times Slack failed this post (what the backoff counts)


class PromptQueue(Protocol):
    """The plan_steps table seen as a work queue. Claims are conditional updates: a database fact.

    A claim's ``token`` is the claiming process's worker id, ``:``, and anything (one per
    batch). A step is claimable when it is due (and not waiting for a retry), or when its
    claim was abandoned; and only when every earlier step of its plan is closed (posted,
    skipped, missed or cancelled) or is claimed in the same call: prompts go out in
    chapter order, whichever process posts them.

    A claim is abandoned when it is older than the lease (``stale_before``), or when the
    process that made it is gone and no post of it can still be in flight. A process is
    gone when it no longer holds what :meth:`announce` took (PostgreSQL), or, with one
    posting process (SQLite), when it is another worker whose claim is older than the
    asking process (``worker_id``, ``started``).
    """

    def announce(self, worker_id: str) -> None:
        """Show other processes that ``worker_id`` is alive, until this process ends."""
        ...

    def candidates(
        self,
        now: datetime,
        stale_before: datetime,
        limit: int,
        *,
        worker_id: str | None = None,
        started: datetime | None = None,
    ) -> list[DueStep]:
        """Steps of active plans that are claimable now, the earliest due first."""
        ...

    def claim(
        self,
        step_ids: Sequence[int],
        token: str,
        now: datetime,
        stale_before: datetime,
        *,
        worker_id: str | None = None,
        started: datetime | None = None,
    ) -> list[int]:
        """Claim what is still claimable of ``step_ids`` for ``token``; returns the ids won."""
        ...

    def renew(
        self, step_id: int, token: str, now: datetime, in_flight_until: datetime | None = None
    ) -> bool:
        """Restart the lease of ``token``'s claim at ``now``; False if the claim was lost.

        ``in_flight_until``: a post is about to go out; until then no other process takes
        the claim over as abandoned by a gone process (the post may still land)."""
        ...

    def mark_posted(self, step_id: int, token: str, ts: str, now: datetime, late: bool) -> bool: ...
    def release(
        self, step_id: int, token: str, retry_at: datetime | None, *, failed: bool = False
    ) -> None:
        """Give the claim back: pending again, not before ``retry_at``; ``failed`` (Slack
        failed the post) counts one more failure."""
        ...

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

    def announce_plan_started(self, channel_id: str, view: PlanView) -> None:
        """Tell the channel a reading plan has started (host, book, cadence, first prompt)."""
        ...

    def can_post(self, channel_id: str) -> bool:
        """Can the bot post in this conversation (it exists and the bot is in it)?"""
        ...

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

    def update_reflection(
        self, channel_id: str, ts: str, reflection: Reflection, step: Step
    ) -> None:
        """Show a reflection's new text in its echo (``chat.update``)."""
        ...

    def delete_message(self, channel_id: str, ts: str) -> None:
        """Delete one of the bot's messages; one already gone is not an error."""
        ...

    def post_digest(self, channel_id: str, digest: Digest) -> list[str]:
        """Post a digest (split into several messages when long); returns their ts values."""
        ...

    def update_digest(self, channel_id: str, ts_values: Sequence[str], digest: Digest) -> list[str]:
        """Show a digest's new rendering in its posted messages (``chat.update``), posting
        or deleting messages when it needs more or fewer; returns the ts values now used."""
        ...

    def send_file(
        self, user_id: str, filename: str, title: str, content: str, comment: str
    ) -> None:
        """Send a file to a member privately (their DM)."""
        ...

    def send_note(self, user_id: str, note: Note) -> MessageRef:
        """Tell one person something privately (their DM with the bot)."""
        ...

    def post_note(self, channel_id: str, note: Note) -> MessageRef:
        """Post a note in a conversation (a pair's own, where only the two are)."""
        ...

    def update_note(self, ref: MessageRef, note: Note) -> None:
        """Show a note's new state in a message sent before (``chat.update``)."""
        ...

    def open_conversation(self, user_ids: Sequence[str]) -> str:
        """A group DM of these people and the bot (created, or the one they have)."""
        ...

    def post_poll(self, channel_id: str, poll: Poll) -> str:
        """Post a poll's ballot (the candidates and a Vote button); returns its ts."""
        ...

    def update_poll(self, channel_id: str, ts: str, poll: Poll) -> None:
        """Show the ballot's new state (closed: no Vote button) in its message."""
        ...

    def post_poll_result(self, channel_id: str, poll: Poll) -> str:
        """Post a closed poll's count, round by round, and its winner; returns its ts."""
        ...

    def find_poll_result(self, channel_id: str, poll_id: int, since: datetime) -> str | None:
        """The ts of a result of ``poll_id`` already in the channel (posted before a crash)."""
        ...

    def download_file(self, url: str, max_bytes: int) -> bytes:
        """A file shared with the bot (Slack's ``url_private_download``), with the bot's
        token; at most ``max_bytes``. Raises DeliveryFailed when Slack did not give it."""
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

    def is_admin(self, user_id: str) -> bool:
        """Is the member an admin or owner of the workspace? (False when unknown.)"""
        ...

    def user_timezone(self, user_id: str) -> str | None:
        """The member's own time zone as Slack has it (``users.info`` ``tz``), if known."""
        ...

    def person(self, user_id: str) -> Person:
        """Whether Slack knows the user here, and whether they are a bot or deactivated."""
        ...

    def permalink(self, channel_id: str, ts: str) -> str | None:
        """A link to a message (``chat.getPermalink``), or None when Slack cannot say."""
        ...


class DiscussionRepository(Protocol):
    def claim_event(self, event_id: str, now: datetime) -> bool:
        """Record that ``event_id`` is being applied; False if it was applied already."""
        ...

    def plan_of(self, channel_id: str, ts: str) -> int | None:
        """The plan whose prompt thread holds the stored message (channel, ts), if any."""
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
    def message(self, channel_id: str, ts: str) -> ThreadMessage | None:
        """The stored message at (channel, ts), deleted or not."""
        ...

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
    def claim(
        self,
        key: DigestKey,
        channel_id: str,
        now: datetime,
        step_numbers: Sequence[int] = (),
    ) -> int | None:
        """Create the digest's row (unique per plan, kind, period); None if it exists already."""
        ...

    def mark_posted(self, summary_id: int, ts_values: Sequence[str], now: datetime) -> None: ...
    def mark_empty(self, summary_id: int, now: datetime) -> None:
        """Done without a post: nothing was shared in the digest's period."""
        ...

    def release(self, summary_id: int) -> None: ...
    def for_plan(self, plan_id: int) -> list[dict[str, object]]: ...
    def behind(self) -> list[SummaryRecord]:
        """Digests to re-render: wrap-ups older than a reflection shared on their plan (late
        ones), and any posted digest older than its plan's ``quotes_changed_at``."""
        ...

    def wrap_ups_behind(self) -> list[SummaryRecord]:
        """Wrap-ups (posted, or empty) older than a reflection shared on their plan since."""
        ...

    def take_refresh(self, summary_id: int, seen: datetime | None, now: datetime) -> bool:
        """Stamp the summary ``now`` if its ``updated_at`` is still ``seen``: the right to
        re-render it (compare-and-set, so two processes never both do)."""
        ...

    def give_back_refresh(self, summary_id: int, taken: datetime, seen: datetime | None) -> None:
        """Undo :meth:`take_refresh` after Slack failed, so the next tick tries again."""
        ...

    def mark_updated(self, summary_id: int, ts_values: Sequence[str], now: datetime) -> None:
        """Re-rendered (or posted at last): its messages are ``ts_values``."""
        ...


class DraftRepository(Protocol):
    def add(self, draft: Draft) -> Draft: ...
    def get(self, draft_id: int) -> Draft | None: ...
    def take(self, draft_id: int) -> bool:
        """Delete the draft; True only for the caller that deleted it."""
        ...

    def purge(self, before: datetime) -> int: ...


class PairRepository(Protocol):
    """Mentoring pairs, with their feedback, action items and publications."""

    def add(self, pair: Pair) -> Pair:
        """Store a proposal; raises Duplicate when the two already have an open pair."""
        ...

    def get(self, pair_id: int) -> Pair | None: ...
    def active_for_channel(self, workspace_id: int, channel_id: str) -> Pair | None: ...
    def active_channels(self, channel_ids: Sequence[str]) -> set[str]:
        """Those of ``channel_ids`` that hold an active pair (in any workspace)."""
        ...

    def latest_for_channel(self, workspace_id: int, channel_id: str) -> Pair | None: ...
    def open_between(self, workspace_id: int, a: str, b: str) -> Pair | None: ...
    def for_user(self, workspace_id: int, user_id: str) -> list[Pair]: ...
    def in_workspace(self, workspace_id: int, states: Sequence[PairState]) -> list[Pair]: ...
    def in_states(self, states: Sequence[PairState]) -> list[Pair]: ...
    def save(self, pair: Pair) -> None:
        """Write the agreement and look-back (never the state)."""
        ...

    def move(
        self, pair_id: int, from_state: PairState, to_state: PairState, **values: object
    ) -> bool:
        """Change the state only if it still is ``from_state``; True if this call did."""
        ...

    def claim_look_back(self, pair_id: int, now: datetime) -> bool: ...
    def claim_quiet_flag(self, pair_id: int, previous: datetime | None, now: datetime) -> bool: ...
    def add_feedback(self, feedback: Feedback) -> Feedback: ...
    def feedback(self, feedback_id: int) -> Feedback | None: ...
    def feedback_on(self, reflection_ids: Sequence[int]) -> list[Feedback]: ...
    def feedback_of_pair(self, pair_id: int) -> list[Feedback]: ...
    def add_action(self, item: ActionItem) -> tuple[ActionItem, int]: ...
    def actions(self, pair_id: int, *, open_only: bool = False) -> list[tuple[int, ActionItem]]: ...
    def finish_action(self, pair_id: int, number: int, user_id: str, now: datetime) -> bool: ...
    def add_publication(self, publication: Publication) -> Publication: ...
    def publication(self, publication_id: int) -> Publication | None: ...
    def set_allowed(self, publication_id: int, allowed: Sequence[int]) -> bool: ...
    def decide(self, publication_id: int, state: PublicationState, now: datetime) -> bool: ...


class ReaderRepository(Protocol):
    """Each member's own pace: readers, away periods, nudges and calendar feeds."""

    def get(self, plan_id: int, user_id: str) -> Reader | None: ...
    def for_plan(self, plan_id: int) -> list[Reader]: ...
    def save(self, reader: Reader, now: datetime) -> None: ...
    def claim_welcome(self, plan_id: int, user_id: str, now: datetime) -> bool: ...
    def away(self, workspace_id: int, user_ids: Sequence[str]) -> dict[str, list[Away]]: ...
    def go_away(
        self, workspace_id: int, user_id: str, starts_at: datetime, ends_at: datetime
    ) -> None: ...
    def come_back(self, workspace_id: int, user_id: str, now: datetime) -> bool: ...
    def plan_nudge(self, step_id: int, user_id: str, due_at: datetime) -> bool: ...
    def due_nudges(self, now: datetime, limit: int = 500) -> list[DueNudge]: ...
    def claim_nudge(self, nudge_id: int) -> bool: ...
    def finish_nudge(self, nudge_id: int, sent: bool, now: datetime) -> None: ...
    def nudge_times(self, step_id: int) -> dict[str, datetime]: ...
    def add_calendar(
        self,
        workspace_id: int,
        group_id: int,
        user_id: str,
        whole_group: bool,
        secret_hash: str,
        now: datetime,
    ) -> None: ...
    def active_calendar(
        self, group_id: int, user_id: str, whole_group: bool
    ) -> Calendar | None: ...
    def revoke_calendars(
        self, group_id: int, user_id: str, whole_group: bool, now: datetime
    ) -> int: ...
    def calendar_by_hash(self, secret_hash: str) -> Calendar | None: ...


class PollRepository(Protocol):
    """Next-book polls. Every state change is a conditional update: a database fact."""

    def get(self, poll_id: int) -> Poll | None: ...
    def current_for_group(self, group_id: int) -> Poll | None:
        """The group's poll taking proposals or votes, if any."""
        ...

    def latest_for_group(self, group_id: int) -> Poll | None: ...
    def due(self, now: datetime) -> list[int]:
        """Open polls whose closing time has come."""
        ...

    def unannounced(self, stale_before: datetime) -> list[int]:
        """Closed polls whose result is not posted, and nobody (alive) is posting it."""
        ...

    def closing_times(self, workspace_id: int) -> list[datetime]:
        """When the workspace's open polls close."""
        ...

    def create(self, poll: Poll) -> Poll:
        """A new poll taking proposals; Duplicate when the group has a current one."""
        ...

    def touch(self, poll_id: int, state: PollState) -> bool:
        """Lock the poll's row for this transaction, if it is in ``state``."""
        ...

    def add_candidate(self, candidate: Candidate, key: str) -> Candidate: ...
    def candidate_keys(self, poll_id: int) -> dict[str, Candidate]: ...
    def remove_candidate(self, poll_id: int, proposed_by: str) -> bool: ...
    def open(self, poll_id: int, host: str, now: datetime, closes_at: datetime) -> bool: ...
    def reopen_proposals(self, poll_id: int) -> bool: ...
    def set_message(self, poll_id: int, ts: str) -> None: ...
    def ballot(self, poll_id: int, voter_id: str) -> Ballot | None: ...
    def ballots(self, poll_id: int) -> list[Ballot]: ...
    def ballot_count(self, poll_id: int) -> int: ...
    def put_ballot(self, ballot: Ballot) -> bool:
        """Store the member's ballot (replacing theirs); True when it is their first."""
        ...

    def close(
        self, poll_id: int, now: datetime, closed_by: str | None, *, due_only: bool = False
    ) -> bool:
        """Voting ends: True for the one caller that closed it."""
        ...

    def save_count(self, poll_id: int, count: Count) -> None: ...
    def claim_announcement(
        self, poll_id: int, token: str, now: datetime, stale_before: datetime
    ) -> tuple[bool, bool]:
        """(won, retaken): the right to post the result; ``retaken`` from a stale claim."""
        ...

    def mark_announced(self, poll_id: int, token: str, ts: str) -> bool: ...
    def set_winner_book(self, poll_id: int, book_id: int) -> None: ...


class ImportRepository(Protocol):
    """Books read from a file, waiting for their chapters to be picked."""

    def add(self, pending: PendingImport) -> PendingImport: ...
    def get(self, import_id: int) -> PendingImport | None: ...
    def take(self, import_id: int) -> bool:
        """Delete it; True only for the caller that deleted it."""
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
    @property
    def pairs(self) -> PairRepository: ...
    @property
    def readers(self) -> ReaderRepository: ...
    @property
    def polls(self) -> PollRepository: ...
    @property
    def imports(self) -> ImportRepository: ...

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
