"""The exactly-once prompt queue: ``plan_steps`` rows claimed by conditional updates.

Every transition (claim, renew, mark posted, release, mark missed) is one conditional
``UPDATE`` on the step's row; whoever's update changed the row holds the step. That is
the whole guarantee, and it is a database fact, not a lock held in a process. On
PostgreSQL several processes post at once: each reads its candidates ``FOR UPDATE SKIP
LOCKED`` in the claim's transaction, so they take different rows instead of racing for
the same first ones (the conditional update still decides).

Two more facts live in the same conditions:

* **Chapter order.** A step is claimable only when every earlier step of its plan is
  closed (posted, skipped, missed or cancelled), or is claimed by the same statement
  (the claiming process then posts them one after another, in order). So while step 2
  waits for a retry, or is being posted by another process, step 3 waits too.
* **Abandoned claims.** A claim is taken over when it is older than the lease, or,
  sooner, when the process that made it is gone and no post of it can still be in
  flight. A post in flight is marked by the claimant just before it posts
  (:meth:`SqlPromptQueue.renew` with ``in_flight_until``, kept in ``next_attempt_at``,
  which for a claimed step means "not taken over before"). Gone means, on PostgreSQL,
  that the worker no longer holds its advisory lock (:mod:`bot.storage.leadership`);
  on SQLite, where one process posts, that another worker made the claim before the
  asking process started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    and_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased, selectinload

from bot.domain.model import OPEN_STEP_STATES, Plan, PlanState, StepState
from bot.services.ports import DueStep
from bot.storage.leadership import live_workers, worker_of, worker_presence
from bot.storage.models import GroupRow, PlanRow, StepRow
from bot.storage.repositories._common import affected
from bot.storage.repositories.plans import _plan

_OPEN = sorted(state.value for state in OPEN_STEP_STATES)

# Which claims (of a plan_steps alias) were made by a process that is gone.
_Gone = Callable[[type[StepRow]], ColumnElement[bool]]


def _nobody(_steps: type[StepRow]) -> ColumnElement[bool]:
    return false()


class SqlPromptQueue:
    """plan_steps as a work queue. Every transition is a conditional UPDATE on the row."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- who is alive ---------------------------------------------------------------

    def _engine(self) -> Engine:
        bind = self.session.get_bind()
        return bind if isinstance(bind, Engine) else bind.engine

    def _postgres(self) -> bool:
        return self._engine().dialect.name == "postgresql"

    def announce(self, worker_id: str) -> None:
        if self._postgres():
            worker_presence(self._engine()).announce(worker_id)

    def _gone(
        self,
        now: datetime,
        stale_before: datetime,
        worker_id: str | None,
        started: datetime | None,
    ) -> _Gone:
        """The claims made by processes that are gone, as seen by ``worker_id``."""
        if worker_id is None:
            return _nobody
        if not self._postgres():
            if started is None:
                return _nobody
            mine = f"{worker_id}:"
            return lambda s: and_(
                ~s.claimed_by.startswith(mine, autoescape=True), s.claimed_at < started
            )
        # Only claims the lease has not freed already, and with no post in flight.
        tokens = {
            token
            for token in self.session.scalars(
                select(StepRow.claimed_by)
                .where(
                    StepRow.state == StepState.CLAIMED.value,
                    StepRow.claimed_by.is_not(None),
                    StepRow.claimed_at >= stale_before,
                    _not_waiting(StepRow, now),
                )
                .distinct()
            )
            if token
        }
        if not tokens:
            return _nobody
        alive = live_workers(self.session, {worker_of(t) for t in tokens})
        gone = sorted(t for t in tokens if worker_of(t) not in alive)
        if not gone:
            return _nobody
        return lambda s: s.claimed_by.in_(gone)

    # --- what may be claimed --------------------------------------------------------

    @staticmethod
    def _claimable(
        s: type[StepRow], now: datetime, stale_before: datetime, gone: _Gone
    ) -> ColumnElement[bool]:
        """Due and not waiting for a retry, or claimed and abandoned (never NULL)."""
        pending = and_(s.state == StepState.PENDING.value, s.due_at <= now, _not_waiting(s, now))
        abandoned = and_(
            s.state == StepState.CLAIMED.value,
            s.due_at <= now,
            or_(s.claimed_at < stale_before, and_(gone(s), _not_waiting(s, now))),
        )
        return func.coalesce(or_(pending, abandoned), false())

    def _in_order(
        self,
        now: datetime,
        stale_before: datetime,
        gone: _Gone,
        together: Sequence[int] | None = None,
        token: str | None = None,
    ) -> ColumnElement[bool]:
        """No earlier step of the plan is open, unless it may be claimed now too (and, in
        a claim, is among ``together``, claimed by the same statement under ``token``)."""
        earlier = aliased(StepRow)
        goes_too: ColumnElement[bool] = self._claimable(earlier, now, stale_before, gone)
        if together is not None:
            goes_too = and_(
                earlier.id.in_(together),
                or_(goes_too, func.coalesce(earlier.claimed_by == token, false())),
            )
        return ~exists().where(
            earlier.plan_id == StepRow.plan_id,
            earlier.number < StepRow.number,
            earlier.state.in_(_OPEN),
            ~goes_too,
        )

    def candidates(
        self,
        now: datetime,
        stale_before: datetime,
        limit: int,
        *,
        worker_id: str | None = None,
        started: datetime | None = None,
    ) -> list[DueStep]:
        gone = self._gone(now, stale_before, worker_id, started)
        query = (
            select(
                StepRow.id,
                StepRow.plan_id,
                StepRow.number,
                StepRow.due_at,
                StepRow.state,
                StepRow.attempts,
                StepRow.failures,
                StepRow.claimed_at,
                GroupRow.channel_id,
            )
            .join(PlanRow, PlanRow.id == StepRow.plan_id)
            .join(GroupRow, GroupRow.id == PlanRow.group_id)
            .where(
                PlanRow.state == PlanState.ACTIVE.value,
                self._claimable(StepRow, now, stale_before, gone),
                self._in_order(now, stale_before, gone),
            )
            .order_by(StepRow.due_at, StepRow.plan_id, StepRow.number)
            .limit(limit)
        )
        if self._postgres():
            # Several posting processes: each takes rows no other claim transaction holds,
            # so they share the due steps instead of racing for the same ones. The claim's
            # conditional UPDATE (same transaction) stays what decides; this only spreads.
            query = query.with_for_update(of=StepRow, skip_locked=True)
        rows = self.session.execute(query).all()
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
                failures=r.failures,
            )
            for r in rows
        ]

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
        if not step_ids:
            return []
        ids = sorted(set(step_ids))
        gone = self._gone(now, stale_before, worker_id, started)
        active_plans = select(PlanRow.id).where(PlanRow.state == PlanState.ACTIVE.value)
        self.session.execute(
            update(StepRow)
            .where(
                StepRow.id.in_(ids),
                StepRow.plan_id.in_(active_plans),
                self._claimable(StepRow, now, stale_before, gone),
                self._in_order(now, stale_before, gone, together=ids, token=token),
            )
            .values(
                state=StepState.CLAIMED.value,
                claimed_by=token,
                claimed_at=now,
                attempts=StepRow.attempts + 1,
                next_attempt_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        won = self.session.scalars(
            select(StepRow.id).where(
                StepRow.claimed_by == token, StepRow.state == StepState.CLAIMED.value
            )
        )
        return sorted(won)

    # --- the claimant's transitions ---------------------------------------------------

    def _while_claimed(self, step_id: int, token: str, **values: object) -> bool:
        """Update the step only if ``token`` still holds its claim; True if it did.

        A plain table UPDATE (no ORM bookkeeping): it runs once or twice per post, and
        posting is CPU-bound at scale."""
        steps = cast(Table, StepRow.__table__)
        result = self.session.connection().execute(
            update(steps)
            .where(
                steps.c.id == step_id,
                steps.c.claimed_by == token,
                steps.c.state == StepState.CLAIMED.value,
            )
            .values(**values)
        )
        return affected(result) > 0

    def renew(
        self, step_id: int, token: str, now: datetime, in_flight_until: datetime | None = None
    ) -> bool:
        return self._while_claimed(step_id, token, claimed_at=now, next_attempt_at=in_flight_until)

    def mark_posted_many(self, posted: Sequence[tuple[int, str, str, bool]], now: datetime) -> None:
        """Mark each (step id, token, ts, late) posted, if that token still holds its
        claim: one statement run for them all."""
        if not posted:
            return
        steps = cast(Table, StepRow.__table__)
        self.session.connection().execute(
            update(steps)
            .where(
                steps.c.id == bindparam("b_id"),
                steps.c.claimed_by == bindparam("b_token"),
                steps.c.state == StepState.CLAIMED.value,
            )
            .values(
                state=StepState.POSTED.value,
                message_ts=bindparam("b_ts"),
                posted_at=now,
                late=bindparam("b_late"),
                next_attempt_at=None,
            ),
            [
                {"b_id": step_id, "b_token": token, "b_ts": ts, "b_late": late}
                for step_id, token, ts, late in posted
            ],
        )

    def release(
        self, step_id: int, token: str, retry_at: datetime | None, *, failed: bool = False
    ) -> None:
        self._while_claimed(
            step_id,
            token,
            state=StepState.PENDING.value,
            claimed_by=None,
            claimed_at=None,
            next_attempt_at=retry_at,
            failures=StepRow.failures + (1 if failed else 0),
        )

    def mark_missed(self, step_ids: Sequence[int]) -> None:
        if step_ids:
            self.session.execute(
                update(StepRow)
                .where(StepRow.id.in_(step_ids))
                .values(state=StepState.MISSED.value, claimed_by=None, next_attempt_at=None)
                .execution_options(synchronize_session=False)
            )

    # --- reminders --------------------------------------------------------------------

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


def _not_waiting(s: type[StepRow], now: datetime) -> ColumnElement[bool]:
    """No retry time (pending), or no post in flight (claimed), after ``now``."""
    return or_(s.next_attempt_at.is_(None), s.next_attempt_at <= now)
