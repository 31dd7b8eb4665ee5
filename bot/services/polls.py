"""Choosing the next book together: proposals, the ballot, the close and the count.

Exactly once, as database facts: a group has one current poll (a unique index); a poll
opens and closes by conditional updates of its row, so however many processes tick at
its closing time, and whether it closed on time or when the process came back, one of
them closes and counts it; its result is announced once (a claim on the row, taken over
after the lease by a process that first looks for the result in the channel). Every
proposal and ballot takes the poll's row lock first, while the poll is in the right
state: a ballot written as the poll closes is counted, or refused, never lost.

Members are the channel's members (``Notifier.channel_members``): only they propose and
vote. Nobody sees a ballot, or a tally, before the count.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.books import book_key, new_book, parse_chapters
from bot.domain.commands import BookPropose, PlanOptions
from bot.domain.errors import Conflict, Duplicate, InvalidInput, NotFound, PermissionDenied
from bot.domain.model import Book, Caller, Chapter, Group, PlanView
from bot.domain.plans import PlanDefaults
from bot.domain.polls import (
    MAX_CANDIDATES,
    Ballot,
    Candidate,
    Poll,
    PollState,
    check_candidates,
    check_ranking,
    describe_moment,
    instant_runoff,
    parse_closes,
    require_closer,
)
from bot.services.books import find_book, shelf_book_with_key
from bot.services.plans import CANT_SEE_CHANNEL, PlanService
from bot.services.ports import Clock, DeliveryFailed, Directory, Notifier, Unit, UnitOfWork

logger = logging.getLogger(__name__)

NOT_A_MEMBER = PermissionDenied(
    "Only the members of this channel take part in its poll. Join the channel first."
)


@dataclass(frozen=True, slots=True)
class Proposed:
    poll: Poll
    candidate: Candidate


@dataclass(frozen=True, slots=True)
class BallotForm:
    """What the ballot's form shows: the poll, and the member's ballot so far."""

    poll: Poll
    ballot: Ballot | None


@dataclass(frozen=True, slots=True)
class Voted:
    poll: Poll
    ballot: Ballot
    first: bool  # their first ballot (else it replaced their earlier one)


@dataclass(frozen=True, slots=True)
class PollStatus:
    poll: Poll
    ballots: int  # how many have voted (never what they chose)


@dataclass(frozen=True, slots=True)
class WinnerToStart:
    """The winner, on the shelf, for the plan form (which lists the whole shelf)."""

    poll: Poll
    book: Book
    shelf: list[Book]


class PollService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        notifier: Notifier,
        directory: Directory,
        plans: PlanService,
        defaults: PlanDefaults | None = None,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.directory = directory
        self.plans = plans
        self.defaults = defaults or PlanDefaults()
        self.lease = lease
        self.worker_id = uuid.uuid4().hex[:12]

    # ------------------------------------------------------------------ proposals

    def propose(
        self, team_id: str, user_id: str, channel_id: str, request: BookPropose
    ) -> Proposed:
        """Add a candidate to the group's poll (made on the first proposal): a book typed
        in, or one on the shelf. One proposal per member, and each book once."""
        self._require_member(channel_id, user_id)
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            book_id: int | None = None
            if request.book_ref is not None:
                shelf = find_book(uow, workspace_id, request.book_ref)
                title, author, chapters = shelf.title, shelf.author, shelf.chapters
                book_id = shelf.id
            else:
                typed = new_book(
                    workspace_id,
                    request.title or "",
                    request.author or "",
                    parse_chapters(request.chapters or ""),
                    user_id,
                )
                title, author, chapters = typed.title, typed.author, typed.chapters
                on_shelf = shelf_book_with_key(uow, workspace_id, book_key(title, author))
                if on_shelf is not None:
                    raise Conflict(
                        f"“{on_shelf.title}” by {on_shelf.author} is already on the shelf "
                        f"(#{on_shelf.id}). Propose it as it is: `/book propose #{on_shelf.id}`."
                    )
            key = book_key(title, author)
            group = uow.groups.ensure(workspace_id, channel_id, now)
            poll = self._current_or_new(uow, group, user_id, now)
            if poll.state is PollState.OPEN or not uow.polls.touch(
                _id(poll.id), PollState.PROPOSING
            ):
                raise Conflict(VOTING_STARTED)
            proposals = uow.polls.candidate_keys(_id(poll.id))
            mine = next((c for c in proposals.values() if c.proposed_by == user_id), None)
            if mine is not None:
                raise Conflict(
                    f"You have proposed “{mine.title}” for this poll already: one proposal "
                    "each. `/book propose withdraw` takes yours back, then propose another."
                )
            if key in proposals:
                other = proposals[key]
                name = self.directory.user_names([other.proposed_by]).get(other.proposed_by)
                raise Conflict(
                    f"“{other.title}” by {other.author} is on this poll already"
                    + (f" ({name} proposed it)." if name else ".")
                )
            if len(proposals) >= MAX_CANDIDATES:
                raise Conflict(f"This poll has {MAX_CANDIDATES} proposals, as many as it takes.")
            candidate = uow.polls.add_candidate(
                Candidate(
                    poll_id=_id(poll.id),
                    number=0,
                    title=title,
                    author=author,
                    chapters=[Chapter(c.number, c.title) for c in chapters],
                    proposed_by=user_id,
                    created_at=now,
                    book_id=book_id,
                ),
                key,
            )
            uow.commit()
        return Proposed(self._get(_id(poll.id)), candidate)

    def withdraw(self, team_id: str, user_id: str, channel_id: str) -> Candidate:
        """Take one's proposal back, while the poll still takes proposals."""
        now = self.clock.now()
        with self.uow() as uow:
            poll = self._current(uow, team_id, channel_id, now)
            mine = next((c for c in poll.candidates if c.proposed_by == user_id), None)
            if mine is None:
                raise NotFound("You have no proposal in this channel's poll.")
            if poll.state is PollState.OPEN or not uow.polls.touch(
                _id(poll.id), PollState.PROPOSING
            ):
                raise Conflict(
                    "Voting has started, so the proposals stay as they are until the poll closes."
                )
            uow.polls.remove_candidate(_id(poll.id), user_id)
            uow.commit()
            return mine

    # ------------------------------------------------------------------ the ballot

    def open(self, caller: Caller, channel_id: str, closes: str | None) -> Poll:
        """Post the ballot: proposals end, voting starts. Whoever posts it may close it
        early. When Slack does not take the ballot, the poll goes back to taking
        proposals (nothing else changed)."""
        self._require_member(channel_id, caller.user_id)
        if not self.notifier.can_post(channel_id):
            raise InvalidInput(CANT_SEE_CHANNEL)
        now = self.clock.now()
        with self.uow() as uow:
            poll = self._current(uow, caller.team_id, channel_id, now)
            if poll.state is PollState.OPEN:
                raise Conflict(
                    "The ballot is up already"
                    + (
                        f"; it closes {describe_moment(poll.closes_at, poll.timezone)}"
                        if poll.closes_at
                        else ""
                    )
                    + ". `/book poll status` shows it; whoever posted it can `/book poll close`."
                )
            check_candidates(poll)
            closes_at = parse_closes(closes, now, poll.timezone)
            if not uow.polls.open(_id(poll.id), caller.user_id, now, closes_at):
                raise Conflict(VOTING_STARTED)
            uow.commit()
        opened = self._get(_id(poll.id))
        try:
            ts = self.notifier.post_poll(channel_id, opened)
        except DeliveryFailed as exc:
            logger.warning("the ballot of poll %s was not posted: %s", poll.id, exc.reason)
            with self.uow() as uow:
                uow.polls.reopen_proposals(_id(poll.id))
                uow.commit()
            raise InvalidInput(
                "Slack did not take the ballot, so the poll was not opened; the proposals "
                "are kept. Please try `/book poll` again in a moment."
            ) from None
        with self.uow() as uow:
            uow.polls.set_message(_id(poll.id), ts)
            uow.commit()
        opened.message_ts = ts
        return opened

    def ballot_form(self, team_id: str, user_id: str, poll_id: int) -> BallotForm:
        """The ballot to fill in (with the member's earlier one), if they may vote now."""
        now = self.clock.now()
        poll = self._poll_of(team_id, poll_id, now)
        _require_voting(poll, now)
        self._require_member(poll.channel_id, user_id)
        with self.uow() as uow:
            return BallotForm(poll, uow.polls.ballot(poll_id, user_id))

    def vote(self, team_id: str, user_id: str, poll_id: int, ranking: list[int]) -> Voted:
        """Store the member's ranking (replacing their earlier one): only a member of the
        channel, only while the poll is open, each candidate once, three at most."""
        now = self.clock.now()
        poll = self._poll_of(team_id, poll_id, now)
        _require_voting(poll, now)
        chosen = check_ranking(ranking, [c.number for c in poll.candidates])
        self._require_member(poll.channel_id, user_id)
        with self.uow() as uow:
            if not uow.polls.touch(poll_id, PollState.OPEN) or _closed_by_time(poll, now):
                raise Conflict(CLOSED)
            ballot = Ballot(poll_id, user_id, chosen, cast_at=now, updated_at=now)
            first = uow.polls.put_ballot(ballot)
            uow.commit()
        return Voted(poll, ballot, first)

    def status(self, team_id: str, channel_id: str) -> PollStatus:
        """The channel's current poll (else its last one) and how many have voted."""
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            group = uow.groups.get(workspace_id, channel_id)
            poll = uow.polls.latest_for_group(group.id) if group and group.id else None
            if poll is None:
                raise NotFound(_NO_POLL)
            return PollStatus(self._zoned(uow, poll), uow.polls.ballot_count(_id(poll.id)))

    # ------------------------------------------------------------------ closing

    def close(self, caller: Caller, channel_id: str) -> Poll:
        """Close the channel's poll now (whoever posted it, or an admin), count it, and
        post the result."""
        now = self.clock.now()
        with self.uow() as uow:
            poll = self._current(uow, caller.team_id, channel_id, now, closed_too=True)
        if poll.state is PollState.CLOSED:
            raise Conflict("That poll has closed already; its result is in the channel.")
        if poll.state is PollState.PROPOSING:
            raise Conflict("The poll has no ballot yet: `/book poll` posts it.")
        require_closer(poll, caller)
        if not self._close(_id(poll.id), now, caller.user_id, due_only=False):
            raise Conflict("That poll has closed already; its result is in the channel.")
        self._announce(_id(poll.id), now)
        return self._get(_id(poll.id))

    def run_due(self, now: datetime | None = None) -> int:
        """Close and count the polls whose time has come (also those that came while no
        process was running), and post every result not posted yet. Returns how many
        polls this call closed."""
        now = now or self.clock.now()
        with self.uow() as uow:
            due = uow.polls.due(now)
        closed = sum(1 for poll_id in due if self._close(poll_id, now, None, due_only=True))
        with self.uow() as uow:
            pending = uow.polls.unannounced(now - self.lease)
        for poll_id in pending:
            self._announce(poll_id, now)
        return closed

    def closing_times(self, team_id: str) -> list[datetime]:
        """When the workspace's open polls close (for a clock that jumps, the console's)."""
        with self.uow() as uow:
            return uow.polls.closing_times(uow.workspaces.ensure(team_id, self.clock.now()))

    def _close(self, poll_id: int, now: datetime, closed_by: str | None, *, due_only: bool) -> bool:
        """Close and count, in one transaction: True for the one caller that closed it."""
        with self.uow() as uow:
            if not uow.polls.close(poll_id, now, closed_by, due_only=due_only):
                return False
            poll = uow.polls.get(poll_id)
            assert poll is not None
            ballots = uow.polls.ballots(poll_id)
            count = instant_runoff(
                [c.number for c in poll.candidates], [b.ranking for b in ballots]
            )
            uow.polls.save_count(poll_id, count)
            uow.commit()
        logger.info("poll %s closed with %d ballots", poll_id, count.ballots)
        return True

    def _announce(self, poll_id: int, now: datetime) -> bool:
        """Post the result once: claimed on the row; a claim gone stale (its process died
        or stalled) is taken over, after looking for the result in the channel."""
        token = f"{self.worker_id}:{uuid.uuid4().hex[:8]}"
        with self.uow() as uow:
            won, retaken = uow.polls.claim_announcement(poll_id, token, now, now - self.lease)
            uow.commit()
        if not won:
            return False
        poll = self._get(poll_id)
        try:
            ts = None
            if retaken and poll.closed_at is not None:
                ts = self.notifier.find_poll_result(
                    poll.channel_id, poll_id, poll.closed_at - timedelta(minutes=1)
                )
            if ts is None:
                ts = self.notifier.post_poll_result(poll.channel_id, poll)
        except DeliveryFailed as exc:
            # The claim stays: after the lease, the next tick looks for it, then posts.
            logger.warning("the result of poll %s was not posted: %s", poll_id, exc.reason)
            return False
        with self.uow() as uow:
            uow.polls.mark_announced(poll_id, token, ts)
            uow.commit()
        if poll.message_ts:
            try:
                self.notifier.update_poll(poll.channel_id, poll.message_ts, poll)
            except DeliveryFailed as exc:
                logger.info("the ballot of poll %s still shows Vote: %s", poll_id, exc.reason)
        return True

    # ------------------------------------------------------------------ the winner

    def winner_to_start(self, caller: Caller, poll_id: int) -> WinnerToStart:
        """Put the winner on the shelf (if it is not there yet) for the plan form; only
        whoever posted the poll, or an admin, and only while nothing is being read."""
        now = self.clock.now()
        poll = self._poll_of(caller.team_id, poll_id, now)
        require_closer(poll, caller)
        winner = poll.winner
        if poll.state is not PollState.CLOSED or winner is None:
            raise Conflict("That poll has no winner to start.")
        with self.uow() as uow:
            if uow.plans.running_for_group(poll.group_id) is not None:
                raise Conflict(
                    "This channel is reading a book now: `/book finish` it first, then "
                    f"start “{winner.title}” from the poll's result."
                )
            book = _winner_book(uow, poll, winner, now)
            uow.polls.set_winner_book(poll_id, _id(book.id))
            uow.commit()
            return WinnerToStart(poll, book, uow.books.all(poll.workspace_id))

    def start_winner(self, caller: Caller, poll_id: int) -> PlanView:
        """One click: start the winner here with the configured schedule (the plan form
        chooses another), and announce it in the channel."""
        chosen = self.winner_to_start(caller, poll_id)
        view = self.plans.start_from(
            caller, chosen.poll.channel_id, PlanOptions(book_ref=f"#{chosen.book.id}")
        )
        self.notifier.announce_plan_started(chosen.poll.channel_id, view)
        return view

    # ------------------------------------------------------------------ helpers

    def _require_member(self, channel_id: str, user_id: str) -> None:
        try:
            members = self.notifier.channel_members(channel_id)
        except DeliveryFailed as exc:
            if exc.reason in ("channel_not_found", "not_in_channel"):
                raise InvalidInput(CANT_SEE_CHANNEL) from None
            raise
        if user_id not in members:
            raise NOT_A_MEMBER

    def _current_or_new(self, uow: Unit, group: Group, user_id: str, now: datetime) -> Poll:
        found = uow.polls.current_for_group(_id(group.id))
        if found is not None:
            return found
        try:
            return uow.polls.create(
                Poll(
                    workspace_id=group.workspace_id,
                    group_id=_id(group.id),
                    channel_id=group.channel_id,
                    created_by=user_id,
                    created_at=now,
                )
            )
        except Duplicate:  # another member's first proposal made it at the same moment
            raced = uow.polls.current_for_group(_id(group.id))
            if raced is None:
                raise
            return raced

    def _current(
        self, uow: Unit, team_id: str, channel_id: str, now: datetime, *, closed_too: bool = False
    ) -> Poll:
        """The channel's current poll (``closed_too``: else its last one)."""
        workspace_id = uow.workspaces.ensure(team_id, now)
        group = uow.groups.get(workspace_id, channel_id)
        poll = None
        if group is not None and group.id is not None:
            poll = uow.polls.current_for_group(group.id)
            if poll is None and closed_too:
                poll = uow.polls.latest_for_group(group.id)
        if poll is None:
            raise NotFound(_NO_POLL)
        return self._zoned(uow, poll)

    def _poll_of(self, team_id: str, poll_id: int, now: datetime) -> Poll:
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            poll = uow.polls.get(poll_id) if 0 < poll_id <= 2**63 - 1 else None
            if poll is None or poll.workspace_id != workspace_id:
                raise NotFound("That poll no longer exists.")
            return self._zoned(uow, poll)

    def _get(self, poll_id: int) -> Poll:
        with self.uow() as uow:
            poll = uow.polls.get(poll_id)
            assert poll is not None
            return self._zoned(uow, poll)

    def _zoned(self, uow: Unit, poll: Poll) -> Poll:
        """The poll, with the time zone its times are shown in."""
        poll.timezone = self._zone(uow, poll)
        return poll

    def _zone(self, uow: Unit, poll: Poll) -> str:
        """The group's time zone: its plan's (the one running, else its last), else the
        configured default."""
        plan = uow.plans.running_for_group(poll.group_id) or uow.plans.latest_for_group(
            poll.group_id
        )
        return plan.timezone if plan is not None else self.defaults.timezone


_NO_POLL = (
    "There is no poll in this channel. Propose the next book with "
    "`/book propose <title> | <author> | <chapters>`; `/book poll` then posts the ballot."
)


VOTING_STARTED = (
    "Voting has started, so this poll takes no more proposals. Propose yours for the "
    "next poll once this one closes."
)


def _closed_by_time(poll: Poll, now: datetime) -> bool:
    return poll.closes_at is not None and poll.closes_at <= now


CLOSED = "This poll has closed, so your ballot was not counted. Its result is in the channel."


def _require_voting(poll: Poll, now: datetime) -> None:
    if poll.state is PollState.CLOSED or _closed_by_time(poll, now):
        raise Conflict(CLOSED)
    if poll.state is PollState.PROPOSING:
        raise Conflict("Voting has not started yet: `/book poll` posts the ballot.")


def _winner_book(uow: Unit, poll: Poll, winner: Candidate, now: datetime) -> Book:
    """The winner's book: the one proposed from the shelf, else the same book on the shelf,
    else the winner added to the shelf now (by whoever proposed it)."""
    for book_id in (poll.winner_book_id, winner.book_id):
        if book_id is not None:
            found = uow.books.get(book_id)
            if found is not None and found.workspace_id == poll.workspace_id:
                return found
    key = book_key(winner.title, winner.author)
    existing = shelf_book_with_key(uow, poll.workspace_id, key)
    if existing is not None:
        return existing
    book = new_book(
        poll.workspace_id, winner.title, winner.author, winner.chapters, winner.proposed_by
    )
    try:
        return uow.books.add(book, key, now)
    except Duplicate:  # added by someone else a moment ago
        raced = shelf_book_with_key(uow, poll.workspace_id, key)
        if raced is None:
            raise
        return raced


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("entity has not been stored")
    return value
