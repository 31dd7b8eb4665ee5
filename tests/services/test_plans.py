"""PlanService on the real database: start, one running plan per group, changes, permissions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import Conflict, Duplicate, InvalidInput, NotFound, PermissionDenied
from bot.domain.model import Book, Cadence, Caller, PlanState, StepState
from bot.services.books import BookService
from bot.services.plans import PlanService, PlanView
from bot.services.ports import FakeClock
from bot.storage.models import PlanRow
from bot.storage.uow import SqlAlchemyUnitOfWork
from tests.checks import present

from .conftest import ADMIN, CHANNEL, HOST, OTHER, TEAM


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


Snapshot = tuple[PlanState, datetime | None, list[tuple[StepState, datetime]]]


def snapshot(plans: PlanService) -> Snapshot:
    plan = plans.current(TEAM, CHANNEL).plan
    return plan.state, plan.paused_at, [(s.state, s.due_at) for s in plan.steps]


def test_start_makes_the_caller_host_and_stores_the_steps(
    plans: PlanService, started: PlanView, uow: SqlAlchemyUnitOfWork, book: Book
) -> None:
    plan = started.plan
    assert plan.id is not None and plan.host_user_id == "UHOST"
    assert started.book.id == book.id and started.group.channel_id == CHANNEL
    with uow() as unit:
        stored = unit.plans.get(plan.id)
    assert stored is not None
    assert stored.state is PlanState.ACTIVE
    assert stored.host_user_id == "UHOST" and stored.book_id == book.id
    assert stored.cadence == Cadence.weekly(0, time(9, 0))
    assert (stored.chapters_per_step, stored.start_date, stored.timezone) == (
        3,
        date(2026, 11, 30),
        "UTC",
    )
    assert [(s.number, s.first_chapter, s.last_chapter, s.state) for s in stored.steps] == [
        (1, 1, 3, StepState.PENDING),
        (2, 4, 6, StepState.PENDING),
        (3, 7, 9, StepState.PENDING),
        (4, 10, 10, StepState.PENDING),
    ]
    assert [s.due_at for s in stored.steps] == [
        utc(2026, 11, 30, 9),
        utc(2026, 12, 7, 9),
        utc(2026, 12, 14, 9),
        utc(2026, 12, 21, 9),
    ]
    assert all(s.id is not None for s in stored.steps)
    assert plans.current(TEAM, CHANNEL).plan == stored


def test_start_in_a_local_zone_stores_utc_due_times(plans: PlanService, book: Book) -> None:
    view = plans.start(
        HOST,
        CHANNEL,
        "Middlemarch",
        Cadence.weekly(0, time(9, 0)),
        5,
        date(2026, 12, 1),
        "Europe/Berlin",
    )
    assert [s.due_at for s in view.plan.steps] == [utc(2026, 12, 7, 8), utc(2026, 12, 14, 8)]
    assert view.local(view.plan.steps[0].due_at).time() == time(9, 0)


def test_one_running_plan_per_group(
    plans: PlanService, started: PlanView, books: BookService
) -> None:
    other = books.add(TEAM, "U1", "Emma", "Jane Austen", "4")
    with pytest.raises(Conflict, match="already reading a book"):
        plans.start(OTHER, CHANNEL, "Emma", Cadence.weekly(0, time(9)), 1, date(2026, 12, 7), "UTC")
    assert plans.current(TEAM, CHANNEL).plan.id == started.plan.id
    # Another channel may read at the same time.
    elsewhere = plans.start(
        OTHER, "C2", str(other.id), Cadence.weekly(0, time(9)), 1, date(2026, 12, 7), "UTC"
    )
    assert elsewhere.plan.host_user_id == "UOTHER"
    # After finishing, the channel can start again.
    plans.finish(HOST, CHANNEL)
    again = plans.start(
        OTHER, CHANNEL, "Emma", Cadence.every(2, time(18)), 2, date(2026, 12, 7), "UTC"
    )
    assert again.plan.id != started.plan.id and again.plan.host_user_id == "UOTHER"


def test_a_paused_plan_still_blocks_a_new_start(plans: PlanService, started: PlanView) -> None:
    plans.pause(HOST, CHANNEL)
    with pytest.raises(Conflict, match="already reading"):
        plans.start(
            HOST, CHANNEL, "Middlemarch", Cadence.weekly(0, time(9)), 1, date(2026, 12, 7), "UTC"
        )


def test_the_partial_unique_index_enforces_one_running_plan(
    started: PlanView, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    def second_plan(state: str) -> PlanRow:
        return PlanRow(
            group_id=started.plan.group_id,
            book_id=started.plan.book_id,
            host_user_id="USNEAKY",
            state=state,
            cadence_kind="weekly",
            weekday=0,
            every_days=None,
            at_time=time(9),
            chapters_per_step=1,
            start_date=date(2026, 12, 7),
            timezone="UTC",
            created_at=clock.now(),
        )

    with session_factory() as session:
        session.add(second_plan("paused"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        # A finished plan is history: the index does not count it.
        session.add(second_plan("finished"))
        session.commit()


def test_the_repository_turns_the_index_violation_into_duplicate(
    started: PlanView, uow: SqlAlchemyUnitOfWork
) -> None:
    with uow() as unit:
        copy = unit.plans.get(present(started.plan.id))
        assert copy is not None
        copy.id = None
        with pytest.raises(Duplicate):
            unit.plans.add(copy)
    with uow() as unit:
        assert len(unit.plans.for_group(started.plan.group_id)) == 1


def test_start_refuses_an_unknown_zone_and_stores_nothing(plans: PlanService, book: Book) -> None:
    with pytest.raises(InvalidInput, match="not a time zone I know"):
        plans.start(
            HOST,
            CHANNEL,
            "Middlemarch",
            Cadence.weekly(0, time(9)),
            1,
            date(2026, 12, 7),
            "Mars/Base",
        )
    assert plans.find_current(TEAM, CHANNEL) is None
    assert plans.history(TEAM, CHANNEL) == []


def test_start_refuses_too_many_chapters_per_step(plans: PlanService, book: Book) -> None:
    with pytest.raises(InvalidInput, match="more than the whole book"):
        plans.start(
            HOST, CHANNEL, "Middlemarch", Cadence.weekly(0, time(9)), 11, date(2026, 12, 7), "UTC"
        )
    assert plans.find_current(TEAM, CHANNEL) is None


def test_start_with_an_unknown_book(plans: PlanService) -> None:
    with pytest.raises(NotFound, match="No book called"):
        plans.start(
            HOST, CHANNEL, "Ulysses", Cadence.weekly(0, time(9)), 1, date(2026, 12, 7), "UTC"
        )


@pytest.mark.parametrize("action", ["pause", "resume", "skip", "finish"])
def test_a_channel_without_a_plan_says_how_to_start_one(plans: PlanService, action: str) -> None:
    with pytest.raises(NotFound, match="`/book start"):
        getattr(plans, action)(HOST, "CEMPTY")
    with pytest.raises(NotFound, match="`/book start"):
        plans.current(TEAM, "CEMPTY")
    assert plans.find_current(TEAM, "CEMPTY") is None


def test_pause_resume_skip_finish_by_the_host(
    plans: PlanService, started: PlanView, clock: FakeClock
) -> None:
    paused = plans.pause(HOST, CHANNEL)
    assert paused.view.plan.state is PlanState.PAUSED
    assert paused.view.plan.paused_at == clock.now()
    assert [s.number for s in paused.steps] == [1, 2, 3, 4]
    assert plans.current(TEAM, CHANNEL).plan.state is PlanState.PAUSED
    with pytest.raises(Conflict, match="already paused"):
        plans.pause(HOST, CHANNEL)

    clock.advance(timedelta(days=2))  # Wednesday 2 Dec: step 1 (Mon 30 Nov 09:00) was missed
    resumed = plans.resume(HOST, CHANNEL)
    stored = plans.current(TEAM, CHANNEL).plan
    assert stored.state is PlanState.ACTIVE and stored.paused_at is None
    assert [s.due_at for s in stored.steps] == [
        utc(2026, 12, 7, 9),
        utc(2026, 12, 14, 9),
        utc(2026, 12, 21, 9),
        utc(2026, 12, 28, 9),
    ]
    assert [s.number for s in resumed.steps] == [1, 2, 3, 4]
    with pytest.raises(Conflict, match="not paused"):
        plans.resume(HOST, CHANNEL)

    skipped = plans.skip(HOST, CHANNEL)
    assert [s.number for s in skipped.steps] == [1]
    stored = plans.current(TEAM, CHANNEL).plan
    assert [s.state for s in stored.steps][:2] == [StepState.SKIPPED, StepState.PENDING]
    assert stored.steps[1].due_at == utc(2026, 12, 14, 9)

    finished = plans.finish(HOST, CHANNEL)
    assert [s.number for s in finished.steps] == [2, 3, 4]
    assert plans.find_current(TEAM, CHANNEL) is None
    (last,) = plans.history(TEAM, CHANNEL)
    assert last.plan.state is PlanState.FINISHED and last.plan.finished_at == clock.now()
    assert [s.state for s in last.plan.steps] == [StepState.SKIPPED] + [StepState.CANCELLED] * 3
    for action in ("pause", "resume", "skip", "finish"):
        with pytest.raises(NotFound, match="`/book start"):
            getattr(plans, action)(HOST, CHANNEL)


@pytest.mark.parametrize("action", ["pause", "resume", "skip", "finish"])
def test_only_the_host_or_an_admin_may_change_the_plan(
    plans: PlanService, started: PlanView, action: str
) -> None:
    if action == "resume":
        plans.pause(HOST, CHANNEL)
    before = snapshot(plans)
    with pytest.raises(PermissionDenied, match=f"or an admin can {action}"):
        getattr(plans, action)(OTHER, CHANNEL)
    assert snapshot(plans) == before
    with pytest.raises(PermissionDenied):  # a look-alike id is not the host
        getattr(plans, action)(Caller(TEAM, "UHOST2"), CHANNEL)
    assert snapshot(plans) == before
    change = getattr(plans, action)(ADMIN, CHANNEL)
    assert change.view.plan.host_user_id == "UHOST"  # an admin acting does not take over
    if action == "finish":
        assert plans.find_current(TEAM, CHANNEL) is None
    else:
        assert snapshot(plans) != before


def test_history_is_newest_first(
    plans: PlanService, started: PlanView, books: BookService, clock: FakeClock
) -> None:
    books.add(TEAM, "U1", "Emma", "Jane Austen", "4")
    books.add(TEAM, "U1", "Persuasion", "Jane Austen", "4")
    plans.finish(HOST, CHANNEL)
    clock.advance(timedelta(days=1))
    plans.start(HOST, CHANNEL, "Emma", Cadence.weekly(1, time(9)), 1, date(2026, 12, 1), "UTC")
    plans.finish(HOST, CHANNEL)
    plans.start(
        HOST, CHANNEL, "Persuasion", Cadence.weekly(1, time(9)), 2, date(2026, 12, 1), "UTC"
    )
    history = plans.history(TEAM, CHANNEL)
    assert [v.book.title for v in history] == ["Persuasion", "Emma", "Middlemarch"]
    assert [v.plan.state for v in history] == [
        PlanState.ACTIVE,
        PlanState.FINISHED,
        PlanState.FINISHED,
    ]
    assert plans.history(TEAM, "CNEVER") == []
    assert plans.history("T2", CHANNEL) == []


def test_plans_are_per_workspace(plans: PlanService, started: PlanView) -> None:
    assert plans.find_current("T2", CHANNEL) is None
    with pytest.raises(NotFound):
        plans.pause(Caller("T2", "UHOST"), CHANNEL)
