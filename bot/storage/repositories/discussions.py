"""Captured discussion threads: messages, edits, deletions, reactions, and the event ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from bot.domain.discussions import MessageEvent, ReactionEvent, ThreadMessage, stored_text
from bot.storage.models import (
    GroupRow,
    PlanRow,
    ProcessedEventRow,
    ReactionRow,
    ReflectionRow,
    StepRow,
    ThreadMessageRow,
)
from bot.storage.repositories._common import affected, insert_or_ignore

# Built once: this runs for every message event, and building a select costs more than
# running it. A NULL thread_ts matches no step (SQL's NULL = NULL is not true).
_WHERE_TO_KEEP = (
    select(GroupRow.workspace_id, GroupRow.store_all_messages, StepRow.id)
    .select_from(GroupRow)
    .outerjoin(PlanRow, PlanRow.group_id == GroupRow.id)
    .outerjoin(
        StepRow, and_(StepRow.plan_id == PlanRow.id, StepRow.message_ts == bindparam("thread_ts"))
    )
    .where(GroupRow.channel_id == bindparam("channel_id"))
    .order_by(StepRow.id.is_(None))
    .limit(1)
)


class SqlDiscussions:
    """Captured thread messages and reactions, and the processed-event ledger."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def plan_of(self, channel_id: str, ts: str) -> int | None:
        return self.session.scalar(
            select(StepRow.plan_id)
            .join(ThreadMessageRow, ThreadMessageRow.step_id == StepRow.id)
            .where(ThreadMessageRow.channel_id == channel_id, ThreadMessageRow.ts == ts)
        )

    def claim_event(self, event_id: str, now: datetime) -> bool:
        return insert_or_ignore(self.session, ProcessedEventRow, event_id=event_id, received_at=now)

    def where_to_keep(
        self, channel_id: str, thread_ts: str | None
    ) -> tuple[int, int | None] | None:
        """(workspace id, step id) for a message in a prompt's thread; (workspace id, None)
        for any other message of a group that keeps everything; None to keep nothing."""
        params = {"channel_id": channel_id, "thread_ts": thread_ts}
        row = self.session.execute(_WHERE_TO_KEEP, params).first()
        if row is None:
            return None
        workspace_id, keeps_all, step_id = row
        if step_id is not None:
            return workspace_id, step_id
        return (workspace_id, None) if keeps_all else None

    def add_message(
        self, workspace_id: int, step_id: int | None, event: MessageEvent, now: datetime
    ) -> bool:
        return insert_or_ignore(
            self.session,
            ThreadMessageRow,
            workspace_id=workspace_id,
            step_id=step_id,
            channel_id=event.channel_id,
            ts=event.ts,
            thread_ts=event.thread_ts,
            user_id=event.user_id,
            text=stored_text(event.text),
            files=list(event.files),
            reaction_count=0,
            created_at=now,
        )

    def message(self, channel_id: str, ts: str) -> ThreadMessage | None:
        row = self.session.scalar(
            select(ThreadMessageRow).where(
                ThreadMessageRow.channel_id == channel_id, ThreadMessageRow.ts == ts
            )
        )
        return _thread_message(row) if row is not None else None

    def edit_message(self, channel_id: str, ts: str, text: str | None, now: datetime) -> bool:
        result = self.session.execute(
            update(ThreadMessageRow)
            .where(
                ThreadMessageRow.channel_id == channel_id,
                ThreadMessageRow.ts == ts,
                ThreadMessageRow.deleted_at.is_(None),
            )
            .values(text=stored_text(text), edited_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def delete_message(self, channel_id: str, ts: str, now: datetime) -> bool:
        result = self.session.execute(
            update(ThreadMessageRow)
            .where(ThreadMessageRow.channel_id == channel_id, ThreadMessageRow.ts == ts)
            .values(text=None, files=[], deleted_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def tracked(self, channel_id: str, ts: str) -> bool:
        in_thread = select(ThreadMessageRow.id).where(
            ThreadMessageRow.channel_id == channel_id, ThreadMessageRow.ts == ts
        )
        prompt = select(StepRow.id).where(StepRow.message_ts == ts)
        echo = select(ReflectionRow.id).where(ReflectionRow.message_ts == ts)
        return any(self.session.scalar(q.limit(1)) is not None for q in (in_thread, prompt, echo))

    def react(self, event: ReactionEvent, now: datetime) -> bool:
        if event.added:
            changed = insert_or_ignore(
                self.session,
                ReactionRow,
                channel_id=event.channel_id,
                ts=event.ts,
                user_id=event.user_id,
                name=event.name,
                created_at=now,
            )
        else:
            result = self.session.execute(
                delete(ReactionRow).where(
                    ReactionRow.channel_id == event.channel_id,
                    ReactionRow.ts == event.ts,
                    ReactionRow.user_id == event.user_id,
                    ReactionRow.name == event.name,
                )
            )
            changed = affected(result) > 0
        if changed:
            count = select(func.count(ReactionRow.id)).where(
                ReactionRow.channel_id == event.channel_id, ReactionRow.ts == event.ts
            )
            self.session.execute(
                update(ThreadMessageRow)
                .where(
                    ThreadMessageRow.channel_id == event.channel_id, ThreadMessageRow.ts == event.ts
                )
                .values(reaction_count=count.scalar_subquery())
                .execution_options(synchronize_session=False)
            )
        return changed

    def for_steps(self, step_ids: Sequence[int]) -> list[ThreadMessage]:
        if not step_ids:
            return []
        rows = self.session.scalars(
            select(ThreadMessageRow)
            .where(ThreadMessageRow.step_id.in_(step_ids))
            .order_by(ThreadMessageRow.id)
        )
        return [_thread_message(r) for r in rows]

    def reaction_counts(self, channel_id: str, ts_values: Sequence[str]) -> dict[str, int]:
        if not ts_values:
            return {}
        rows = self.session.execute(
            select(ReactionRow.ts, func.count(ReactionRow.id))
            .where(ReactionRow.channel_id == channel_id, ReactionRow.ts.in_(ts_values))
            .group_by(ReactionRow.ts)
        )
        return {ts: int(count) for ts, count in rows}

    def for_export(self, workspace_id: int, channel_id: str | None) -> list[ThreadMessage]:
        query = select(ThreadMessageRow).where(ThreadMessageRow.workspace_id == workspace_id)
        if channel_id:
            query = query.where(ThreadMessageRow.channel_id == channel_id)
        return [
            _thread_message(r) for r in self.session.scalars(query.order_by(ThreadMessageRow.id))
        ]


def _thread_message(row: ThreadMessageRow) -> ThreadMessage:
    return ThreadMessage(
        id=row.id,
        channel_id=row.channel_id,
        ts=row.ts,
        thread_ts=row.thread_ts,
        user_id=row.user_id,
        text=row.text,
        created_at=row.created_at,
        step_id=row.step_id,
        files=list(row.files or []),
        reaction_count=row.reaction_count,
        edited_at=row.edited_at,
        deleted_at=row.deleted_at,
    )
