"""Repositories map every field both ways; datetimes come back aware UTC on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from bot.domain.errors import Duplicate, NotFound
from bot.domain.model import (
    Book,
    Cadence,
    Chapter,
    Group,
    Plan,
    PlanState,
    Reflection,
    Step,
    StepState,
    Visibility,
)
from bot.storage.models import WorkspaceRow
from bot.storage.uow import SqlAlchemyUnitOfWork
from tests.checks import present

NOW = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def seed(uow: SqlAlchemyUnitOfWork) -> tuple[int, Group, Book]:
    with uow() as unit:
        ws = unit.workspaces.ensure("T1", NOW)
        group = unit.groups.ensure(ws, "C1", NOW)
        book = unit.books.add(
            Book(
                ws,
                "Middlemarch",
                "George Eliot",
                [Chapter(1, "Prelude", ["Why?"]), Chapter(2)],
                "U1",
            ),
            "middlemarch\x1fgeorge eliot",
            NOW,
        )
        unit.commit()
    return ws, group, book


def full_plan(group: Group, book: Book) -> Plan:
    local = datetime(2026, 12, 7, 9, 0, 0, 654321, tzinfo=BERLIN)  # aware, not UTC
    return Plan(
        group_id=present(group.id),
        book_id=present(book.id),
        host_user_id="UHOST",
        cadence=Cadence.every(3, time(18, 45)),
        chapters_per_step=1,
        start_date=date(2026, 12, 7),
        timezone="Europe/Berlin",
        created_at=NOW,
        state=PlanState.PAUSED,
        paused_at=local + timedelta(hours=1),
        steps=[
            Step(
                number=1,
                first_chapter=1,
                last_chapter=1,
                due_at=local,
                state=StepState.POSTED,
                posted_at=local + timedelta(seconds=3),
                message_ts="1765094400.000200",
                attempts=2,
                next_attempt_at=local + timedelta(minutes=1),
                late=True,
                reminded_at=local - timedelta(days=1),
            ),
            Step(number=2, first_chapter=2, last_chapter=2, due_at=local + timedelta(days=3)),
        ],
    )


def assert_utc(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is UTC


def test_workspace_ensure_is_idempotent(uow: SqlAlchemyUnitOfWork) -> None:
    with uow() as unit:
        first = unit.workspaces.ensure("T1", NOW)
        assert unit.workspaces.ensure("T1", NOW) == first
        assert unit.workspaces.ensure("T2", NOW) != first
        unit.commit()
    with uow() as unit:
        assert unit.workspaces.ensure("T1", NOW) == first
        row = unit.session.scalar(select(WorkspaceRow).where(WorkspaceRow.id == first))
        assert row is not None and row.created_at == NOW
        assert_utc(row.created_at)


def test_plan_round_trip_maps_every_field(uow: SqlAlchemyUnitOfWork) -> None:
    _ws, group, book = seed(uow)
    plan = full_plan(group, book)
    with uow() as unit:
        added = unit.plans.add(plan)
        unit.commit()
    assert added.id is not None and all(s.id is not None for s in added.steps)
    with uow() as unit:
        back = unit.plans.get(added.id)
    assert back is not None
    plan.id = added.id
    for step, stored in zip(plan.steps, back.steps, strict=True):
        step.id = stored.id
    assert back == plan  # dataclass equality: every field, datetimes compared as instants
    for moment in (back.created_at, back.paused_at, *(s.due_at for s in back.steps)):
        assert_utc(moment)
    step = back.steps[0]
    for moment in (step.posted_at, step.next_attempt_at, step.reminded_at):
        assert_utc(moment)
    assert step.due_at == datetime(2026, 12, 7, 8, 0, 0, 654321, tzinfo=UTC)  # microseconds kept
    assert back.cadence.describe() == "every 3 days at 18:45"
    assert back.finished_at is None


def test_plan_save_writes_state_and_steps(uow: SqlAlchemyUnitOfWork) -> None:
    _ws, group, book = seed(uow)
    with uow() as unit:
        plan = unit.plans.add(full_plan(group, book))
        unit.commit()
    plan.state = PlanState.FINISHED
    plan.paused_at = None
    plan.finished_at = NOW + timedelta(days=9)
    plan.host_user_id = "UNEWHOST"
    plan.steps[1].state = StepState.CANCELLED
    plan.steps[1].attempts = 5
    plan.steps.append(Step(number=3, first_chapter=2, last_chapter=2, due_at=NOW))
    with uow() as unit:
        unit.plans.save(plan)
        unit.commit()
    assert plan.steps[2].id is not None
    with uow() as unit:
        back = unit.plans.get(present(plan.id))
        assert unit.plans.running_for_group(present(group.id)) is None
        assert [p.id for p in unit.plans.for_group(present(group.id))] == [plan.id]
    assert back == plan


def test_running_for_group_sees_active_and_paused(uow: SqlAlchemyUnitOfWork) -> None:
    _ws, group, book = seed(uow)
    with uow() as unit:
        assert unit.plans.running_for_group(present(group.id)) is None
        plan = unit.plans.add(full_plan(group, book))
        assert present(unit.plans.running_for_group(present(group.id))).id == plan.id
        plan.state = PlanState.ACTIVE
        unit.plans.save(plan)
        assert present(unit.plans.running_for_group(present(group.id))).state is PlanState.ACTIVE
    with uow() as unit:  # never committed
        assert unit.plans.get(present(plan.id)) is None


def test_naive_datetimes_are_refused(uow: SqlAlchemyUnitOfWork) -> None:
    with uow() as unit, pytest.raises(StatementError, match="naive datetime"):
        unit.workspaces.ensure("T1", datetime(2026, 11, 30, 8))


def test_book_mapping_and_questions(uow: SqlAlchemyUnitOfWork) -> None:
    ws, _group, book = seed(uow)
    with uow() as unit:
        back = unit.books.get(present(book.id))
        assert back == book
        assert back.chapters == [Chapter(1, "Prelude", ["Why?"]), Chapter(2, None, [])]
        assert unit.books.key_exists(ws, "middlemarch\x1fgeorge eliot")
        assert not unit.books.key_exists(ws, "emma\x1fjane austen")
        unit.books.set_questions(present(book.id), 2, ["A?", "B?"])
        with pytest.raises(NotFound):
            unit.books.set_questions(present(book.id), 3, ["C?"])
        unit.commit()
    with uow() as unit:
        assert present(unit.books.get(present(book.id))).chapter(2).questions == ["A?", "B?"]
        assert unit.books.get(10**6) is None
        assert [b.id for b in unit.books.all(ws)] == [book.id]


def test_duplicate_book_key_is_duplicate(uow: SqlAlchemyUnitOfWork) -> None:
    ws, _group, _book = seed(uow)
    with uow() as unit, pytest.raises(Duplicate, match=r"(?i)unique"):
        unit.books.add(
            Book(ws, "MIDDLEMARCH", "George Eliot", [Chapter(1)]),
            "middlemarch\x1fgeorge eliot",
            NOW,
        )
    with uow() as unit:
        assert len(unit.books.all(ws)) == 1


def test_commit_turns_integrity_errors_into_duplicate(uow: SqlAlchemyUnitOfWork) -> None:
    seed(uow)
    with uow() as unit:
        unit.session.add(WorkspaceRow(team_id="T1", created_at=NOW))
        with pytest.raises(Duplicate):
            unit.commit()


def test_group_mapping(uow: SqlAlchemyUnitOfWork) -> None:
    ws, group, _book = seed(uow)
    with uow() as unit:
        assert unit.groups.ensure(ws, "C1", NOW) == group
        changed = Group(ws, "C1", "book-club", "CSUMMARY", True, id=group.id)
        unit.groups.save(changed)
        unit.commit()
    with uow() as unit:
        assert unit.groups.get(ws, "C1") == changed
        assert unit.groups.by_id(present(group.id)) == changed
        assert unit.groups.get(ws, "CNONE") is None
        with pytest.raises(NotFound):
            unit.groups.by_id(10**6)


def test_member_mapping(uow: SqlAlchemyUnitOfWork) -> None:
    ws, _group, _book = seed(uow)
    with uow() as unit:
        member = unit.members.ensure(ws, "U1", NOW)
        assert (member.reminders_muted, member.quotable, member.display_name) == (
            False,
            False,
            None,
        )
        member.display_name = "Ada"
        member.timezone = "Europe/Berlin"
        member.reminders_muted = True
        member.quotable = True
        unit.members.save(member)
        unit.commit()
    with uow() as unit:
        assert unit.members.get(ws, "U1") == member
        assert unit.members.ensure(ws, "U1", NOW) == member
        assert unit.members.get(ws, "U2") is None


def test_reflection_mapping(uow: SqlAlchemyUnitOfWork) -> None:
    ws, group, book = seed(uow)
    with uow() as unit:
        plan = unit.plans.add(full_plan(group, book))
        unit.commit()
    r = Reflection(
        workspace_id=ws,
        plan_id=present(plan.id),
        step_number=2,
        chapter=2,
        author_id="U1",
        text="Ünïcödé ✓ and\nnew lines",
        visibility=Visibility.PRIVATE,
        created_at=datetime(2026, 12, 1, 10, tzinfo=BERLIN),
        updated_at=datetime(2026, 12, 1, 11, tzinfo=BERLIN),
        edit_count=3,
        message_ts="1.000001",
    )
    with uow() as unit:
        added = unit.reflections.add(r)
        unit.commit()
    assert added.id is not None
    with uow() as unit:
        back = unit.reflections.get(added.id)
    assert back == r
    assert_utc(back.created_at)
    assert_utc(back.updated_at)
    back.text = "changed"
    back.visibility = Visibility.SHARED
    back.chapter = None
    back.message_ts = None
    back.updated_at = None
    with uow() as unit:
        unit.reflections.save(back)
        unit.commit()
    with uow() as unit:
        assert unit.reflections.get(added.id) == back
        assert unit.reflections.for_plan(present(plan.id), author_id="U2") == []
        assert [x.id for x in unit.reflections.by_author(ws, "U1")] == [added.id]
        assert unit.reflections.by_author(ws + 1000, "U1") == []
        unit.reflections.delete(added.id)
        unit.reflections.delete(10**6)  # unknown: nothing happens
        unit.commit()
    with uow() as unit:
        assert unit.reflections.get(added.id) is None


def test_concurrent_first_use_of_a_workspace_member_and_group_just_works(
    uow: SqlAlchemyUnitOfWork,
) -> None:
    """Issue 10 #24: two processes' first commands in a new workspace raced on
    uq_workspaces_team_id and a member read the raw database error."""
    import threading

    barrier = threading.Barrier(8)
    seen: list[tuple[int, int, int]] = []
    failures: list[BaseException] = []

    def first_use() -> None:
        try:
            barrier.wait(timeout=10)
            with uow() as unit:
                ws = unit.workspaces.ensure("TNEW", NOW)
                member = unit.members.ensure(ws, "UNEW", NOW)
                group = unit.groups.ensure(ws, "CNEW", NOW)
                unit.commit()
            seen.append((ws, member.id or 0, group.id or 0))
        except Exception as exc:  # noqa: BLE001 - any failure of any thread fails the test
            failures.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert len(set(seen)) == 1 and len(seen) == 8
