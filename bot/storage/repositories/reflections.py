"""Reflections."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.model import Reflection, Visibility
from bot.storage.models import GroupRow, PlanRow, ReflectionRow
from bot.storage.repositories._common import flush


class SqlReflections:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, reflection: Reflection) -> Reflection:
        row = ReflectionRow(
            plan_id=reflection.plan_id,
            step_number=reflection.step_number,
            author_id=reflection.author_id,
            created_at=reflection.created_at,
        )
        _write_reflection(row, reflection)
        self.session.add(row)
        flush(self.session)
        reflection.id = row.id
        return reflection

    def get(self, reflection_id: int) -> Reflection | None:
        row = self.session.get(ReflectionRow, reflection_id)
        return _reflection(row) if row else None

    def save(self, reflection: Reflection) -> None:
        row = self.session.get_one(ReflectionRow, reflection.id)
        _write_reflection(row, reflection)

    def delete(self, reflection_id: int) -> None:
        row = self.session.get(ReflectionRow, reflection_id)
        if row is not None:
            self.session.delete(row)

    def for_plan(self, plan_id: int, author_id: str | None = None) -> list[Reflection]:
        query = select(ReflectionRow).where(ReflectionRow.plan_id == plan_id)
        if author_id is not None:
            query = query.where(ReflectionRow.author_id == author_id)
        return [_reflection(r) for r in self.session.scalars(query.order_by(ReflectionRow.id))]

    def by_author(self, workspace_id: int, author_id: str) -> Sequence[Reflection]:
        query = (
            select(ReflectionRow)
            .join(PlanRow, PlanRow.id == ReflectionRow.plan_id)
            .join(GroupRow, GroupRow.id == PlanRow.group_id)
            .where(GroupRow.workspace_id == workspace_id, ReflectionRow.author_id == author_id)
            .order_by(ReflectionRow.id)
        )
        return [_reflection(r) for r in self.session.scalars(query)]


def _write_reflection(row: ReflectionRow, reflection: Reflection) -> None:
    row.step_number = reflection.step_number
    row.chapter = reflection.chapter
    row.visibility = reflection.visibility.value
    row.text = reflection.text
    row.updated_at = reflection.updated_at
    row.edit_count = reflection.edit_count
    row.message_ts = reflection.message_ts


def _reflection(row: ReflectionRow) -> Reflection:
    return Reflection(
        id=row.id,
        plan_id=row.plan_id,
        step_number=row.step_number,
        chapter=row.chapter,
        author_id=row.author_id,
        text=row.text,
        visibility=Visibility(row.visibility),
        created_at=row.created_at,
        updated_at=row.updated_at,
        edit_count=row.edit_count,
        message_ts=row.message_ts,
    )
