"""Rules for a reading plan's life: start, pause, resume, skip, finish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.domain.commands import PlanOptions
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.model import Book, Cadence, Plan, PlanState, Step, StepState
from bot.domain.schedule import build_steps, parse_timezone, slots_after, zone


def new_plan(
    *,
    book: Book,
    group_id: int,
    host_user_id: str,
    cadence: Cadence,
    chapters_per_step: int,
    start_date: date,
    timezone: str,
    now: datetime,
) -> Plan:
    """A new active plan with every step laid out; validates the inputs."""
    if book.id is None:
        raise ValueError("book must be stored before a plan can use it")
    if chapters_per_step > book.chapter_count:
        raise InvalidInput(
            f"“{book.title}” has {book.chapter_count} chapters; "
            f"{chapters_per_step} per step is more than the whole book.",
            field="chapters_per_step",
        )
    if cadence.weekday is not None and not 0 <= cadence.weekday <= 6:
        raise InvalidInput("The weekday must be Monday (0) to Sunday (6).")
    if cadence.every_days is not None and not 1 <= cadence.every_days <= 365:
        raise InvalidInput("“every N days” needs N between 1 and 365.")
    check_start_date(start_date, timezone, now)
    steps = build_steps(book.chapter_count, chapters_per_step, cadence, start_date, timezone, now)
    return Plan(
        group_id=group_id,
        book_id=book.id,
        host_user_id=host_user_id,
        cadence=cadence,
        chapters_per_step=chapters_per_step,
        start_date=start_date,
        timezone=timezone,
        created_at=now,
        steps=steps,
    )


#: How far ahead a plan may start.
MAX_START_AHEAD = timedelta(days=366)


def check_start_date(start_date: date, timezone: str, now: datetime) -> None:
    """A plan starts today or later (in its own zone), and within a year.

    A date in the past would lay steps out in the past: they would be "missed" at once,
    and the group would read that the bot was offline. A date years ahead is a typo.
    """
    today = now.astimezone(zone(timezone)).date()
    if start_date < today:
        raise InvalidInput(
            f"{start_date.isoformat()} is in the past. Start today or later "
            f"(`from {today.isoformat()}`), or leave `from` out to start with the next slot.",
            field="date",
        )
    if start_date - today > MAX_START_AHEAD:
        raise InvalidInput(
            f"{start_date.isoformat()} is more than a year away. Pick a start within a year "
            f"of today ({today.isoformat()}).",
            field="date",
        )


def pause(plan: Plan, now: datetime) -> list[Step]:
    """Hold the plan: nothing is posted until it resumes. Returns the steps now on hold."""
    if plan.state is PlanState.PAUSED:
        raise Conflict("The plan is already paused. Use `/book resume` to carry on.")
    _require_not_finished(plan)
    plan.state = PlanState.PAUSED
    plan.paused_at = now
    return plan.open_steps


def resume(plan: Plan, now: datetime) -> list[Step]:
    """Reactivate the plan; open steps move to the next cadence slots from now on.

    A step that was due during the pause is not lost: it becomes the first step after the
    pause, and every later step shifts by the same number of slots. Returns the open steps.
    """
    if plan.state is not PlanState.PAUSED:
        _require_not_finished(plan)
        raise Conflict("The plan is not paused.")
    plan.state = PlanState.ACTIVE
    plan.paused_at = None
    # A step a scheduler claimed before the pause may be in flight: leave it to finish.
    open_steps = sorted(
        (s for s in plan.open_steps if s.state is StepState.PENDING), key=lambda s: s.number
    )
    if open_steps:
        earliest = max(now, open_steps[0].due_at)
        slots = slots_after(plan.cadence, plan.start_date, zone(plan.timezone), earliest)
        for step in open_steps:
            step.due_at = next(slots)
    return open_steps


def skip_next(plan: Plan) -> Step:
    """Skip the next open step: its prompt is never posted; later steps keep their times."""
    _require_not_finished(plan)
    step = plan.next_step
    if step is None:
        raise Conflict("There is no step left to skip. Use `/book finish` to end the plan.")
    step.state = StepState.SKIPPED
    return step


def cancel(plan: Plan, now: datetime) -> list[Step]:
    """Call off a plan started by mistake: open steps are cancelled, and the plan does not
    count as read (no wrap-up, no "thanks for reading"). Returns the cancelled steps."""
    return _end(plan, now, PlanState.CANCELLED)


def finish(plan: Plan, now: datetime) -> list[Step]:
    """End the plan now; open steps are cancelled. Returns them."""
    return _end(plan, now, PlanState.FINISHED)


def _end(plan: Plan, now: datetime, state: PlanState) -> list[Step]:
    _require_not_finished(plan)
    cancelled = plan.open_steps
    for step in cancelled:
        step.state = StepState.CANCELLED
    plan.state = state
    plan.finished_at = now
    plan.paused_at = None
    return cancelled


def _require_not_finished(plan: Plan) -> None:
    if plan.state is PlanState.FINISHED:
        raise Conflict("That plan has finished. Start a new one with `/book start`.")
    if plan.state is PlanState.CANCELLED:
        raise Conflict("That plan was cancelled. Start a new one with `/book start`.")


@dataclass(frozen=True, slots=True)
class PlanDefaults:
    """What `/book start` uses for anything the command leaves out (from the settings)."""

    timezone: str = "UTC"
    weekday: int = 0
    at: time = time(9, 0)
    chapters_per_step: int = 1


@dataclass(frozen=True, slots=True)
class ResolvedPlan:
    book_ref: str
    cadence: Cadence
    chapters_per_step: int
    start_date: date
    timezone: str


def resolve_options(options: PlanOptions, defaults: PlanDefaults, now: datetime) -> ResolvedPlan:
    """Fill what the member left out from the defaults; the start date defaults to today, locally."""
    timezone = parse_timezone(options.timezone) if options.timezone else defaults.timezone
    tz = zone(timezone)
    at = options.at or defaults.at
    if options.every_days is not None:
        cadence = Cadence.every(options.every_days, at)
    else:
        cadence = Cadence.weekly(
            options.weekday if options.weekday is not None else defaults.weekday, at
        )
    return ResolvedPlan(
        book_ref=options.book_ref,
        cadence=cadence,
        chapters_per_step=options.chapters_per_step or defaults.chapters_per_step,
        start_date=options.start_date or now.astimezone(tz).date(),
        timezone=timezone,
    )
