"""Polls for the next book: candidates, ballots, the close and its announcement.

Every change of a poll's state is one conditional ``UPDATE`` (only one process, or one
of two clicks, wins it), and "one current poll per group", "one proposal per member",
"one ballot per member" are unique indexes. A proposal or a ballot first bumps the poll's
``version`` while it is in the right state: that takes the row's lock, so a close (also
an update of the row) waits for a ballot being written and counts it, or the ballot
finds the poll closed and is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.domain.model import Chapter
from bot.domain.polls import (
    CURRENT_POLL_STATES,
    Ballot,
    Candidate,
    Count,
    Poll,
    PollState,
    Round,
)
from bot.storage.models import GroupRow, PollBallotRow, PollCandidateRow, PollRow
from bot.storage.repositories._common import affected, flush

_CURRENT = sorted(state.value for state in CURRENT_POLL_STATES)


class SqlPolls:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reading ----------------------------------------------------------------------

    def _load(
        self, *where: Any, order_newest: bool = False, limit: int | None = None
    ) -> list[Poll]:
        query = (
            select(PollRow, GroupRow.channel_id)
            .join(GroupRow, GroupRow.id == PollRow.group_id)
            .where(*where)
            .options(selectinload(PollRow.candidates))
            .order_by(PollRow.id.desc() if order_newest else PollRow.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_poll(row, channel_id) for row, channel_id in self.session.execute(query)]

    def get(self, poll_id: int) -> Poll | None:
        found = self._load(PollRow.id == poll_id)
        return found[0] if found else None

    def current_for_group(self, group_id: int) -> Poll | None:
        """The group's poll taking proposals or votes, if any."""
        found = self._load(PollRow.group_id == group_id, PollRow.state.in_(_CURRENT))
        return found[0] if found else None

    def latest_for_group(self, group_id: int) -> Poll | None:
        """The group's newest poll, current or closed."""
        found = self._load(PollRow.group_id == group_id, order_newest=True, limit=1)
        return found[0] if found else None

    def due(self, now: datetime) -> list[int]:
        """Open polls whose closing time has come, the earliest first."""
        return list(
            self.session.scalars(
                select(PollRow.id)
                .where(PollRow.state == PollState.OPEN.value, PollRow.closes_at <= now)
                .order_by(PollRow.closes_at, PollRow.id)
            )
        )

    def closing_times(self, workspace_id: int) -> list[datetime]:
        """When the workspace's open polls close."""
        return [
            moment
            for moment in self.session.scalars(
                select(PollRow.closes_at).where(
                    PollRow.workspace_id == workspace_id,
                    PollRow.state == PollState.OPEN.value,
                    PollRow.closes_at.is_not(None),
                )
            )
            if moment is not None
        ]

    def unannounced(self, stale_before: datetime) -> list[int]:
        """Closed polls whose result is not in their channel yet, and nobody is posting."""
        return list(
            self.session.scalars(
                select(PollRow.id)
                .where(
                    PollRow.state == PollState.CLOSED.value,
                    PollRow.result_ts.is_(None),
                    or_(
                        PollRow.announce_claim.is_(None),
                        PollRow.announce_claimed_at < stale_before,
                    ),
                )
                .order_by(PollRow.closed_at, PollRow.id)
            )
        )

    # --- proposals ----------------------------------------------------------------------

    def create(self, poll: Poll) -> Poll:
        """A new poll taking proposals; :class:`Duplicate` if the group has one already."""
        row = PollRow(
            workspace_id=poll.workspace_id,
            group_id=poll.group_id,
            state=poll.state.value,
            created_by=poll.created_by,
            created_at=poll.created_at,
        )
        self.session.add(row)
        flush(self.session)
        poll.id = row.id
        return poll

    def touch(self, poll_id: int, state: PollState) -> bool:
        """Bump the poll's version if it is in ``state``: the row's lock, held until commit,
        orders this transaction against a concurrent open or close."""
        result = self.session.execute(
            update(PollRow)
            .where(PollRow.id == poll_id, PollRow.state == state.value)
            .values(version=PollRow.version + 1)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def add_candidate(self, candidate: Candidate, key: str) -> Candidate:
        """Store a proposal, numbered after the others; :class:`Duplicate` on a race."""
        highest = self.session.scalar(
            select(func.max(PollCandidateRow.number)).where(
                PollCandidateRow.poll_id == candidate.poll_id
            )
        )
        candidate.number = int(highest or 0) + 1
        row = PollCandidateRow(
            poll_id=candidate.poll_id,
            number=candidate.number,
            title=candidate.title,
            author=candidate.author,
            book_key=key,
            chapters=[c.title for c in candidate.chapters],
            book_id=candidate.book_id,
            proposed_by=candidate.proposed_by,
            created_at=candidate.created_at,
        )
        self.session.add(row)
        flush(self.session)
        candidate.id = row.id
        return candidate

    def candidate_keys(self, poll_id: int) -> dict[str, Candidate]:
        """The poll's candidates by book key."""
        rows = self.session.scalars(
            select(PollCandidateRow).where(PollCandidateRow.poll_id == poll_id)
        )
        return {row.book_key: _candidate(row) for row in rows}

    def remove_candidate(self, poll_id: int, proposed_by: str) -> bool:
        result = self.session.execute(
            delete(PollCandidateRow).where(
                PollCandidateRow.poll_id == poll_id, PollCandidateRow.proposed_by == proposed_by
            )
        )
        return affected(result) > 0

    # --- the ballot -----------------------------------------------------------------------

    def open(self, poll_id: int, host: str, now: datetime, closes_at: datetime) -> bool:
        """Proposals end and voting starts, once."""
        result = self.session.execute(
            update(PollRow)
            .where(PollRow.id == poll_id, PollRow.state == PollState.PROPOSING.value)
            .values(
                state=PollState.OPEN.value,
                host_user_id=host,
                opened_at=now,
                closes_at=closes_at,
                version=PollRow.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def reopen_proposals(self, poll_id: int) -> bool:
        """Undo :meth:`open` when the ballot could not be posted (nobody could vote)."""
        result = self.session.execute(
            update(PollRow)
            .where(
                PollRow.id == poll_id,
                PollRow.state == PollState.OPEN.value,
                PollRow.message_ts.is_(None),
            )
            .values(
                state=PollState.PROPOSING.value,
                host_user_id=None,
                opened_at=None,
                closes_at=None,
                version=PollRow.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def set_message(self, poll_id: int, ts: str) -> None:
        self.session.execute(
            update(PollRow)
            .where(PollRow.id == poll_id)
            .values(message_ts=ts)
            .execution_options(synchronize_session=False)
        )

    def ballot(self, poll_id: int, voter_id: str) -> Ballot | None:
        row = self.session.scalar(
            select(PollBallotRow).where(
                PollBallotRow.poll_id == poll_id, PollBallotRow.voter_id == voter_id
            )
        )
        return _ballot(row) if row else None

    def ballots(self, poll_id: int) -> list[Ballot]:
        rows = self.session.scalars(
            select(PollBallotRow).where(PollBallotRow.poll_id == poll_id).order_by(PollBallotRow.id)
        )
        return [_ballot(r) for r in rows]

    def ballot_count(self, poll_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.count(PollBallotRow.id)).where(PollBallotRow.poll_id == poll_id)
            )
            or 0
        )

    def put_ballot(self, ballot: Ballot) -> bool:
        """Store the member's ballot, replacing theirs; True when it is their first."""
        row = self.session.scalar(
            select(PollBallotRow).where(
                PollBallotRow.poll_id == ballot.poll_id, PollBallotRow.voter_id == ballot.voter_id
            )
        )
        if row is None:
            self.session.add(
                PollBallotRow(
                    poll_id=ballot.poll_id,
                    voter_id=ballot.voter_id,
                    ranking=list(ballot.ranking),
                    cast_at=ballot.cast_at,
                )
            )
            flush(self.session)
            return True
        row.ranking = list(ballot.ranking)
        row.updated_at = ballot.updated_at or ballot.cast_at
        flush(self.session)
        return False

    # --- closing ----------------------------------------------------------------------------

    def close(
        self, poll_id: int, now: datetime, closed_by: str | None, *, due_only: bool = False
    ) -> bool:
        """Voting ends, once: True for the one caller whose update closed it. ``due_only``:
        only if its closing time has come (the scheduler's close)."""
        conditions = [PollRow.id == poll_id, PollRow.state == PollState.OPEN.value]
        if due_only:
            conditions.append(PollRow.closes_at <= now)
        result = self.session.execute(
            update(PollRow)
            .where(*conditions)
            .values(
                state=PollState.CLOSED.value,
                closed_at=now,
                closed_by=closed_by,
                version=PollRow.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def save_count(self, poll_id: int, count: Count) -> None:
        self.session.execute(
            update(PollRow)
            .where(PollRow.id == poll_id)
            .values(result=_count_json(count))
            .execution_options(synchronize_session=False)
        )

    def claim_announcement(
        self, poll_id: int, token: str, now: datetime, stale_before: datetime
    ) -> tuple[bool, bool]:
        """Take the right to post the poll's result: (won, retaken). ``retaken``: another
        claim came first and went stale (its post may be in the channel already)."""
        previous = self.session.execute(
            select(PollRow.announce_claim, PollRow.announce_claimed_at).where(
                PollRow.id == poll_id,
                PollRow.state == PollState.CLOSED.value,
                PollRow.result_ts.is_(None),
            )
        ).first()
        if previous is None:
            return False, False
        old_claim, claimed_at = previous
        conditions = [PollRow.id == poll_id, PollRow.result_ts.is_(None)]
        if old_claim is None:
            conditions.append(PollRow.announce_claim.is_(None))
        else:
            if claimed_at is None or claimed_at >= stale_before:
                return False, False
            conditions += [
                PollRow.announce_claim == old_claim,
                PollRow.announce_claimed_at < stale_before,
            ]
        result = self.session.execute(
            update(PollRow)
            .where(*conditions)
            .values(announce_claim=token, announce_claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0, old_claim is not None

    def mark_announced(self, poll_id: int, token: str, ts: str) -> bool:
        result = self.session.execute(
            update(PollRow)
            .where(PollRow.id == poll_id, PollRow.announce_claim == token)
            .values(result_ts=ts)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def set_winner_book(self, poll_id: int, book_id: int) -> None:
        self.session.execute(
            update(PollRow)
            .where(PollRow.id == poll_id)
            .values(winner_book_id=book_id)
            .execution_options(synchronize_session=False)
        )


# --- rows ↔ domain ----------------------------------------------------------------------


def _candidate(row: PollCandidateRow) -> Candidate:
    return Candidate(
        id=row.id,
        poll_id=row.poll_id,
        number=row.number,
        title=row.title,
        author=row.author,
        chapters=[
            Chapter(number=i, title=str(t) if t else None)
            for i, t in enumerate(row.chapters or [], start=1)
        ],
        proposed_by=row.proposed_by,
        created_at=row.created_at,
        book_id=row.book_id,
    )


def _ballot(row: PollBallotRow) -> Ballot:
    return Ballot(
        poll_id=row.poll_id,
        voter_id=row.voter_id,
        ranking=tuple(int(c) for c in row.ranking or []),
        cast_at=row.cast_at,
        updated_at=row.updated_at,
    )


def _poll(row: PollRow, channel_id: str) -> Poll:
    return Poll(
        id=row.id,
        workspace_id=row.workspace_id,
        group_id=row.group_id,
        channel_id=channel_id,
        created_by=row.created_by,
        created_at=row.created_at,
        state=PollState(row.state),
        host_user_id=row.host_user_id,
        opened_at=row.opened_at,
        closes_at=row.closes_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        message_ts=row.message_ts,
        result_ts=row.result_ts,
        count=_count(row.result) if row.result else None,
        winner_book_id=row.winner_book_id,
        candidates=[_candidate(c) for c in row.candidates],
    )


def _count_json(count: Count) -> dict[str, Any]:
    return {
        "ballots": count.ballots,
        "winner": count.winner,
        "rounds": [
            {
                "votes": [list(pair) for pair in r.votes],
                "exhausted": r.exhausted,
                "eliminated": r.eliminated,
                "tie_broken": r.tie_broken,
            }
            for r in count.rounds
        ],
    }


def _count(data: dict[str, Any]) -> Count:
    rounds: Sequence[dict[str, Any]] = data.get("rounds") or []
    return Count(
        ballots=int(data.get("ballots") or 0),
        winner=int(data["winner"]) if data.get("winner") is not None else None,
        rounds=tuple(
            Round(
                number=i,
                votes=tuple((int(c), int(v)) for c, v in r.get("votes") or []),
                exhausted=int(r.get("exhausted") or 0),
                eliminated=int(r["eliminated"]) if r.get("eliminated") is not None else None,
                tie_broken=bool(r.get("tie_broken")),
            )
            for i, r in enumerate(rounds, start=1)
        ),
    )
