"""Each member's own pace: readers, away periods, their nudges, their calendar feeds.

A nudge is a row per (step, member), claimed by a conditional update before it is sent:
at most once, whichever process gets there. A calendar is found only by the SHA-256 of
its secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain.pace import Away, Calendar, DueNudge, Reader
from bot.storage.models import AwayRow, CalendarRow, NudgeRow, ReaderRow
from bot.storage.repositories._common import affected, insert_or_ignore

PENDING, SENDING, SENT, SKIPPED = "pending", "sending", "sent", "skipped"


class SqlReaders:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- readers ------------------------------------------------------------------------

    def get(self, plan_id: int, user_id: str) -> Reader | None:
        row = self._row(plan_id, user_id)
        return _reader(row) if row else None

    def for_plan(self, plan_id: int) -> list[Reader]:
        rows = self.session.scalars(select(ReaderRow).where(ReaderRow.plan_id == plan_id))
        return [_reader(r) for r in rows]

    def save(self, reader: Reader, now: datetime) -> None:
        """Create or update the member's state in the plan."""
        insert_or_ignore(
            self.session,
            ReaderRow,
            plan_id=reader.plan_id,
            user_id=reader.user_id,
            read_through=0,
            pace_days=0,
            revealed_through=0,
            updated_at=now,
        )
        row = self._row(reader.plan_id, reader.user_id)
        assert row is not None
        row.read_through = reader.read_through
        row.pace_days = reader.pace_days
        row.revealed_through = reader.revealed_through
        row.updated_at = now

    def claim_welcome(self, plan_id: int, user_id: str, now: datetime) -> bool:
        """Take the right to welcome a late joiner (once per member and plan)."""
        insert_or_ignore(
            self.session,
            ReaderRow,
            plan_id=plan_id,
            user_id=user_id,
            read_through=0,
            pace_days=0,
            revealed_through=0,
            updated_at=now,
        )
        result = self.session.execute(
            update(ReaderRow)
            .where(
                ReaderRow.plan_id == plan_id,
                ReaderRow.user_id == user_id,
                ReaderRow.welcomed_at.is_(None),
            )
            .values(welcomed_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def _row(self, plan_id: int, user_id: str) -> ReaderRow | None:
        return self.session.scalar(
            select(ReaderRow).where(ReaderRow.plan_id == plan_id, ReaderRow.user_id == user_id)
        )

    # --- away ---------------------------------------------------------------------------

    def away(self, workspace_id: int, user_ids: Sequence[str]) -> dict[str, list[Away]]:
        if not user_ids:
            return {}
        rows = self.session.scalars(
            select(AwayRow).where(
                AwayRow.workspace_id == workspace_id, AwayRow.user_id.in_(list(user_ids))
            )
        )
        found: dict[str, list[Away]] = {}
        for row in rows:
            found.setdefault(row.user_id, []).append(Away(row.starts_at, row.ends_at))
        return found

    def go_away(
        self, workspace_id: int, user_id: str, starts_at: datetime, ends_at: datetime
    ) -> None:
        """Away from ``starts_at`` to ``ends_at``: an open period is replaced, not stacked."""
        self._end_open(workspace_id, user_id, starts_at)
        self.session.add(
            AwayRow(
                workspace_id=workspace_id, user_id=user_id, starts_at=starts_at, ends_at=ends_at
            )
        )

    def come_back(self, workspace_id: int, user_id: str, now: datetime) -> bool:
        """End the member's current away period now; False when they were not away."""
        return self._end_open(workspace_id, user_id, now)

    def _end_open(self, workspace_id: int, user_id: str, now: datetime) -> bool:
        result = self.session.execute(
            update(AwayRow)
            .where(
                AwayRow.workspace_id == workspace_id,
                AwayRow.user_id == user_id,
                AwayRow.starts_at <= now,
                AwayRow.ends_at > now,
            )
            .values(ends_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    # --- nudges -------------------------------------------------------------------------

    def plan_nudge(self, step_id: int, user_id: str, due_at: datetime) -> bool:
        """A member's nudge for a step, due at their own time (once: later calls do nothing)."""
        return insert_or_ignore(
            self.session, NudgeRow, step_id=step_id, user_id=user_id, due_at=due_at, state=PENDING
        )

    def due_nudges(self, now: datetime, limit: int = 500) -> list[DueNudge]:
        rows = self.session.scalars(
            select(NudgeRow)
            .where(NudgeRow.state == PENDING, NudgeRow.due_at <= now)
            .order_by(NudgeRow.due_at)
            .limit(limit)
        )
        return [DueNudge(r.id, r.step_id, r.user_id, r.due_at) for r in rows]

    def claim_nudge(self, nudge_id: int) -> bool:
        """Take a pending nudge to send it: True for the one process that did."""
        result = self.session.execute(
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id, NudgeRow.state == PENDING)
            .values(state=SENDING)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def finish_nudge(self, nudge_id: int, sent: bool, now: datetime) -> None:
        self.session.execute(
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id)
            .values(state=SENT if sent else SKIPPED, sent_at=now if sent else None)
            .execution_options(synchronize_session=False)
        )

    def nudge_times(self, step_id: int) -> dict[str, datetime]:
        """user id → when their nudge for the step is (or was) due."""
        rows = self.session.scalars(select(NudgeRow).where(NudgeRow.step_id == step_id))
        return {r.user_id: r.due_at for r in rows}

    # --- calendars ----------------------------------------------------------------------

    def add_calendar(
        self,
        workspace_id: int,
        group_id: int,
        user_id: str,
        whole_group: bool,
        secret_hash: str,
        now: datetime,
    ) -> None:
        self.session.add(
            CalendarRow(
                workspace_id=workspace_id,
                group_id=group_id,
                user_id=user_id,
                whole_group=whole_group,
                secret_hash=secret_hash,
                created_at=now,
            )
        )

    def active_calendar(self, group_id: int, user_id: str, whole_group: bool) -> Calendar | None:
        row = self.session.scalar(
            select(CalendarRow).where(
                CalendarRow.group_id == group_id,
                CalendarRow.user_id == user_id,
                CalendarRow.whole_group == whole_group,
                CalendarRow.revoked_at.is_(None),
            )
        )
        return _calendar(row) if row else None

    def revoke_calendars(
        self, group_id: int, user_id: str, whole_group: bool, now: datetime
    ) -> int:
        result = self.session.execute(
            update(CalendarRow)
            .where(
                CalendarRow.group_id == group_id,
                CalendarRow.user_id == user_id,
                CalendarRow.whole_group == whole_group,
                CalendarRow.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result)

    def calendar_by_hash(self, secret_hash: str) -> Calendar | None:
        row = self.session.scalar(
            select(CalendarRow).where(
                CalendarRow.secret_hash == secret_hash, CalendarRow.revoked_at.is_(None)
            )
        )
        return _calendar(row) if row else None


def _reader(row: ReaderRow) -> Reader:
    return Reader(
        plan_id=row.plan_id,
        user_id=row.user_id,
        read_through=row.read_through,
        pace_days=row.pace_days,
        revealed_through=row.revealed_through,
        welcomed_at=row.welcomed_at,
    )


def _calendar(row: CalendarRow) -> Calendar:
    return Calendar(row.workspace_id, row.group_id, row.user_id, row.whole_group, row.created_at)
