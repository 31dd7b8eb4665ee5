"""Reading plans and their steps, as whole aggregates (the prompt queue is in ``queue``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.domain.digests import DigestKey, DigestKind
from bot.domain.model import (
    RUNNING_PLAN_STATES,
    Cadence,
    CadenceKind,
    Plan,
    PlanState,
    Step,
    StepState,
)
from bot.storage.models import GroupRow, PlanRow, StepRow, SummaryRow
from bot.storage.repositories._common import flush

RUNNING = [state.value for state in RUNNING_PLAN_STATES]


class SqlPlans:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, plan: Plan) -> Plan:
        row = PlanRow(group_id=plan.group_id, book_id=plan.book_id, created_at=plan.created_at)
        _write_plan(row, plan)
        self.session.add(row)
        flush(self.session)
        return _plan(row)

    def get(self, plan_id: int) -> Plan | None:
        row = self.session.get(PlanRow, plan_id, options=[selectinload(PlanRow.steps)])
        return _plan(row) if row else None

    def many(self, plan_ids: Sequence[int]) -> list[Plan]:
        if not plan_ids:
            return []
        rows = self.session.scalars(
            select(PlanRow).where(PlanRow.id.in_(plan_ids)).options(selectinload(PlanRow.steps))
        )
        return [_plan(r) for r in rows]

    def by_step(self, step_id: int) -> Plan | None:
        plan_id = self.session.scalar(select(StepRow.plan_id).where(StepRow.id == step_id))
        return self.get(plan_id) if plan_id is not None else None

    def running_for_group(self, group_id: int) -> Plan | None:
        row = self.session.scalar(
            select(PlanRow)
            .where(PlanRow.group_id == group_id, PlanRow.state.in_(RUNNING))
            .options(selectinload(PlanRow.steps))
        )
        return _plan(row) if row else None

    def running_in_workspace(self, workspace_id: int) -> list[Plan]:
        rows = self.session.scalars(
            select(PlanRow)
            .join(GroupRow, GroupRow.id == PlanRow.group_id)
            .where(GroupRow.workspace_id == workspace_id, PlanRow.state.in_(RUNNING))
            .options(selectinload(PlanRow.steps))
            .order_by(PlanRow.id)
        )
        return [_plan(r) for r in rows]

    def all_for_book(self, book_id: int) -> list[Plan]:
        rows = self.session.scalars(
            select(PlanRow)
            .where(PlanRow.book_id == book_id)
            .options(selectinload(PlanRow.steps))
            .order_by(PlanRow.id)
        )
        return [_plan(r) for r in rows]

    def all_in_workspace(self, workspace_id: int) -> list[tuple[int, Plan]]:
        rows = self.session.scalars(
            select(PlanRow)
            .join(GroupRow, GroupRow.id == PlanRow.group_id)
            .where(GroupRow.workspace_id == workspace_id)
            .options(selectinload(PlanRow.steps))
            .order_by(PlanRow.id)
        )
        return [(r.group_id, _plan(r)) for r in rows]

    def running_all(self) -> list[Plan]:
        rows = self.session.scalars(
            select(PlanRow).where(PlanRow.state.in_(RUNNING)).options(selectinload(PlanRow.steps))
        )
        return [_plan(r) for r in rows]

    def needing_digests(self) -> list[Plan]:
        wrapped = select(SummaryRow.plan_id).where(SummaryRow.kind == DigestKind.BOOK.value)
        rows = self.session.scalars(
            select(PlanRow)
            .where(
                or_(
                    PlanRow.state.in_(RUNNING),
                    and_(PlanRow.state == PlanState.FINISHED.value, PlanRow.id.not_in(wrapped)),
                )
            )
            .options(selectinload(PlanRow.steps))
        )
        return [_plan(r) for r in rows]

    def digest_keys(self, plan_ids: Sequence[int]) -> set[DigestKey]:
        if not plan_ids:
            return set()
        rows = self.session.execute(
            select(SummaryRow.plan_id, SummaryRow.kind, SummaryRow.period_key).where(
                SummaryRow.plan_id.in_(plan_ids)
            )
        )
        return {DigestKey(r[0], DigestKind(r[1]), r[2]) for r in rows}

    def latest_for_group(self, group_id: int) -> Plan | None:
        """The group's most recent plan, running or finished; None when that one was
        cancelled (the group put the book before it away and has not started another)."""
        row = self.session.scalar(
            select(PlanRow)
            .where(PlanRow.group_id == group_id)
            .options(selectinload(PlanRow.steps))
            .order_by(PlanRow.id.desc())
            .limit(1)
        )
        return _plan(row) if row and row.state != PlanState.CANCELLED.value else None

    def for_group(self, group_id: int) -> list[Plan]:
        rows = self.session.scalars(
            select(PlanRow)
            .where(PlanRow.group_id == group_id)
            .options(selectinload(PlanRow.steps))
            .order_by(PlanRow.id.desc())
        )
        return [_plan(r) for r in rows]

    def quotes_changed(self, plan_ids: Sequence[int], now: datetime) -> None:
        if plan_ids:
            self.session.execute(
                update(PlanRow)
                .where(PlanRow.id.in_(list(plan_ids)))
                .values(quotes_version=PlanRow.quotes_version + 1)
                .execution_options(synchronize_session=False)
            )

    def quotes_changed_in_workspace(self, workspace_id: int, now: datetime) -> None:
        groups = select(GroupRow.id).where(GroupRow.workspace_id == workspace_id)
        self.session.execute(
            update(PlanRow)
            .where(PlanRow.group_id.in_(groups))
            .values(quotes_version=PlanRow.quotes_version + 1)
            .execution_options(synchronize_session=False)
        )

    def delete(self, plan_id: int) -> None:
        """Remove a plan and its steps (only ever a cancelled one, nobody's words on it)."""
        row = self.session.get(PlanRow, plan_id)
        if row is not None:
            self.session.delete(row)
            flush(self.session)

    def save(self, plan: Plan) -> None:
        row = self.session.get_one(PlanRow, plan.id, options=[selectinload(PlanRow.steps)])
        _write_plan(row, plan)
        flush(self.session)
        ids = {step_row.number: step_row.id for step_row in row.steps}
        for step in plan.steps:
            step.id = ids[step.number]


def _write_plan(row: PlanRow, plan: Plan) -> None:
    row.host_user_id = plan.host_user_id
    row.state = plan.state.value
    row.cadence_kind = plan.cadence.kind.value
    row.weekday = plan.cadence.weekday
    row.every_days = plan.cadence.every_days
    row.at_time = plan.cadence.at
    row.chapters_per_step = plan.chapters_per_step
    row.start_date = plan.start_date
    row.timezone = plan.timezone
    row.paused_at = plan.paused_at
    row.finished_at = plan.finished_at
    existing = {s.number: s for s in row.steps}
    for step in plan.steps:
        step_row = existing.get(step.number)
        if step_row is None:
            step_row = StepRow(number=step.number)
            row.steps.append(step_row)
        step_row.first_chapter = step.first_chapter
        step_row.last_chapter = step.last_chapter
        step_row.due_at = step.due_at
        step_row.state = step.state.value
        step_row.attempts = step.attempts
        step_row.next_attempt_at = step.next_attempt_at
        step_row.posted_at = step.posted_at
        step_row.message_ts = step.message_ts
        step_row.late = step.late
        step_row.reminded_at = step.reminded_at
        step_row.failures = step.failures


def _step(row: StepRow) -> Step:
    return Step(
        id=row.id,
        number=row.number,
        first_chapter=row.first_chapter,
        last_chapter=row.last_chapter,
        due_at=row.due_at,
        state=StepState(row.state),
        posted_at=row.posted_at,
        message_ts=row.message_ts,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        late=row.late,
        reminded_at=row.reminded_at,
        failures=row.failures,
    )


def _plan(row: PlanRow) -> Plan:
    return Plan(
        id=row.id,
        group_id=row.group_id,
        book_id=row.book_id,
        host_user_id=row.host_user_id,
        cadence=Cadence(
            kind=CadenceKind(row.cadence_kind),
            at=row.at_time,
            weekday=row.weekday,
            every_days=row.every_days,
        ),
        chapters_per_step=row.chapters_per_step,
        start_date=row.start_date,
        timezone=row.timezone,
        created_at=row.created_at,
        state=PlanState(row.state),
        steps=[_step(s) for s in row.steps],
        paused_at=row.paused_at,
        finished_at=row.finished_at,
    )
