"""Times and durations as typed at the console: ``3d``, ``1d 2h``, ``2026-12-07 09:00``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.console.world import ConsoleError

_DURATION = re.compile(r"(\d+)\s*(w|weeks?|d|days?|h|hours?|m|mins?|minutes?)\b", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """``3d``, ``2h``, ``1d 12h``, ``90m``, ``1 week``."""
    total = timedelta()
    consumed = _DURATION.sub("", text).strip()
    matches = _DURATION.findall(text)
    if not matches or consumed:
        raise ConsoleError(f"{text!r} is not a duration; try 3d, 2h, 30m or 1w.")
    for amount, unit in matches:
        total += timedelta(**{_UNITS[unit[0].lower()]: int(amount)})
    return total


def parse_moment(text: str, now: datetime) -> datetime:
    """``2026-12-07 09:00`` (console zone), an ISO time with offset, or ``HH:MM`` today."""
    value = text.strip().replace("T", " ")
    zone = now.tzinfo
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}", value):
            hours, minutes = (int(p) for p in value.split(":"))
            return now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConsoleError(f"{text!r} is not a time; try 2026-12-07 09:00.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def long_time(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} {moment.tzname()}"
