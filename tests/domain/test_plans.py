"""Plan rules: pause, resume, skip and finish, and who may do them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import plans as rules
from bot.domain.errors import Conflict, InvalidInput, PermissionDenied
from bot.domain.model import Book, Cadence, Caller, Chapter, Plan, PlanState, Step, StepState
from bot.domain.permissions import can_manage, require_manager

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def book(chapters: int = 8) -> Book:
    return Book(
        workspace_id=1,
        title="Middlemarch",
        author="George Eliot",
        chapters=[Chapter(number=i) for i in range(1, chapters + 1)],
        id=7,
    )


def plan(
    chapters: int = 8,
    per_step: int = 2,
    cadence: Cadence | None = None,
    start: date = date(2026, 12, 7),
    tz: str = "Europe/Berlin",
) -> Plan:
    return rules.new_plan(
        book=book(chapters),
        group_id=3,
        host_user_id="UHOST",
        cadence=cadence or Cadence.weekly(0, time(9, 0)),
        chapters_per_step=per_step,
        start_date=start,
        timezone=tz,
        # Created the day before it starts (plans cannot start in the past).
        now=min(NOW, datetime.combine(start, time(0), tzinfo=UTC) - timedelta(days=1)),
    )


def due_times(p: Plan) -> list[datetime]:
    return [s.due_at for s in p.steps]


def number(step: Step | None) -> int | None:
    return None if step is None else step.number


def test_new_plan_lays_out_every_step() -> None:
    p = plan()
    assert p.state is PlanState.ACTIVE
    assert p.book_id == 7 and p.group_id == 3 and p.host_user_id == "UHOST"
    assert p.created_at == NOW
    assert [(s.number, s.first_chapter, s.last_chapter) for s in p.steps] == [
        (1, 1, 2),
        (2, 3, 4),
        (3, 5, 6),
        (4, 7, 8),
    ]
    assert due_times(p) == [
        utc(2026, 12, 7, 8),
        utc(2026, 12, 14, 8),
        utc(2026, 12, 21, 8),
        utc(2026, 12, 28, 8),
    ]
    assert all(s.state is StepState.PENDING for s in p.steps)


def test_chapters_per_step_more_than_the_book_is_refused() -> None:
    with pytest.raises(
        InvalidInput, match="has 8 chapters; 9 per step is more than the whole book"
    ):
        plan(chapters=8, per_step=9)


def test_chapters_per_step_zero_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        plan(per_step=0)


@pytest.mark.parametrize("days", [0, 366])
def test_every_n_days_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(InvalidInput, match="between 1 and 365"):
        plan(cadence=Cadence.every(days, time(9, 0)))


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        plan(tz="Atlantis/Capital")


def test_unstored_book_is_a_programming_error() -> None:
    unstored = book()
    unstored.id = None
    with pytest.raises(ValueError, match="stored"):
        rules.new_plan(
            book=unstored,
            group_id=1,
            host_user_id="U",
            cadence=Cadence.weekly(0, time(9, 0)),
            chapters_per_step=1,
            start_date=date(2026, 12, 7),
            timezone="UTC",
            now=NOW,
        )


# --- pause and resume ----------------------------------------------------------------------


def test_pause_then_resume_within_the_same_slot_changes_nothing() -> None:
    p = plan()
    before = due_times(p)
    held = rules.pause(p, utc(2026, 12, 1, 10))
    assert p.state is PlanState.PAUSED and p.paused_at == utc(2026, 12, 1, 10)
    assert [s.number for s in held] == [1, 2, 3, 4]
    resumed = rules.resume(p, utc(2026, 12, 3, 10))
    after: Plan = p  # the same plan; mypy would keep ``p.state`` narrowed to PAUSED
    assert after.state is PlanState.ACTIVE and after.paused_at is None
    assert [s.number for s in resumed] == [1, 2, 3, 4]
    assert due_times(p) == before
    assert all(s.state is StepState.PENDING for s in p.steps)


def test_resume_just_before_the_due_time_changes_nothing() -> None:
    p = plan()
    before = due_times(p)
    rules.pause(p, utc(2026, 12, 1))
    rules.resume(p, before[0] - timedelta(seconds=1))
    assert due_times(p) == before


def test_paused_across_a_due_time_resumes_with_that_step_at_the_next_slot() -> None:
    p = plan()
    rules.pause(p, utc(2026, 12, 6, 12))  # before step 1 (Mon 7 Dec)
    rules.resume(p, utc(2026, 12, 16, 12))  # a Wednesday, after step 2's original time
    # Step 1 takes the first Monday 09:00 after the pause; the rest shift by the same 2 slots.
    assert due_times(p) == [
        utc(2026, 12, 21, 8),
        utc(2026, 12, 28, 8),
        utc(2027, 1, 4, 8),
        utc(2027, 1, 11, 8),
    ]
    local = [d.astimezone(BERLIN) for d in due_times(p)]
    assert all(d.weekday() == 0 and d.time() == time(9, 0) for d in local)


def test_resume_keeps_local_time_across_spring_forward() -> None:
    p = plan(start=date(2026, 3, 2))  # Mondays 2, 9, 16, 23 March
    rules.pause(p, utc(2026, 3, 8))
    rules.resume(p, utc(2026, 3, 25))  # Wednesday: next Monday is 30 March (CEST)
    assert due_times(p)[0] == utc(2026, 3, 30, 7)
    assert {d.astimezone(BERLIN).time() for d in due_times(p)} == {time(9, 0)}
    assert due_times(p)[1] - due_times(p)[0] == timedelta(days=7)


def test_resume_moves_only_pending_steps_and_leaves_an_in_flight_claim_alone() -> None:
    p = plan()
    p.steps[0].state = StepState.POSTED
    p.steps[1].state = StepState.CLAIMED  # a scheduler was posting it when the plan was paused
    posted_due, claimed_due = p.steps[0].due_at, p.steps[1].due_at
    rules.pause(p, utc(2026, 12, 10))
    moved = rules.resume(p, utc(2026, 12, 22))  # past step 2 (14th) and step 3 (21st)
    assert [s.number for s in moved] == [3, 4]
    assert p.steps[0].due_at == posted_due and p.steps[0].state is StepState.POSTED
    # Re-opening the claimed step could post it twice; its claim decides its fate.
    assert p.steps[1].due_at == claimed_due and p.steps[1].state is StepState.CLAIMED
    assert [s.due_at for s in moved] == [utc(2026, 12, 28, 8), utc(2027, 1, 4, 8)]
    assert all(s.state is StepState.PENDING for s in moved)


def test_every_n_days_resume_stays_on_the_cadence_grid() -> None:
    p = plan(cadence=Cadence.every(3, time(18, 0)), start=date(2026, 12, 1), tz="UTC")
    assert due_times(p) == [
        utc(2026, 12, 1, 18),
        utc(2026, 12, 4, 18),
        utc(2026, 12, 7, 18),
        utc(2026, 12, 10, 18),
    ]
    rules.pause(p, utc(2026, 11, 30))
    rules.resume(p, utc(2026, 12, 5))
    assert due_times(p) == [
        utc(2026, 12, 7, 18),
        utc(2026, 12, 10, 18),
        utc(2026, 12, 13, 18),
        utc(2026, 12, 16, 18),
    ]


def test_pause_twice_is_a_conflict() -> None:
    p = plan()
    rules.pause(p, NOW)
    with pytest.raises(Conflict, match="already paused"):
        rules.pause(p, NOW + timedelta(hours=1))
    assert p.paused_at == NOW


def test_resume_when_not_paused_is_a_conflict() -> None:
    p = plan()
    before = due_times(p)
    with pytest.raises(Conflict, match="not paused"):
        rules.resume(p, NOW)
    assert due_times(p) == before and p.state is PlanState.ACTIVE


# --- skip and finish -----------------------------------------------------------------------


def test_skip_marks_the_next_open_step_and_keeps_later_times() -> None:
    p = plan()
    before = due_times(p)
    p.steps[0].state = StepState.POSTED
    skipped = rules.skip_next(p)
    assert skipped.number == 2 and p.steps[1].state is StepState.SKIPPED
    assert due_times(p) == before
    assert p.next_step is not None and p.next_step.number == 3
    assert rules.skip_next(p).number == 3
    assert rules.skip_next(p).number == 4
    with pytest.raises(Conflict, match="no step left to skip"):
        rules.skip_next(p)


def test_skip_then_resume_keeps_the_skipped_step_out() -> None:
    p = plan()
    rules.skip_next(p)
    rules.pause(p, utc(2026, 12, 1))
    rules.resume(p, utc(2026, 12, 2))
    assert p.steps[0].state is StepState.SKIPPED
    assert [s.due_at for s in p.steps[1:]] == [
        utc(2026, 12, 14, 8),
        utc(2026, 12, 21, 8),
        utc(2026, 12, 28, 8),
    ]


def test_finish_cancels_open_steps_and_ends_the_plan() -> None:
    p = plan()
    p.steps[0].state = StepState.POSTED
    rules.skip_next(p)
    rules.pause(p, NOW)
    cancelled = rules.finish(p, NOW + timedelta(days=1))
    assert [s.number for s in cancelled] == [3, 4]
    assert [s.state for s in p.steps] == [
        StepState.POSTED,
        StepState.SKIPPED,
        StepState.CANCELLED,
        StepState.CANCELLED,
    ]
    assert p.state is PlanState.FINISHED
    assert p.finished_at == NOW + timedelta(days=1) and p.paused_at is None


@pytest.mark.parametrize(
    "action",
    [
        lambda p: rules.pause(p, NOW),
        lambda p: rules.resume(p, NOW),
        rules.skip_next,
        lambda p: rules.finish(p, NOW),
    ],
    ids=["pause", "resume", "skip", "finish"],
)
def test_a_finished_plan_refuses_further_changes(action: Callable[[Plan], object]) -> None:
    p = plan()
    rules.finish(p, NOW)
    states = [s.state for s in p.steps]
    with pytest.raises(Conflict, match="has finished"):
        action(p)
    assert p.state is PlanState.FINISHED and [s.state for s in p.steps] == states


# --- model helpers and permissions ---------------------------------------------------------


def test_current_step_and_step_for_chapter() -> None:
    p = plan()
    assert number(p.current_step(utc(2026, 12, 1))) == 1  # nothing due yet: the first
    assert number(p.current_step(utc(2026, 12, 15))) == 2  # step 2 is due, not yet posted
    p.steps[2].state = StepState.POSTED
    assert number(p.current_step(utc(2026, 12, 1))) == 3  # posted counts whatever the time
    assert number(p.step_for_chapter(5)) == 3
    assert p.step_for_chapter(9) is None
    assert p.step(4).describe_chapters() == "chapters 7–8"
    with pytest.raises(KeyError):
        p.step(5)


def test_cadence_describe() -> None:
    assert Cadence.weekly(2, time(18, 30)).describe() == "every Wednesday at 18:30"
    assert Cadence.every(1, time(7, 0)).describe() == "every day at 07:00"
    assert Cadence.every(3, time(7, 0)).describe() == "every 3 days at 07:00"


def test_only_host_or_admin_may_manage() -> None:
    p = plan()
    assert can_manage(p, Caller("T1", "UHOST"))
    assert can_manage(p, Caller("T1", "UADMIN", is_admin=True))
    assert not can_manage(p, Caller("T1", "UOTHER"))
    require_manager(p, Caller("T1", "UHOST"), "pause")
    with pytest.raises(PermissionDenied, match=r"Only the plan.s host.* or an admin can pause"):
        require_manager(p, Caller("T1", "UOTHER"), "pause")


# --- start dates as people type them (issue 10 #14, #23) -------------------------------


def started_now(start: date, cadence: Cadence | None = None) -> Plan:
    return rules.new_plan(
        book=book(),
        group_id=3,
        host_user_id="UHOST",
        cadence=cadence or Cadence.weekly(0, time(9, 0)),
        chapters_per_step=2,
        start_date=start,
        timezone="Europe/Berlin",
        now=NOW,
    )


def test_a_start_date_in_the_past_is_refused() -> None:
    with pytest.raises(InvalidInput, match="in the past") as caught:
        started_now(NOW.date() - timedelta(days=6 * 365))
    assert caught.value.field == "date"


def test_a_start_date_years_ahead_is_refused_not_a_crash() -> None:
    for far in (NOW.date() + timedelta(days=400), date(9999, 6, 1)):
        with pytest.raises(InvalidInput, match="a year") as caught:
            started_now(far, Cadence.every(365, time(9)))
        assert caught.value.field == "date"


def test_starting_today_after_the_prompt_time_starts_at_the_next_slot_not_in_the_past() -> None:
    today_berlin = NOW.astimezone(BERLIN).date()  # 09:00 in Berlin has just passed
    later = NOW + timedelta(hours=1)
    p = rules.new_plan(
        book=book(),
        group_id=3,
        host_user_id="UHOST",
        cadence=Cadence.every(1, time(9, 0)),
        chapters_per_step=2,
        start_date=today_berlin,
        timezone="Europe/Berlin",
        now=later,
    )
    assert all(s.due_at >= later for s in p.steps)
    assert p.steps[0].due_at.astimezone(BERLIN).date() == today_berlin + timedelta(days=1)


def test_cancel_ends_the_plan_without_it_counting_as_read() -> None:
    p = plan()
    cancelled = rules.cancel(p, NOW)
    assert p.state is PlanState.CANCELLED and p.finished_at == NOW
    assert {s.state for s in p.steps} == {StepState.CANCELLED}
    assert len(cancelled) == len(p.steps)
    with pytest.raises(Conflict):
        rules.cancel(p, NOW)
