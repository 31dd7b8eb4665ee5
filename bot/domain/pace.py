"""Each member at their own pace: where they are, when they are nudged, what they may
read without spoilers. Pure functions over the plan and one member's state; the group's
plan never moves for one member.

- A member's *position* is the last chapter they said they read (`/reflect progress ch
  n`, "I've read these"), or reflected on, whichever is further.
- Their *pace* is how many days behind the group they chose to read ("a week behind"):
  their own step dates, nudges and App Home follow it; the group's prompts do not.
- Nudges come at a sensible hour of the member's own time zone: never between 21:00 and
  08:00 there unless they turned quiet hours off; never while they are away. The other
  messages the scheduler has for people (a look-back, an invitation that expired, a quiet
  pair for the programme's admins) wait for their waking hours too, a day at most.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import timeline
from bot.domain.errors import InvalidInput
from bot.domain.model import Plan, Reflection, Step, StepState

QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)
MAX_AWAY = timedelta(days=366)
#: How long a scheduled message to people waits for all of them to be out of quiet hours
#: (any two people's waking hours overlap; several in far-apart zones may never all be).
MAX_WAIT_FOR_WAKING = timedelta(hours=24)


@dataclass(slots=True)
class Reader:
    """One member's own state in one plan."""

    plan_id: int
    user_id: str
    read_through: int = 0
    pace_days: int = 0
    revealed_through: int = 0  # steps whose threads they asked to see anyway
    welcomed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Away:
    starts_at: datetime
    ends_at: datetime

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


@dataclass(frozen=True, slots=True)
class DueNudge:
    """A member's nudge whose time has come."""

    nudge_id: int
    step_id: int
    user_id: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Calendar:
    """A secret calendar feed: one member's steps at their own pace, or (``whole_group``)
    the group's, for its host."""

    workspace_id: int
    group_id: int
    user_id: str
    whole_group: bool
    created_at: datetime


class Standing(enum.Enum):
    AHEAD = "ahead"
    ON_SCHEDULE = "on schedule"
    BEHIND = "behind"


def position(reader: Reader | None, reflections: Iterable[Reflection], plan: Plan) -> int:
    """The last chapter the member has read: said, or implied by a reflection."""
    steps = {s.number: s for s in plan.steps}
    furthest = reader.read_through if reader else 0
    for reflection in reflections:
        if reflection.chapter is not None:
            furthest = max(furthest, reflection.chapter)
        elif reflection.step_number in steps:
            furthest = max(furthest, steps[reflection.step_number].last_chapter)
    return furthest


def spoiler_position(
    reader: Reader | None, reflections: Sequence[Reflection], plan: Plan, now: datetime
) -> int:
    """How far a member may read without spoilers (App Home's links, a digest only for
    them): where they said they are or reflected; with nothing said, where the group is,
    except for someone who joined mid-book (welcomed): they have read nothing yet."""
    said = bool(reflections) or (reader is not None and (reader.read_through or reader.pace_days))
    if said:
        return position(reader, reflections, plan)
    if reader is not None and reader.welcomed_at is not None:
        return 0
    current = group_step(plan, now)
    return current.last_chapter if current else 0


def group_step(plan: Plan, now: datetime) -> Step | None:
    """The step the group is reading now: the latest one posted."""
    posted = [s for s in plan.steps if s.state is StepState.POSTED and s.due_at <= now]
    return max(posted, key=lambda s: s.number, default=None)


def standing(read_to: int, plan: Plan, now: datetime) -> Standing:
    """Ahead (past the step being read), on schedule (done with the steps before it), or
    behind (some earlier step's chapters still unread)."""
    current = group_step(plan, now)
    if current is None:
        return Standing.AHEAD if read_to > 0 else Standing.ON_SCHEDULE
    if read_to > current.last_chapter:
        return Standing.AHEAD
    return Standing.ON_SCHEDULE if read_to >= current.first_chapter - 1 else Standing.BEHIND


def spread(standings: Iterable[Standing]) -> dict[Standing, int]:
    counts = dict.fromkeys(Standing, 0)
    for s in standings:
        counts[s] += 1
    return counts


def own_due(step: Step, reader: Reader | None) -> datetime:
    """When the step falls due at the member's own pace."""
    return step.due_at + timedelta(days=reader.pace_days if reader else 0)


def own_deadline(plan: Plan, step: Step, reader: Reader | None) -> datetime:
    return timeline.step_deadline(plan, step) + timedelta(days=reader.pace_days if reader else 0)


def nudge_at(
    plan: Plan,
    step: Step,
    reader: Reader | None,
    lead: timedelta,
    timezone: str | None,
    quiet_hours: bool = True,
) -> datetime:
    """When a member who has not reflected on ``step`` is nudged: the plan's reminder
    time shifted by their pace, then out of their quiet hours (21:00–08:00 in their own
    zone) to 08:00, or back to 20:00 the evening before when 08:00 would be past their
    deadline."""
    shift = timedelta(days=reader.pace_days if reader else 0)
    moment = timeline.reminder_at(plan, step, lead) + shift
    if not quiet_hours or not timezone:
        return moment
    if awake(moment, timezone, quiet_hours):
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    morning_day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    morning = datetime.combine(morning_day, QUIET_UNTIL, tzinfo=zone)
    if morning < own_deadline(plan, step, reader):
        return morning
    evening = datetime.combine(morning_day - timedelta(days=1), time(20, 0), tzinfo=zone)
    return max(evening, step.due_at + shift)


def awake(moment: datetime, timezone: str | None, quiet_hours: bool = True) -> bool:
    """Is ``moment`` outside the member's quiet hours (21:00–08:00 in their own zone)?
    Always, when they turned quiet hours off or their zone is unknown."""
    if not quiet_hours or not timezone:
        return True
    return QUIET_UNTIL <= moment.astimezone(ZoneInfo(timezone)).time() < QUIET_FROM


def time_to_tell(
    now: datetime, due: datetime, recipients: Iterable[tuple[str | None, bool]]
) -> bool:
    """May a scheduled message (due at ``due``) go now to people given as (time zone,
    quiet hours on)? When all of them are awake, or once it has waited a day."""
    return all(awake(now, zone, quiet) for zone, quiet in recipients) or (
        now >= due + MAX_WAIT_FOR_WAKING
    )


def is_away(periods: Sequence[Away], moment: datetime) -> bool:
    return any(p.covers(moment) for p in periods)


def frozen_steps(plan: Plan, periods: Sequence[Away]) -> set[int]:
    """Steps whose reading period the member spent away: their streak skips them."""
    frozen = set()
    for step in plan.steps:
        start, end = step.due_at, timeline.step_deadline(plan, step)
        if any(p.starts_at < end and start < p.ends_at for p in periods):
            frozen.add(step.number)
    return frozen


def check_away_until(until: date, today: date) -> None:
    if until <= today:
        raise InvalidInput(
            f"{until.isoformat()} is not ahead: give the day you are back, e.g. "
            f"`/reflect away until {(today + timedelta(days=14)).isoformat()}`."
        )
    if until - today > MAX_AWAY:
        raise InvalidInput(
            "That is more than a year away. `/reflect mute` turns nudges off until you "
            "turn them on again."
        )


def check_chapter(chapter: int, chapter_count: int) -> None:
    if not 1 <= chapter <= chapter_count:
        raise InvalidInput(
            f"The book has chapters 1–{chapter_count}: `/reflect progress ch <n>` with n in "
            "that range."
        )


def check_pace(days: int, plan: Plan) -> None:
    """A shift of ``days`` behind the group must leave the book's end in sight."""
    if days < 0:
        raise InvalidInput("You can be behind the group, not ahead of its prompts.")
    end = timeline.plan_end(plan)
    length = (end - plan.steps[0].due_at) if end and plan.steps else timedelta(0)
    if timedelta(days=days) > length:
        raise InvalidInput(
            f"That is past the end of the book ({length.days} days from the first prompt "
            "to the last deadline). Try fewer days, or read at your own speed with "
            "`/reflect progress ch <n>`."
        )


def readable_steps(
    plan: Plan, read_to: int, revealed_through: int
) -> tuple[list[Step], list[Step]]:
    """(open, locked): the posted steps whose chapters the member has read (or asked to
    see anyway), and the later posted ones, whose threads could spoil the book."""
    posted = sorted((s for s in plan.steps if s.state is StepState.POSTED), key=lambda s: s.number)
    open_steps = [s for s in posted if s.last_chapter <= read_to or s.number <= revealed_through]
    locked = [s for s in posted if s not in open_steps]
    return open_steps, locked
