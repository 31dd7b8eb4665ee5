"""Time rules of a plan's life: when a step's period ends, when nudges and digests are due.

Every service, the digests and the console ask these functions; none of them does the
date arithmetic itself. All datetimes are timezone-aware UTC; local wall-clock rules
(a weekly digest at Friday 17:00 in the plan's zone) convert through ``schedule``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from bot.domain.model import Plan, Step, StepState
from bot.domain.schedule import local_to_utc, zone

#: Steps whose prompt will never be posted again: posted, skipped, missed or cancelled.
CLOSED_STEP_STATES = frozenset(
    {StepState.POSTED, StepState.SKIPPED, StepState.MISSED, StepState.CANCELLED}
)


def period(plan: Plan) -> timedelta:
    """One cadence period: a week, or N days."""
    return timedelta(days=plan.cadence.period_days)


def following_step(plan: Plan, step: Step) -> Step | None:
    """The step after ``step`` in reading order, if any."""
    return min(
        (s for s in plan.steps if s.number > step.number), key=lambda s: s.number, default=None
    )


def step_deadline(plan: Plan, step: Step) -> datetime:
    """When ``step``'s reading period ends: when the next step is due; for the last step,
    one cadence period after it was due."""
    following = following_step(plan, step)
    return following.due_at if following is not None else step.due_at + period(plan)


def plan_end(plan: Plan) -> datetime | None:
    """When the last step's period ends (None for a plan without steps)."""
    last = max(plan.steps, key=lambda s: s.number, default=None)
    return step_deadline(plan, last) if last is not None else None


def is_complete(plan: Plan, now: datetime) -> bool:
    """Every step is closed and the last one's period is over: time for the wrap-up."""
    end = plan_end(plan)
    return end is not None and now >= end and all(s.state in CLOSED_STEP_STATES for s in plan.steps)


def is_step_open(plan: Plan, step: Step, now: datetime) -> bool:
    """Is ``step`` the one being read right now: posted, and ``now`` within its period
    (from its due time to its deadline)?"""
    return step.state is StepState.POSTED and step.due_at <= now < step_deadline(plan, step)


def reminder_at(plan: Plan, step: Step, lead: timedelta) -> datetime:
    """When members who have not reflected on ``step`` get a nudge.

    ``lead`` before the step's period ends, but never in the first half of the period:
    on a daily plan (one day per step, a 24-hour lead) the nudge comes half a day after
    the prompt, not with it.
    """
    deadline = step_deadline(plan, step)
    halfway = step.due_at + (deadline - step.due_at) / 2
    return max(deadline - lead, halfway)


def digest_due_steps(plan: Plan, now: datetime) -> list[Step]:
    """Posted steps whose period is over (the next step has come: posted, skipped or
    missed), in order: each gets its own digest after it closes."""
    ordered = sorted(plan.steps, key=lambda s: s.number)
    return [
        step
        for step, following in pairwise(ordered)
        if step.state is StepState.POSTED
        and following.state in CLOSED_STEP_STATES
        and following.due_at <= now
    ]


@dataclass(frozen=True, slots=True)
class Week:
    """A digest week: it ends at ``end`` (the weekly slot, local time) and lasts seven days."""

    slot_day: date
    end: datetime

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=7)

    def contains(self, moment: datetime) -> bool:
        return self.start < moment <= self.end


def latest_week(now: datetime, timezone: str, weekday: int, at: time) -> Week:
    """The digest week that ended at the latest weekly slot at or before ``now``."""
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    slot_day = today - timedelta(days=(today.weekday() - weekday) % 7)
    slot = local_to_utc(slot_day, at, tz)
    if slot > now:
        slot_day -= timedelta(days=7)
        slot = local_to_utc(slot_day, at, tz)
    return Week(slot_day, slot)


def moments_of_interest(plan: Plan, lead: timedelta) -> Iterable[datetime]:
    """Every moment something may fall due for ``plan``: prompts, retries, nudges, period ends."""
    for step in plan.steps:
        yield step.due_at
        yield step_deadline(plan, step)
        yield reminder_at(plan, step, lead)
        if step.next_attempt_at is not None:
            yield step.next_attempt_at
