"""Reflections."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Duplicate
from bot.domain.model import Reflection, Visibility
from bot.storage.models import ReflectionRow

#: How often a member's concurrent writes may race for the same number before giving up.
MAX_NUMBER_RACES = 5


class SqlReflections:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, reflection: Reflection) -> Reflection:
        """Store a new reflection as its author's next number (1, 2, 3… per member).

        The number is a database fact: unique per workspace and author. Two writes by the
        same member at the same moment both try ``max + 1``; the loser takes the next one.
        """
        if reflection.workspace_id is None:
            raise ValueError("a reflection needs its workspace")
        for _attempt in range(MAX_NUMBER_RACES):
            number = (
                self.session.scalar(
                    select(func.max(ReflectionRow.number)).where(
                        ReflectionRow.workspace_id == reflection.workspace_id,
                        ReflectionRow.author_id == reflection.author_id,
                    )
                )
                or 0
            ) + 1
            row = ReflectionRow(
                workspace_id=reflection.workspace_id,
                number=number,
                plan_id=reflection.plan_id,
                step_number=reflection.step_number,
                author_id=reflection.author_id,
                created_at=reflection.created_at,
            )
            _write_reflection(row, reflection)
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                    self.session.flush()
            except IntegrityError:
                continue  # the same member's other write took this number first
            reflection.id, reflection.number = row.id, row.number
            return reflection
        raise Duplicate("could not number the reflection")

    def by_number(self, workspace_id: int, author_id: str, number: int) -> Reflection | None:
        row = self.session.scalar(
            select(ReflectionRow).where(
                ReflectionRow.workspace_id == workspace_id,
                ReflectionRow.author_id == author_id,
                ReflectionRow.number == number,
            )
        )
        return _reflection(row) if row else None

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
            .where(ReflectionRow.workspace_id == workspace_id, ReflectionRow.author_id == author_id)
            .order_by(ReflectionRow.number)
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
        number=row.number,
        workspace_id=row.workspace_id,
    )
