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
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.domain.errors import InvalidInput, Suggestion, is_number
from bot.domain.model import Cadence, CadenceKind, Step

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_STEPS = 1000


def usable_zone(name: str | None) -> str | None:
    """``name`` when it is a zone times can be shown in (a member's Slack ``tz``), else
    None: the one rule for "their own time zone, if we know it"."""
    if not name:
        return None
    try:
        zone(name)
    except InvalidInput:
        return None
    return name


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name`` (as stored: canonical), or a readable error."""
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


#: Abbreviations and nicknames people type, and the zone (with daylight saving) they mean.
_ZONE_NICKNAMES = {
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "ct": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mt": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "akst": "America/Anchorage",
    "hst": "Pacific/Honolulu",
    "gmt": "Europe/London",
    "bst": "Europe/London",
    "uk": "Europe/London",
    "gb": "Europe/London",
    "wet": "Europe/Lisbon",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "met": "Europe/Berlin",
    "eet": "Europe/Athens",
    "msk": "Europe/Moscow",
    "ist": "Asia/Kolkata",
    "sgt": "Asia/Singapore",
    "hkt": "Asia/Hong_Kong",
    "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "nzst": "Pacific/Auckland",
    "nzdt": "Pacific/Auckland",
    "sast": "Africa/Johannesburg",
    "brt": "America/Sao_Paulo",
}
_UTC_NAMES = {"utc", "etc/utc", "z", "zulu", "universal", "etc/universal"}


@lru_cache(maxsize=1)
def _zones() -> tuple[dict[str, str], dict[str, str]]:
    """(folded IANA name → name, folded city → name) for the zones a plan may use:
    Area/City names, which follow their region's daylight saving."""
    names = sorted(
        n
        for n in available_timezones()
        if "/" in n and not n.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    )
    by_name = {n.casefold(): n for n in names}
    by_city: dict[str, str] = {}
    for n in names:  # canonical-looking names first win: "Europe/London" before "GB"
        by_city.setdefault(n.rsplit("/", 1)[-1].replace("_", " ").casefold(), n)
    return by_name, by_city


def parse_timezone(text: str) -> str:
    """A time zone as a member typed it → its canonical IANA name, or a readable refusal.

    Names are accepted in any case ("europe/london"). Abbreviations and fixed offsets
    ("EST", "GMT", "Etc/GMT+5") are refused, because they never change for daylight
    saving: a 09:00 prompt would drift to 08:00 or 10:00 half the year. City names
    ("London") are refused with the zone suggested ("did you mean Europe/London?").
    """
    typed = " ".join(text.split())
    folded = typed.casefold()
    if folded in _UTC_NAMES:
        return "UTC"
    by_name, by_city = _zones()
    if folded in by_name:
        return by_name[folded]
    suggestion = _ZONE_NICKNAMES.get(folded) or by_city.get(folded.replace("_", " "))
    if suggestion is None and folded.startswith(("etc/gmt", "gmt+", "gmt-", "utc+", "utc-")):
        suggestion = "UTC"
    if suggestion is None:
        from rapidfuzz import process

        found = process.extractOne(
            folded.replace("_", " "), list(by_city), score_cutoff=85, processor=None
        )
        suggestion = by_city[found[0]] if found else None
    fixed = _is_fixed_offset(typed)
    why = (
        f"“{typed}” is a fixed offset with no daylight saving, so prompts would move by an "
        "hour for half the year"
        if fixed
        else f"“{typed}” is not a time zone I know"
    )
    hint = (
        f"; did you mean {suggestion}?"
        if suggestion
        else ". Use an IANA name such as Europe/Berlin or America/New_York."
    )
    raise InvalidInput(
        why + hint,
        field="timezone",
        suggestions=(Suggestion(typed, suggestion),) if suggestion else (),
    )


def _is_fixed_offset(name: str) -> bool:
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return name.casefold() in _ZONE_NICKNAMES
    winter = datetime(2026, 1, 15, 12, tzinfo=UTC).astimezone(tz).utcoffset()
    summer = datetime(2026, 7, 15, 12, tzinfo=UTC).astimezone(tz).utcoffset()
    return winter == summer


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
    chapter_count: int,
    per_step: int,
    cadence: Cadence,
    start_date: date,
    timezone: str,
    not_before: datetime | None = None,
) -> list[Step]:
    """All steps of a new plan, due on successive cadence slots from ``start_date``.

    With ``not_before`` (the plan's creation), no step is due before it: starting today
    after the prompt time begins with the next slot, never with a prompt already late.
    """
    tz = zone(timezone)
    ranges = chapter_ranges(chapter_count, per_step)
    due_times = (
        slots(cadence, start_date, tz)
        if not_before is None
        else slots_after(cadence, start_date, tz, not_before)
    )
    try:
        return [
            Step(number=i + 1, first_chapter=first, last_chapter=last, due_at=next(due_times))
            for i, (first, last) in enumerate(ranges)
        ]
    except OverflowError:
        raise InvalidInput(
            "That schedule runs past the year 9999. Start sooner or read faster.", field="date"
        ) from None


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
