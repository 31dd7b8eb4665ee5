"""The exactly-once prompt queue: ``plan_steps`` rows claimed by conditional updates.

Every transition (claim, renew, mark posted, release, mark missed) is one conditional
``UPDATE`` on the step's row; whoever's update changed the row holds the step. That is
the whole guarantee, and it is a database fact, not a lock held in a process.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.domain.model import Plan, PlanState, StepState
from bot.services.ports import DueStep
from bot.storage.models import GroupRow, PlanRow, StepRow
from bot.storage.repositories._common import affected
from bot.storage.repositories.plans import _plan


class SqlPromptQueue:
    """plan_steps as a work queue. Every transition is a conditional UPDATE on the row."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _claimable(self, now: datetime, stale_before: datetime) -> ColumnElement[bool]:
        pending = and_(
            StepRow.state == StepState.PENDING.value,
            StepRow.due_at <= now,
            or_(StepRow.next_attempt_at.is_(None), StepRow.next_attempt_at <= now),
        )
        abandoned = and_(
            StepRow.state == StepState.CLAIMED.value, StepRow.claimed_at < stale_before
        )
        return or_(pending, abandoned)

    def candidates(self, now: datetime, stale_before: datetime, limit: int) -> list[DueStep]:
        rows = self.session.execute(
            select(
                StepRow.id,
                StepRow.plan_id,
                StepRow.number,
                StepRow.due_at,
                StepRow.state,
                StepRow.attempts,
                StepRow.claimed_at,
                GroupRow.channel_id,
            )
            .join(PlanRow, PlanRow.id == StepRow.plan_id)
            .join(GroupRow, GroupRow.id == PlanRow.group_id)
            .where(PlanRow.state == PlanState.ACTIVE.value, self._claimable(now, stale_before))
            .order_by(StepRow.due_at, StepRow.id)
            .limit(limit)
        ).all()
        return [
            DueStep(
                step_id=r.id,
                plan_id=r.plan_id,
                number=r.number,
                due_at=r.due_at,
                state=StepState(r.state),
                attempts=r.attempts,
                claimed_at=r.claimed_at,
                channel_id=r.channel_id,
            )
            for r in rows
        ]

    def claim(
        self, step_ids: Sequence[int], token: str, now: datetime, stale_before: datetime
    ) -> list[int]:
        if not step_ids:
            return []
        active_plans = select(PlanRow.id).where(PlanRow.state == PlanState.ACTIVE.value)
        self.session.execute(
            update(StepRow)
            .where(
                StepRow.id.in_(step_ids),
                StepRow.plan_id.in_(active_plans),
                self._claimable(now, stale_before),
            )
            .values(
                state=StepState.CLAIMED.value,
                claimed_by=token,
                claimed_at=now,
                attempts=StepRow.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        won = self.session.scalars(
            select(StepRow.id).where(
                StepRow.claimed_by == token, StepRow.state == StepState.CLAIMED.value
            )
        )
        return sorted(won)

    def _while_claimed(self, step_id: int, token: str, **values: object) -> bool:
        """Update the step only if ``token`` still holds its claim; True if it did."""
        result = self.session.execute(
            update(StepRow)
            .where(
                StepRow.id == step_id,
                StepRow.claimed_by == token,
                StepRow.state == StepState.CLAIMED.value,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def renew(self, step_id: int, token: str, now: datetime) -> bool:
        return self._while_claimed(step_id, token, claimed_at=now)

    def mark_posted(self, step_id: int, token: str, ts: str, now: datetime, late: bool) -> bool:
        return self._while_claimed(
            step_id,
            token,
            state=StepState.POSTED.value,
            message_ts=ts,
            posted_at=now,
            late=late,
            next_attempt_at=None,
        )

    def release(self, step_id: int, token: str, retry_at: datetime) -> None:
        self._while_claimed(
            step_id,
            token,
            state=StepState.PENDING.value,
            claimed_by=None,
            claimed_at=None,
            next_attempt_at=retry_at,
        )

    def mark_missed(self, step_ids: Sequence[int]) -> None:
        if step_ids:
            self.session.execute(
                update(StepRow)
                .where(StepRow.id.in_(step_ids))
                .values(state=StepState.MISSED.value, claimed_by=None)
                .execution_options(synchronize_session=False)
            )

    def claim_reminder(self, step_id: int, now: datetime) -> bool:
        result = self.session.execute(
            update(StepRow)
            .where(StepRow.id == step_id, StepRow.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def posted_unreminded(self) -> list[Plan]:
        plan_ids = (
            select(StepRow.plan_id)
            .where(StepRow.state == StepState.POSTED.value, StepRow.reminded_at.is_(None))
            .distinct()
        )
        rows = self.session.scalars(
            select(PlanRow)
            .where(PlanRow.id.in_(plan_ids), PlanRow.state == PlanState.ACTIVE.value)
            .options(selectinload(PlanRow.steps))
        )
        return [_plan(r) for r in rows]
