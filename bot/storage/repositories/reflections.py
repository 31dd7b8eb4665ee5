"""Reflections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Duplicate
from bot.domain.model import Reflection, Visibility
from bot.storage.models import MemberRow, ReflectionRow
from bot.storage.repositories._common import affected, insert_or_ignore

#: How often a member's concurrent writes may race for the same number before giving up.
MAX_NUMBER_RACES = 5


class SqlReflections:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, reflection: Reflection) -> Reflection:
        """Store a new reflection as its author's next number (1, 2, 3… per member, never
        one given before), or as ``reflection.number`` when that is given and free (a
        deletion undone).

        The number is a database fact: taken from the member's counter by one atomic
        ``UPDATE … RETURNING`` (concurrent writes of one member wait for each other), and
        unique per workspace and author.
        """
        if reflection.workspace_id is None:
            raise ValueError("a reflection needs its workspace")
        wanted = reflection.number
        for _attempt in range(MAX_NUMBER_RACES):
            number = wanted or self._next_number(reflection)
            wanted = None  # taken meanwhile: a new number then
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
                continue  # the number was taken (an undo of a number in use)
            reflection.id, reflection.number = row.id, row.number
            return reflection
        raise Duplicate("could not number the reflection")

    def _next_number(self, reflection: Reflection) -> int:
        mine = (MemberRow.workspace_id == reflection.workspace_id) & (
            MemberRow.user_id == reflection.author_id
        )
        insert_or_ignore(
            self.session,
            MemberRow,
            workspace_id=reflection.workspace_id,
            user_id=reflection.author_id,
            reminders_muted=False,
            quotable=False,
            created_at=reflection.created_at,
            last_reflection_number=0,
        )
        return int(
            self.session.execute(
                update(MemberRow)
                .where(mine)
                .values(last_reflection_number=MemberRow.last_reflection_number + 1)
                .returning(MemberRow.last_reflection_number)
                .execution_options(synchronize_session=False)
            ).scalar_one()
        )

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

    def swap_echo(self, reflection_id: int, expected: str | None, new: str | None) -> bool:
        """Set the reflection's echo (``message_ts``) to ``new`` only if it is ``expected``
        now: the one way an echo is claimed, recorded or cleared, so two processes never
        both post it."""
        current = (
            ReflectionRow.message_ts.is_(None)
            if expected is None
            else ReflectionRow.message_ts == expected
        )
        result = self.session.execute(
            update(ReflectionRow)
            .where(ReflectionRow.id == reflection_id, current)
            .values(message_ts=new)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def swap_mentor_copy(self, reflection_id: int, expected: str | None, new: str | None) -> bool:
        """Compare-and-set of where the mentor's DM copy is, like :meth:`swap_echo`."""
        current = (
            ReflectionRow.mentor_copy.is_(None)
            if expected is None
            else ReflectionRow.mentor_copy == expected
        )
        result = self.session.execute(
            update(ReflectionRow)
            .where(ReflectionRow.id == reflection_id, current)
            .values(mentor_copy=new)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def mark_read(self, reflection_id: int, now: datetime) -> bool:
        """The mentor read it: the first time counts; False if it was read already."""
        result = self.session.execute(
            update(ReflectionRow)
            .where(ReflectionRow.id == reflection_id, ReflectionRow.mentor_read_at.is_(None))
            .values(mentor_read_at=now)
            .execution_options(synchronize_session=False)
        )
        return affected(result) > 0

    def save(self, reflection: Reflection) -> None:
        row = self.session.get_one(ReflectionRow, reflection.id)
        _write_reflection(row, reflection)

    def save_content(self, reflection: Reflection) -> None:
        """Write text, visibility, chapter and step, never the echo: that changes only by
        :meth:`swap_echo`, so an edit cannot undo an echo recorded meanwhile."""
        row = self.session.get_one(ReflectionRow, reflection.id)
        _write_reflection(row, reflection, echo=False)

    def delete(self, reflection_id: int) -> None:
        row = self.session.get(ReflectionRow, reflection_id)
        if row is not None:
            self.session.delete(row)

    def for_plan(self, plan_id: int, author_id: str | None = None) -> list[Reflection]:
        query = select(ReflectionRow).where(ReflectionRow.plan_id == plan_id)
        if author_id is not None:
            query = query.where(ReflectionRow.author_id == author_id)
        return [_reflection(r) for r in self.session.scalars(query.order_by(ReflectionRow.id))]

    def unechoed(self, plan_ids: Sequence[int]) -> set[tuple[int, int]]:
        if not plan_ids:
            return set()
        rows = self.session.execute(
            select(ReflectionRow.plan_id, ReflectionRow.step_number)
            .where(
                ReflectionRow.plan_id.in_(sorted(set(plan_ids))),
                ReflectionRow.visibility == Visibility.SHARED.value,
                ReflectionRow.message_ts.is_(None),
            )
            .distinct()
        )
        return {(r.plan_id, r.step_number) for r in rows}

    def by_author(self, workspace_id: int, author_id: str) -> Sequence[Reflection]:
        query = (
            select(ReflectionRow)
            .where(ReflectionRow.workspace_id == workspace_id, ReflectionRow.author_id == author_id)
            .order_by(ReflectionRow.number)
        )
        return [_reflection(r) for r in self.session.scalars(query)]


def _write_reflection(row: ReflectionRow, reflection: Reflection, *, echo: bool = True) -> None:
    row.step_number = reflection.step_number
    row.chapter = reflection.chapter
    row.visibility = reflection.visibility.value
    row.text = reflection.text
    row.updated_at = reflection.updated_at
    row.edit_count = reflection.edit_count
    if echo:
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
        mentor_copy=row.mentor_copy,
        mentor_read_at=row.mentor_read_at,
    )
