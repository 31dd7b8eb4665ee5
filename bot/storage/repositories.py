"""Repositories: translate between ORM rows and domain dataclasses. No business rules here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    ColumnElement,
    Table,
    TextClause,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.domain.discussions import MessageEvent, ReactionEvent, ThreadMessage, stored_text
from bot.domain.errors import Duplicate, NotFound
from bot.domain.model import (
    Book,
    Cadence,
    CadenceKind,
    Chapter,
    Group,
    Member,
    Plan,
    PlanState,
    Reflection,
    Step,
    StepState,
    Visibility,
)
from bot.services.ports import DueStep
from bot.storage.models import (
    Base,
    BookRow,
    ChapterRow,
    GroupRow,
    MemberRow,
    PlanRow,
    ProcessedEventRow,
    ReactionRow,
    ReflectionRow,
    StepRow,
    SummaryRow,
    ThreadMessageRow,
    WorkspaceRow,
)


def flush(session: Session) -> None:
    """Flush, turning a unique-key violation into the domain's :class:`Duplicate`."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Duplicate(str(exc.orig).splitlines()[0]) from exc


class SqlWorkspaces:
    def __init__(self, session: Session, known: dict[str, int] | None = None) -> None:
        self.session = session
        # team id → workspace id, shared by the process: the mapping never changes once a
        # row is committed, and nearly every request asks for it.
        self.known = known if known is not None else {}

    def ensure(self, team_id: str, now: datetime) -> int:
        if team_id in self.known:
            return self.known[team_id]
        found = self.session.scalar(select(WorkspaceRow.id).where(WorkspaceRow.team_id == team_id))
        if found is not None:
            self.known[team_id] = found  # only rows read back, i.e. committed ones
            return found
        row = WorkspaceRow(team_id=team_id, created_at=now)
        self.session.add(row)
        flush(self.session)
        return row.id

    def all_ids(self) -> list[int]:
        return list(self.session.scalars(select(WorkspaceRow.id).order_by(WorkspaceRow.id)))


class SqlMembers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, workspace_id: int, user_id: str) -> MemberRow | None:
        return self.session.scalar(
            select(MemberRow).where(
                MemberRow.workspace_id == workspace_id, MemberRow.user_id == user_id
            )
        )

    def ensure(self, workspace_id: int, user_id: str, now: datetime) -> Member:
        row = self._row(workspace_id, user_id)
        if row is None:
            row = MemberRow(workspace_id=workspace_id, user_id=user_id, created_at=now)
            self.session.add(row)
            flush(self.session)
        return _member(row)

    def get(self, workspace_id: int, user_id: str) -> Member | None:
        row = self._row(workspace_id, user_id)
        return _member(row) if row else None

    def quotable(self, workspace_id: int) -> set[str]:
        return set(
            self.session.scalars(
                select(MemberRow.user_id).where(
                    MemberRow.workspace_id == workspace_id, MemberRow.quotable.is_(True)
                )
            )
        )

    def muted(self, workspace_id: int) -> set[str]:
        return set(
            self.session.scalars(
                select(MemberRow.user_id).where(
                    MemberRow.workspace_id == workspace_id, MemberRow.reminders_muted.is_(True)
                )
            )
        )

    def save(self, member: Member) -> None:
        row = self.session.get_one(MemberRow, member.id)
        row.display_name = member.display_name
        row.timezone = member.timezone
        row.reminders_muted = member.reminders_muted
        row.quotable = member.quotable


def _member(row: MemberRow) -> Member:
    return Member(
        id=row.id,
        workspace_id=row.workspace_id,
        user_id=row.user_id,
        display_name=row.display_name,
        timezone=row.timezone,
        reminders_muted=row.reminders_muted,
        quotable=row.quotable,
    )


class SqlGroups:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, workspace_id: int, channel_id: str) -> GroupRow | None:
        return self.session.scalar(
            select(GroupRow).where(
                GroupRow.workspace_id == workspace_id, GroupRow.channel_id == channel_id
            )
        )

    def ensure(self, workspace_id: int, channel_id: str, now: datetime) -> Group:
        row = self._row(workspace_id, channel_id)
        if row is None:
            row = GroupRow(workspace_id=workspace_id, channel_id=channel_id, created_at=now)
            self.session.add(row)
            flush(self.session)
        return _group(row)

    def get(self, workspace_id: int, channel_id: str) -> Group | None:
        row = self._row(workspace_id, channel_id)
        return _group(row) if row else None

    def by_id(self, group_id: int) -> Group:
        row = self.session.get(GroupRow, group_id)
        if row is None:
            raise NotFound(f"No group {group_id}.")
        return _group(row)

    def save(self, group: Group) -> None:
        row = self.session.get_one(GroupRow, group.id)
        row.name = group.name
        row.summary_channel_id = group.summary_channel_id
        row.store_all_messages = group.store_all_messages


def _group(row: GroupRow) -> Group:
    return Group(
        id=row.id,
        workspace_id=row.workspace_id,
        channel_id=row.channel_id,
        name=row.name,
        summary_channel_id=row.summary_channel_id,
        store_all_messages=row.store_all_messages,
    )


class SqlBooks:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, book: Book, key: str, now: datetime) -> Book:
        row = BookRow(
            workspace_id=book.workspace_id,
            title=book.title,
            author=book.author,
            book_key=key,
            added_by=book.added_by,
            created_at=now,
            chapters=[
                ChapterRow(number=c.number, title=c.title, questions=list(c.questions))
                for c in book.chapters
            ],
        )
        self.session.add(row)
        flush(self.session)
        return _book(row)

    def get(self, book_id: int) -> Book | None:
        row = self.session.get(BookRow, book_id, options=[selectinload(BookRow.chapters)])
        return _book(row) if row else None

    def many(self, book_ids: Sequence[int]) -> list[Book]:
        if not book_ids:
            return []
        rows = self.session.scalars(
            select(BookRow).where(BookRow.id.in_(book_ids)).options(selectinload(BookRow.chapters))
        )
        return [_book(r) for r in rows]

    def key_exists(self, workspace_id: int, key: str) -> bool:
        found = self.session.scalar(
            select(BookRow.id).where(BookRow.workspace_id == workspace_id, BookRow.book_key == key)
        )
        return found is not None

    def all(self, workspace_id: int) -> list[Book]:
        rows = self.session.scalars(
            select(BookRow)
            .where(BookRow.workspace_id == workspace_id)
            .options(selectinload(BookRow.chapters))
            .order_by(BookRow.id)
        )
        return [_book(r) for r in rows]

    def set_questions(self, book_id: int, chapter: int, questions: list[str]) -> None:
        row = self.session.scalar(
            select(ChapterRow).where(ChapterRow.book_id == book_id, ChapterRow.number == chapter)
        )
        if row is None:
            raise NotFound(f"Book {book_id} has no chapter {chapter}.")
        row.questions = list(questions)


def _book(row: BookRow) -> Book:
    return Book(
        id=row.id,
        workspace_id=row.workspace_id,
        title=row.title,
        author=row.author,
        added_by=row.added_by,
        chapters=[
            Chapter(number=c.number, title=c.title, questions=list(c.questions or []))
            for c in row.chapters
        ],
    )


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
            .where(PlanRow.group_id == group_id, PlanRow.state != PlanState.FINISHED.value)
            .options(selectinload(PlanRow.steps))
        )
        return _plan(row) if row else None

    def running_in_workspace(self, workspace_id: int) -> list[Plan]:
        rows = self.session.scalars(
            select(PlanRow)
            .join(GroupRow, GroupRow.id == PlanRow.group_id)
            .where(GroupRow.workspace_id == workspace_id, PlanRow.state != PlanState.FINISHED.value)
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
            select(PlanRow)
            .where(PlanRow.state != PlanState.FINISHED.value)
            .options(selectinload(PlanRow.steps))
        )
        return [_plan(r) for r in rows]

    def needing_digests(self) -> list[Plan]:
        wrapped = select(SummaryRow.plan_id).where(SummaryRow.kind == "book")
        rows = self.session.scalars(
            select(PlanRow)
            .where(or_(PlanRow.state != PlanState.FINISHED.value, PlanRow.id.not_in(wrapped)))
            .options(selectinload(PlanRow.steps))
        )
        return [_plan(r) for r in rows]

    def digest_keys(self, plan_ids: Sequence[int]) -> list[tuple[int, str, str]]:
        if not plan_ids:
            return []
        rows = self.session.execute(
            select(SummaryRow.plan_id, SummaryRow.kind, SummaryRow.period_key).where(
                SummaryRow.plan_id.in_(plan_ids)
            )
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def for_group(self, group_id: int) -> list[Plan]:
        rows = self.session.scalars(
            select(PlanRow)
            .where(PlanRow.group_id == group_id)
            .options(selectinload(PlanRow.steps))
            .order_by(PlanRow.id.desc())
        )
        return [_plan(r) for r in rows]

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
        return bool(getattr(result, "rowcount", 0))

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
        return bool(getattr(result, "rowcount", 0))

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


@lru_cache(maxsize=16)
def _insert_unless_present(table: Table, columns: tuple[str, ...]) -> TextClause:
    """The same SQL on both backends, as text: SQLAlchemy's dialect-specific ``insert()``
    with ``on_conflict_do_nothing()`` has no cache key, so it would be compiled per call."""
    names = ", ".join(columns)
    params = ", ".join(f":{c}" for c in columns)
    return text(
        f"INSERT INTO {table.name} ({names}) VALUES ({params}) ON CONFLICT DO NOTHING"
    ).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


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

    def _insert_ignoring_duplicate(self, row: object) -> bool:
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            return False
        return True

    def _insert_unless_present(self, model: type[Base], **values: object) -> bool:
        """``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL): whether a row went in.

        No savepoint and no ORM flush, which matters on the Events API's ack path. A
        concurrent insert of the same key waits for the other transaction, then does nothing.
        """
        result = self.session.execute(
            _insert_unless_present(model.__table__, tuple(values)), values
        )
        return bool(getattr(result, "rowcount", 0))

    def claim_event(self, event_id: str, now: datetime) -> bool:
        return self._insert_unless_present(ProcessedEventRow, event_id=event_id, received_at=now)

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
        return self._insert_unless_present(
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
        return bool(getattr(result, "rowcount", 0))

    def delete_message(self, channel_id: str, ts: str, now: datetime) -> bool:
        result = self.session.execute(
            update(ThreadMessageRow)
            .where(ThreadMessageRow.channel_id == channel_id, ThreadMessageRow.ts == ts)
            .values(text=None, files=[], deleted_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def tracked(self, channel_id: str, ts: str) -> bool:
        in_thread = select(ThreadMessageRow.id).where(
            ThreadMessageRow.channel_id == channel_id, ThreadMessageRow.ts == ts
        )
        prompt = select(StepRow.id).where(StepRow.message_ts == ts)
        echo = select(ReflectionRow.id).where(ReflectionRow.message_ts == ts)
        return any(self.session.scalar(q.limit(1)) is not None for q in (in_thread, prompt, echo))

    def react(self, event: ReactionEvent, now: datetime) -> bool:
        if event.added:
            changed = self._insert_ignoring_duplicate(
                ReactionRow(
                    channel_id=event.channel_id,
                    ts=event.ts,
                    user_id=event.user_id,
                    name=event.name,
                    created_at=now,
                )
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
            changed = bool(getattr(result, "rowcount", 0))
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


class SqlSummaries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(
        self, plan_id: int, kind: str, period_key: str, channel_id: str, now: datetime
    ) -> int | None:
        row = SummaryRow(
            plan_id=plan_id,
            kind=kind,
            period_key=period_key,
            channel_id=channel_id,
            state="pending",
            message_ts=[],
            created_at=now,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            return None
        return row.id

    def mark_posted(self, summary_id: int, ts_values: Sequence[str], now: datetime) -> None:
        self.session.execute(
            update(SummaryRow)
            .where(SummaryRow.id == summary_id)
            .values(state="posted", message_ts=list(ts_values), posted_at=now)
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
