"""Digests: one row per plan, kind and period, claimed before posting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.domain.digests import DigestKey, SummaryState
from bot.storage.models import SummaryRow
from bot.storage.repositories._common import insert_or_ignore_returning_id


class SqlSummaries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, key: DigestKey, channel_id: str, now: datetime) -> int | None:
        return insert_or_ignore_returning_id(
            self.session,
            SummaryRow,
            plan_id=key.plan_id,
            kind=key.kind.value,
            period_key=key.period,
            channel_id=channel_id,
            state=SummaryState.PENDING.value,
            message_ts=[],
            created_at=now,
        )

    def mark_posted(self, summary_id: int, ts_values: Sequence[str], now: datetime) -> None:
        self.session.execute(
            update(SummaryRow)
            .where(SummaryRow.id == summary_id)
            .values(state=SummaryState.POSTED.value, message_ts=list(ts_values), posted_at=now)
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
            }
            for r in rows
        ]
