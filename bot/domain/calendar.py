"""A reading plan as an iCalendar feed (RFC 5545), built with the ``icalendar`` library.

One event per step, at the member's own pace: from the step's (own) due time to its
(own) deadline, with the chapters and a link to the step's discussion thread. Times are
in the plan's time zone, with its VTIMEZONE, so calendars show them right across
daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import timeline
from bot.domain.model import Book, Plan, StepState
from bot.domain.pace import Reader, own_deadline, own_due

PRODUCT = "-//Readalong//Reading plans//EN"


def plan_feed(
    plan: Plan,
    book: Book,
    *,
    reader: Reader | None,
    links: Mapping[int, str],
    now: datetime,
    name: str,
) -> bytes:
    """The steps of ``plan`` (not skipped or cancelled ones) as an iCalendar document.

    ``reader``: at that member's pace (None: the group's); ``links``: step number →
    permalink of the step's discussion thread.
    """
    zone = ZoneInfo(plan.timezone)
    import icalendar  # 3 MiB and 80 modules: only when someone fetches a feed

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", plan.timezone)
    for step in sorted(plan.steps, key=lambda s: s.number):
        if step.state in (StepState.SKIPPED, StepState.CANCELLED):
            continue
        chapters = ", ".join(
            book.chapter(n).label() for n in step.chapters if 1 <= n <= book.chapter_count
        )
        event = icalendar.Event()
        event.add(
            "uid",
            f"readalong-plan{plan.id}-step{step.number}"
            + (f"-{reader.user_id}" if reader else "")
            + "@readalong",
        )
        event.add("dtstamp", now)
        event.add("dtstart", own_due(step, reader).astimezone(zone))
        end = own_deadline(plan, step, reader) if timeline.following_step(plan, step) else None
        event.add("dtend", (end or own_due(step, reader) + timeline.period(plan)).astimezone(zone))
        event.add("summary", f"{book.title}: {step.describe_chapters()}")
        description = f"Step {step.number} of {len(plan.steps)}: {chapters}"
        link = links.get(step.number)
        if link:
            description += f"\nDiscussion: {link}"
            event.add("url", link)
        event.add("description", description)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
