"""Digests: one row per plan, kind and period, claimed before posting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from bot.domain.digests import DigestKey, DigestKind, SummaryRecord, SummaryState
from bot.domain.model import Visibility
from bot.storage.models import PlanRow, ReflectionRow, SummaryRow
from bot.storage.repositories._common import affected, insert_or_ignore_returning_id


class SqlSummaries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(
        self,
        key: DigestKey,
        channel_id: str,
        now: datetime,
        step_numbers: Sequence[int] = (),
    ) -> int | None:
        version = self.session.scalar(
            select(PlanRow.quotes_version).where(PlanRow.id == key.plan_id)
        )
        return insert_or_ignore_returning_id(
            self.session,
            SummaryRow,
            quotes_version=version or 0,
            plan_id=key.plan_id,
            kind=key.kind.value,
            period_key=key.period,
            channel_id=channel_id,
            state=SummaryState.PENDING.value,
            message_ts=[],
            created_at=now,
            step_numbers=list(step_numbers) or None,
        )

    def mark_posted(self, summary_id: int, ts_values: Sequence[str], now: datetime) -> None:
        self.session.execute(
            update(SummaryRow)
            .where(SummaryRow.id == summary_id)
            .values(state=SummaryState.POSTED.value, message_ts=list(ts_values), posted_at=now)
            .execution_options(synchronize_session=False)
        )

    def mark_empty(self, summary_id: int, now: datetime) -> None:
        self.session.execute(
            update(SummaryRow)
            .where(SummaryRow.id == summary_id)
            .values(state=SummaryState.EMPTY.value, message_ts=[], updated_at=now)
            .execution_options(synchronize_session=False)
        )

    def wrap_ups_behind(self) -> list[SummaryRecord]:
        return self._records(self._wrap_up_behind())

    def behind(self) -> list[SummaryRecord]:
        taken_back = exists().where(
            PlanRow.id == SummaryRow.plan_id,
            PlanRow.quotes_version > SummaryRow.quotes_version,
        )
        posted_and_taken_back = and_(SummaryRow.state == SummaryState.POSTED.value, taken_back)
        return self._records(or_(self._wrap_up_behind(), posted_and_taken_back))

    def _wrap_up_behind(self) -> ColumnElement[bool]:
        rendered = func.coalesce(SummaryRow.updated_at, SummaryRow.posted_at, SummaryRow.created_at)
        newer_shared = exists().where(
            ReflectionRow.plan_id == SummaryRow.plan_id,
            ReflectionRow.visibility == Visibility.SHARED.value,
            func.coalesce(ReflectionRow.updated_at, ReflectionRow.created_at) > rendered,
        )
        return and_(
            SummaryRow.kind == DigestKind.BOOK.value,
            SummaryRow.state.in_([SummaryState.POSTED.value, SummaryState.EMPTY.value]),
            newer_shared,
        )

    def _records(self, condition: ColumnElement[bool]) -> list[SummaryRecord]:
        rows = self.session.scalars(select(SummaryRow).where(condition).order_by(SummaryRow.id))
        return [
            SummaryRecord(
                id=r.id,
                key=DigestKey(r.plan_id, DigestKind(r.kind), r.period_key),
                channel_id=r.channel_id,
                state=SummaryState(r.state),
                message_ts=tuple(str(ts) for ts in r.message_ts or []),
                updated_at=r.updated_at,
                step_numbers=tuple(int(n) for n in r.step_numbers)
                if r.step_numbers is not None
                else None,
            )
            for r in rows
        ]

    def take_refresh(self, summary_id: int, seen: datetime | None, now: datetime) -> bool:
        """Take the right to re-render (compare-and-set on ``updated_at``), and note the
        plan's count of taken-back words it is about to be rendered at."""
        if not self._swap_updated_at(summary_id, seen, now):
            return False
        plan_version = (
            select(PlanRow.quotes_version).where(PlanRow.id == SummaryRow.plan_id).scalar_subquery()
        )
        self.session.execute(
            update(SummaryRow)
            .where(SummaryRow.id == summary_id)
            .values(quotes_version=plan_version)
            .execution_options(synchronize_session=False)
        )
        return True

    def give_back_refresh(self, summary_id: int, taken: datetime, seen: datetime | None) -> None:
        """Slack failed: leave it behind again (the next tick retries it)."""
        if self._swap_updated_at(summary_id, taken, seen):
            self.session.execute(
                update(SummaryRow)
                .where(SummaryRow.id == summary_id)
                .values(quotes_version=0)
                .execution_options(synchronize_session=False)
            )

    def _swap_updated_at(self, summary_id: int, old: datetime | None, new: datetime | None) -> bool:
        result = self.session.execute(
            update(SummaryRow)
            .where(SummaryRow.id == summary_id, SummaryRow.updated_at.is_not_distinct_from(old))
            .values(updated_at=new)
            .execution_options(synchronize_session=False)
        )
        return affected(result) == 1

    def mark_updated(self, summary_id: int, ts_values: Sequence[str], now: datetime) -> None:
        self.session.execute(
            update(SummaryRow)
            .where(SummaryRow.id == summary_id)
            .values(state=SummaryState.POSTED.value, message_ts=list(ts_values), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        self.session.execute(  # an empty wrap-up posted at last
            update(SummaryRow)
            .where(SummaryRow.id == summary_id, SummaryRow.posted_at.is_(None))
            .values(posted_at=now)
            .execution_options(synchronize_session=False)
        )

    def release(self, summary_id: int) -> None:
        self.session.execute(delete(SummaryRow).where(SummaryRow.id == summary_id))

    def for_plan(self, plan_id: int) -> list[dict[str, object]]:
        rows = self.session.scalars(
            select(SummaryRow).where(SummaryRow.plan_id == plan_id).order_by(SummaryRow.id)
        )
        return [
            {
                "kind": r.kind,
                "period": r.period_key,
                "channel_id": r.channel_id,
                "state": r.state,
                "message_ts": list(r.message_ts or []),
                "posted_at": r.posted_at.isoformat() if r.posted_at else None,
                "updated_at": r.updated_at.isoformat() if r.updated_at else None,
            }
            for r in rows
        ]
