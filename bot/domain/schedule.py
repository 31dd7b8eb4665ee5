"""Schedule maths: which chapters each step covers and when it falls due.

Due times are computed as *local wall-clock* times in the plan's IANA zone and only then
converted to UTC, so a 09:00 Monday prompt stays at 09:00 across daylight-saving changes.
A wall-clock time that does not exist (the spring-forward gap) resolves forward, the way
``zoneinfo`` does with ``fold=0``: 02:30 on that night becomes 03:30.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import InvalidInput, is_number
from bot.domain.model import Cadence, CadenceKind, Step

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_STEPS = 1000


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``, or a readable error."""
    try:
        if not name or name != name.strip():
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory
        raise InvalidInput(
            f"“{name}” is not a time zone I know. Use an IANA name such as Europe/Berlin "
            "or America/New_York.",
            field="timezone",
        ) from None


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz`` (gap times resolve forward)."""
    local = datetime.combine(day, at, tzinfo=tz)
    # Round-trip through UTC normalises a non-existent (gap) time to the real one after it.
    return local.astimezone(UTC)


def chapter_ranges(chapter_count: int, per_step: int) -> list[tuple[int, int]]:
    """Split chapters 1..count into consecutive runs of ``per_step``."""
    if chapter_count < 1:
        raise InvalidInput("A book needs at least one chapter.")
    if per_step < 1:
        raise InvalidInput("Chapters per step must be at least 1.", field="chapters_per_step")
    steps = math.ceil(chapter_count / per_step)
    if steps > MAX_STEPS:
        raise InvalidInput(f"That makes {steps} steps; a plan can have at most {MAX_STEPS}.")
    return [(1 + i * per_step, min(chapter_count, (i + 1) * per_step)) for i in range(steps)]


def slots(cadence: Cadence, first_day: date, tz: ZoneInfo) -> Iterator[datetime]:
    """Every due instant of ``cadence`` on or after ``first_day`` (local), in order, as UTC."""
    day = first_day
    if cadence.kind is CadenceKind.WEEKLY:
        weekday = cadence.weekday if cadence.weekday is not None else 0
        day = first_day + timedelta(days=(weekday - first_day.weekday()) % 7)
    period = timedelta(days=cadence.period_days)
    while True:
        yield local_to_utc(day, cadence.at, tz)
        day += period


def slots_after(
    cadence: Cadence, start_date: date, tz: ZoneInfo, after: datetime
) -> Iterator[datetime]:
    """Cadence slots anchored at ``start_date`` that fall at or after ``after``."""
    return (due for due in slots(cadence, start_date, tz) if due >= after)


def build_steps(
    chapter_count: int, per_step: int, cadence: Cadence, start_date: date, timezone: str
) -> list[Step]:
    """All steps of a new plan, due on successive cadence slots from ``start_date``."""
    tz = zone(timezone)
    ranges = chapter_ranges(chapter_count, per_step)
    due_times = slots(cadence, start_date, tz)
    return [
        Step(number=i + 1, first_chapter=first, last_chapter=last, due_at=next(due_times))
        for i, (first, last) in enumerate(ranges)
    ]


def parse_weekday(text: str) -> int:
    """``mon``/``Monday``/… → 0…6."""
    word = text.strip().lower()
    matches = [
        i for i, name in enumerate(WEEKDAY_NAMES) if len(word) >= 2 and name.startswith(word)
    ]
    if len(matches) != 1:
        raise InvalidInput(
            f"“{text}” is not a weekday. Use monday … sunday (or mon … sun).", field="weekday"
        )
    return matches[0]


def parse_time(text: str) -> time:
    """``HH:MM`` (24 h) → time."""
    try:
        hours, minutes = text.strip().split(":")
        if len(minutes) != 2 or not is_number(hours) or not is_number(minutes):
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError:
        raise InvalidInput(
            f"“{text}” is not a time. Use 24-hour HH:MM, e.g. 09:00 or 18:30.", field="time"
        ) from None


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` → date."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"“{text}” is not a date. Use YYYY-MM-DD, e.g. 2026-12-07.", field="date"
        ) from None
