"""Mentoring pairs, their private feedback, action items and publications.

Every change of a pair's state is a conditional ``UPDATE`` (only the first of two clicks,
or of two processes, wins), and "two people have one open pair" is a partial unique index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Duplicate
from bot.domain.model import (
    OPEN_PAIR_STATES,
    ActionItem,
    Feedback,
    Pair,
    PairState,
    Publication,
    PublicationState,
)
from bot.storage.models import ActionItemRow, FeedbackRow, PairRow, PublicationRow
from bot.storage.repositories._common import affected, flush

MAX_NUMBER_RACES = 5


def people_key(a: str, b: str) -> str:
    """The two people of a pair, in either role: one open pair per two people."""
    return ":".join(sorted((a, b)))


class SqlPairs:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- pairs --------------------------------------------------------------------------

    def add(self, pair: Pair) -> Pair:
        """Store a proposal; :class:`Duplicate` when the two already have an open pair."""
        row = PairRow(
            workspace_id=pair.workspace_id,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            people_key=people_key(pair.mentee_id, pair.mentor_id),
            proposed_by=pair.proposed_by,
            created_at=pair.created_at,
        )
        _write(row, pair)
        self.session.add(row)
        flush(self.session)
        pair.id = row.id
        return pair

    def get(self, pair_id: int) -> Pair | None:
        row = self.session.get(PairRow, pair_id)
        return _pair(row) if row else None

    def active_for_channel(self, workspace_id: int, channel_id: str) -> Pair | None:
        row = self.session.scalar(
            select(PairRow).where(
                PairRow.workspace_id == workspace_id,
                PairRow.channel_id == channel_id,
                PairRow.state == PairState.ACTIVE.value,
            )
        )
        return _pair(row) if row else None

    def active_channels(self, channel_ids: Sequence[str]) -> set[str]:
        if not channel_ids:
            return set()
        return set(
            self.session.scalars(
                select(PairRow.channel_id).where(
                    PairRow.channel_id.in_(sorted(set(channel_ids))),
                    PairRow.state == PairState.ACTIVE.value,
                )
            )
        )

    def latest_for_channel(self, workspace_id: int, channel_id: str) -> Pair | None:
        """The conversation's pair, active or not (the newest), if it ever had one."""
        row = self.session.scalar(
            select(PairRow)
            .where(PairRow.workspace_id == workspace_id, PairRow.channel_id == channel_id)
            .order_by(PairRow.id.desc())
            .limit(1)
        )
        return _pair(row) if row else None

    def open_between(self, workspace_id: int, a: str, b: str) -> Pair | None:
        row = self.session.scalar(
            select(PairRow).where(
                PairRow.workspace_id == workspace_id,
                PairRow.people_key == people_key(a, b),
                PairRow.state.in_([s.value for s in OPEN_PAIR_STATES]),
            )
        )
        return _pair(row) if row else None

    def for_user(self, workspace_id: int, user_id: str) -> list[Pair]:
        """Every pair the member is or was in, newest first."""
        rows = self.session.scalars(
            select(PairRow)
            .where(
                PairRow.workspace_id == workspace_id,
                (PairRow.mentee_id == user_id) | (PairRow.mentor_id == user_id),
            )
            .order_by(PairRow.id.desc())
        )
        return [_pair(r) for r in rows]

    def in_workspace(self, workspace_id: int, states: Sequence[PairState]) -> list[Pair]:
        rows = self.session.scalars(
            select(PairRow)
            .where(
                PairRow.workspace_id == workspace_id,
                PairRow.state.in_([s.value for s in states]),
            )
            .order_by(PairRow.id)
        )
        return [_pair(r) for r in rows]

    def in_states(self, states: Sequence[PairState]) -> list[Pair]:
        rows = self.session.scalars(
            select(PairRow).where(PairRow.state.in_([s.value for s in states])).order_by(PairRow.id)
        )
        return [_pair(r) for r in rows]

    def save(self, pair: Pair) -> None:
        """Write the agreement and look-back (never the state: :meth:`move` changes it)."""
        row = self.session.get_one(PairRow, pair.id)
        _write(row, pair)

    def move(self, pair_id: int, from_state: PairState, to_state: PairState, **values: Any) -> bool:
        """Change a pair's state only if it is still ``from_state``: True if this call did."""
        try:
            with self.session.begin_nested():
                result = self.session.execute(
                    update(PairRow)
                    .where(PairRow.id == pair_id, PairRow.state == from_state.value)
                    .values(state=to_state.value, **values)
                    .execution_options(synchronize_session=False)
                )
        except IntegrityError as exc:
            raise Duplicate(str(exc.orig).splitlines()[0]) from exc
        return affected(result) > 0

    def claim_look_back(self, pair_id: int, now: datetime) -> bool:
        """Take the right to ask the pair to look back at their goals (once ever)."""
        result = self.session.execute(
            update(PairRow)
            .where(PairRow.id == pair_id, PairRow.look_back_asked_at.is_(None))
            .values(look_back_asked_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def claim_quiet_flag(self, pair_id: int, previous: datetime | None, now: datetime) -> bool:
        """Take the right to flag a quiet pair: only if its flag is still ``previous``
        (once per quiet spell, whichever process gets there first)."""
        current = (
            PairRow.quiet_flagged_at.is_(None)
            if previous is None
            else PairRow.quiet_flagged_at == previous
        )
        result = self.session.execute(
            update(PairRow)
            .where(PairRow.id == pair_id, current)
            .values(quiet_flagged_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    # --- feedback -----------------------------------------------------------------------

    def add_feedback(self, feedback: Feedback) -> Feedback:
        row = FeedbackRow(
            reflection_id=feedback.reflection_id,
            pair_id=feedback.pair_id,
            author_id=feedback.author_id,
            text=feedback.text,
            created_at=feedback.created_at,
        )
        self.session.add(row)
        self.session.flush()
        feedback.id = row.id
        return feedback

    def feedback(self, feedback_id: int) -> Feedback | None:
        row = self.session.get(FeedbackRow, feedback_id)
        return _feedback(row) if row else None

    def feedback_on(self, reflection_ids: Sequence[int]) -> list[Feedback]:
        if not reflection_ids:
            return []
        rows = self.session.scalars(
            select(FeedbackRow)
            .where(FeedbackRow.reflection_id.in_(list(reflection_ids)))
            .order_by(FeedbackRow.id)
        )
        return [_feedback(r) for r in rows]

    def feedback_of_pair(self, pair_id: int) -> list[Feedback]:
        rows = self.session.scalars(
            select(FeedbackRow).where(FeedbackRow.pair_id == pair_id).order_by(FeedbackRow.id)
        )
        return [_feedback(r) for r in rows]

    # --- action items -------------------------------------------------------------------

    def add_action(self, item: ActionItem) -> tuple[ActionItem, int]:
        """Store an action item as the pair's next number; returns it and its number."""
        for _attempt in range(MAX_NUMBER_RACES):
            number = (
                self.session.scalar(
                    select(func.max(ActionItemRow.number)).where(
                        ActionItemRow.pair_id == item.pair_id
                    )
                )
                or 0
            ) + 1
            row = ActionItemRow(
                pair_id=item.pair_id,
                number=number,
                text=item.text,
                created_by=item.created_by,
                created_at=item.created_at,
                feedback_id=item.feedback_id,
            )
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                    self.session.flush()
            except IntegrityError:
                continue
            item.id = row.id
            return item, number
        raise Duplicate("could not number the action item")

    def actions(self, pair_id: int, *, open_only: bool = False) -> list[tuple[int, ActionItem]]:
        """(number, item) of the pair's action items, in order."""
        query = select(ActionItemRow).where(ActionItemRow.pair_id == pair_id)
        if open_only:
            query = query.where(ActionItemRow.done_at.is_(None))
        return [
            (r.number, _action(r))
            for r in self.session.scalars(query.order_by(ActionItemRow.number))
        ]

    def finish_action(self, pair_id: int, number: int, user_id: str, now: datetime) -> bool:
        """Tick off action item ``number``: True if this call did (not done before)."""
        result = self.session.execute(
            update(ActionItemRow)
            .where(
                ActionItemRow.pair_id == pair_id,
                ActionItemRow.number == number,
                ActionItemRow.done_at.is_(None),
            )
            .values(done_at=now, done_by=user_id)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    # --- publications -------------------------------------------------------------------

    def add_publication(self, publication: Publication) -> Publication:
        row = PublicationRow(
            pair_id=publication.pair_id,
            plan_id=publication.plan_id,
            state=publication.state.value,
            reflection_ids=list(publication.reflection_ids),
            requested_feedback_ids=list(publication.requested_feedback_ids),
            allowed_feedback_ids=list(publication.allowed_feedback_ids),
            created_at=publication.created_at,
        )
        self.session.add(row)
        self.session.flush()
        publication.id = row.id
        return publication

    def publication(self, publication_id: int) -> Publication | None:
        row = self.session.get(PublicationRow, publication_id)
        return _publication(row) if row else None

    def set_allowed(self, publication_id: int, allowed: Sequence[int]) -> bool:
        """The mentor's consent, note by note, while the request is open."""
        result = self.session.execute(
            update(PublicationRow)
            .where(
                PublicationRow.id == publication_id,
                PublicationRow.state == PublicationState.REQUESTED.value,
            )
            .values(allowed_feedback_ids=list(allowed))
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def decide(self, publication_id: int, state: PublicationState, now: datetime) -> bool:
        """Approve (sent) or decline an open request: only the first decision counts."""
        result = self.session.execute(
            update(PublicationRow)
            .where(
                PublicationRow.id == publication_id,
                PublicationRow.state == PublicationState.REQUESTED.value,
            )
            .values(state=state.value, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0


def _write(row: PairRow, pair: Pair) -> None:
    row.state = pair.state.value
    row.channel_id = pair.channel_id
    row.accepted_at = pair.accepted_at
    row.ended_at = pair.ended_at
    row.ended_by = pair.ended_by
    row.hopes = pair.hopes
    row.goals = list(pair.goals)
    row.goals_by = pair.goals_by
    row.goals_agreed_at = pair.goals_agreed_at
    row.look_back = dict(pair.look_back)


def _pair(row: PairRow) -> Pair:
    return Pair(
        id=row.id,
        workspace_id=row.workspace_id,
        mentee_id=row.mentee_id,
        mentor_id=row.mentor_id,
        proposed_by=row.proposed_by,
        created_at=row.created_at,
        state=PairState(row.state),
        channel_id=row.channel_id,
        accepted_at=row.accepted_at,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
        hopes=row.hopes,
        goals=[str(g) for g in row.goals or []],
        goals_by=row.goals_by,
        goals_agreed_at=row.goals_agreed_at,
        look_back={str(k): str(v) for k, v in (row.look_back or {}).items()},
        look_back_asked_at=row.look_back_asked_at,
        quiet_flagged_at=row.quiet_flagged_at,
    )


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback(
        id=row.id,
        reflection_id=row.reflection_id,
        pair_id=row.pair_id,
        author_id=row.author_id,
        text=row.text,
        created_at=row.created_at,
    )


def _action(row: ActionItemRow) -> ActionItem:
    return ActionItem(
        id=row.id,
        pair_id=row.pair_id,
        text=row.text,
        created_by=row.created_by,
        created_at=row.created_at,
        feedback_id=row.feedback_id,
        done_at=row.done_at,
        done_by=row.done_by,
    )


def _publication(row: PublicationRow) -> Publication:
    return Publication(
        id=row.id,
        pair_id=row.pair_id,
        plan_id=row.plan_id,
        state=PublicationState(row.state),
        reflection_ids=[int(i) for i in row.reflection_ids or []],
        requested_feedback_ids=[int(i) for i in row.requested_feedback_ids or []],
        allowed_feedback_ids=[int(i) for i in row.allowed_feedback_ids or []],
        created_at=row.created_at,
        decided_at=row.decided_at,
    )
