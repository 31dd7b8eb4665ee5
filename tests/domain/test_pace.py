"""Each member's own pace (issue 12): positions, standings, nudge times in their own time
zone, away periods, pace limits. A fixed moment, never today's date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import pace, timeline
from bot.domain.errors import InvalidInput
from bot.domain.model import Cadence, Plan, PlanState, Reflection, StepState, Visibility
from bot.domain.pace import Away, Reader, Standing
from bot.domain.plans import new_plan
from tests.domain.test_plans import book

BOOK = book(6)

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


def weekly_plan(per_step: int = 1, tz: str = "Europe/London") -> Plan:
    plan = new_plan(
        book=BOOK,
        group_id=1,
        host_user_id="UHOST",
        cadence=Cadence.weekly(0, time(9)),
        chapters_per_step=per_step,
        start_date=NOW.date(),
        timezone=tz,
        now=NOW,
    )
    plan.id = 1
    for n, step in enumerate(plan.steps, start=1):
        step.id = n
    return plan


def post(plan: Plan, *numbers: int) -> None:
    for step in plan.steps:
        if step.number in numbers:
            step.state, step.message_ts = StepState.POSTED, f"{step.number}.0"


def reflection(step: int, chapter: int | None = None) -> Reflection:
    return Reflection(1, step, "UM", "w", Visibility.SHARED, NOW, chapter=chapter)


def test_position_is_what_they_said_or_reflected_on_whichever_is_further() -> None:
    plan = weekly_plan(per_step=2)
    assert pace.position(None, [], plan) == 0
    assert pace.position(Reader(1, "UM", read_through=3), [], plan) == 3
    assert pace.position(Reader(1, "UM", read_through=1), [reflection(2)], plan) == 4
    assert pace.position(None, [reflection(3, chapter=5)], plan) == 5


def test_standing_against_the_step_being_read() -> None:
    plan = weekly_plan(per_step=2)  # steps: ch 1–2, 3–4, 5–6
    post(plan, 1, 2)
    moment = plan.step(2).due_at + timedelta(hours=1)
    assert pace.standing(2, plan, moment) is Standing.ON_SCHEDULE  # done with step 1
    assert pace.standing(4, plan, moment) is Standing.ON_SCHEDULE
    assert pace.standing(5, plan, moment) is Standing.AHEAD
    assert pace.standing(1, plan, moment) is Standing.BEHIND
    counts = pace.spread([Standing.AHEAD, Standing.BEHIND, Standing.BEHIND])
    assert counts == {Standing.AHEAD: 1, Standing.ON_SCHEDULE: 0, Standing.BEHIND: 2}


def test_a_nudge_never_falls_in_quiet_hours_of_the_members_own_zone() -> None:
    plan = weekly_plan(tz="Europe/London")
    step = plan.step(1)
    lead = timedelta(hours=24)
    base = timeline.reminder_at(plan, step, lead)  # Sunday 09:00 London
    assert pace.nudge_at(plan, step, None, lead, "Europe/London") == base
    tokyo = pace.nudge_at(plan, step, None, lead, "Asia/Tokyo")  # 18:00 in Tokyo: fine
    assert 8 <= tokyo.astimezone(ZoneInfo("Asia/Tokyo")).hour < 21
    la = pace.nudge_at(plan, step, None, lead, "America/Los_Angeles")  # 01:00 there
    local = la.astimezone(ZoneInfo("America/Los_Angeles"))
    assert local.time() == time(8, 0) and la > base
    assert pace.nudge_at(plan, step, None, lead, "America/Los_Angeles", quiet_hours=False) == base


def test_a_nudge_follows_the_members_pace() -> None:
    plan = weekly_plan()
    step = plan.step(1)
    lead = timedelta(hours=24)
    behind = Reader(1, "UM", pace_days=7)
    assert pace.nudge_at(plan, step, behind, lead, "Europe/London") == (
        pace.nudge_at(plan, step, None, lead, "Europe/London") + timedelta(days=7)
    )
    assert pace.own_due(step, behind) == step.due_at + timedelta(days=7)


@settings(max_examples=200, deadline=None)
@given(
    tz=st.sampled_from(
        [
            "Asia/Tokyo",
            "America/New_York",
            "Pacific/Auckland",
            "Europe/Berlin",
            "America/Los_Angeles",
            "Asia/Kolkata",
            "Pacific/Honolulu",
        ]
    ),
    days_behind=st.integers(0, 20),
    plan_tz=st.sampled_from(["Europe/London", "America/Chicago", "Australia/Sydney"]),
)
def test_nudges_are_in_waking_hours_and_before_the_members_deadline(
    tz: str, days_behind: int, plan_tz: str
) -> None:
    plan = weekly_plan(tz=plan_tz)
    reader = Reader(1, "UM", pace_days=days_behind)
    for step in plan.steps[:-1]:
        moment = pace.nudge_at(plan, step, reader, timedelta(hours=24), tz)
        local = moment.astimezone(ZoneInfo(tz)).time()
        assert time(8, 0) <= local < time(21, 0) or local == time(20, 0)
        assert pace.own_due(step, reader) <= moment < pace.own_deadline(plan, step, reader)


def test_scheduled_messages_wait_for_everyone_to_be_awake_a_day_at_most() -> None:
    """08:00 UTC on the fixed Monday: 03:00 in New York, 09:00 in Berlin, 17:00 in Tokyo."""
    berlin, new_york = ("Europe/Berlin", True), ("America/New_York", True)
    tokyo = ("Asia/Tokyo", True)
    assert pace.awake(NOW, "Europe/Berlin") and not pace.awake(NOW, "America/New_York")
    assert pace.awake(NOW, "America/New_York", quiet_hours=False)  # they asked for any hour
    assert pace.awake(NOW, None)  # zone unknown: never held back
    assert pace.awake(NOW.replace(hour=20), "Europe/Berlin") is False  # 21:00 there
    assert pace.time_to_tell(NOW, NOW, [berlin, tokyo])
    assert not pace.time_to_tell(NOW, NOW, [berlin, new_york])
    assert pace.time_to_tell(NOW, NOW, [berlin, ("America/New_York", False)])
    assert pace.time_to_tell(NOW.replace(hour=13), NOW, [berlin, new_york])  # 08:00 there
    assert pace.time_to_tell(NOW, NOW - timedelta(days=1), [new_york])  # waited a day
    assert not pace.time_to_tell(NOW, NOW - timedelta(hours=23), [new_york])
    assert pace.time_to_tell(NOW, NOW, [])


@given(
    st.datetimes(
        min_value=NOW.replace(tzinfo=None) - timedelta(days=3650),
        max_value=NOW.replace(tzinfo=None) + timedelta(days=36500),
        timezones=st.just(UTC),
    ),
    st.sampled_from(["Europe/London", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati"]),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "Pacific/Niue"]),
)
@settings(max_examples=200, deadline=None)
def test_any_two_people_share_waking_hours_within_a_day(
    due: datetime, one: str, other: str
) -> None:
    """Thirteen waking hours each: two people anywhere are both awake within a day of
    any moment, so a message to a pair never needs the day's grace."""
    hours = [due + timedelta(hours=h) for h in range(24)]
    assert any(pace.awake(h, one) and pace.awake(h, other) for h in hours)


def test_away_freezes_the_steps_read_meanwhile() -> None:
    plan = weekly_plan()
    away = [Away(plan.step(2).due_at, plan.step(3).due_at + timedelta(days=1))]
    assert pace.frozen_steps(plan, away) == {2, 3}
    assert pace.is_away(away, plan.step(2).due_at + timedelta(days=2))
    assert not pace.is_away(away, plan.step(4).due_at)


def test_bad_away_dates_chapters_and_paces_are_refused() -> None:
    today = date(2026, 11, 30)
    with pytest.raises(InvalidInput, match="not ahead"):
        pace.check_away_until(today, today)
    with pytest.raises(InvalidInput, match="more than a year"):
        pace.check_away_until(today + timedelta(days=400), today)
    pace.check_away_until(today + timedelta(days=10), today)
    with pytest.raises(InvalidInput, match="chapters 1–6"):
        pace.check_chapter(7, 6)
    plan = weekly_plan()
    with pytest.raises(InvalidInput, match="past the end of the book"):
        pace.check_pace(100, plan)
    pace.check_pace(7, plan)


def test_threads_of_unread_steps_are_locked_unless_shown_anyway() -> None:
    plan = weekly_plan(per_step=2)
    post(plan, 1, 2, 3)
    open_steps, locked = pace.readable_steps(plan, read_to=2, revealed_through=0)
    assert [s.number for s in open_steps] == [1] and [s.number for s in locked] == [2, 3]
    open_steps, locked = pace.readable_steps(plan, read_to=2, revealed_through=2)
    assert [s.number for s in open_steps] == [1, 2] and [s.number for s in locked] == [3]
    assert plan.state is PlanState.ACTIVE
