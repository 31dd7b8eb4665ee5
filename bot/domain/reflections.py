"""Rules for reflections: what text is acceptable, and how progress is counted."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime

from bot.domain import timeline
from bot.domain.errors import InvalidInput
from bot.domain.model import Plan, Progress, Reflection, StepState
from bot.domain.text import clean

#: The one limit on a reflection's length, wherever it is written (command, form, edit):
#: Slack's own maximum for a form's text input, and for one section of a message.
MAX_REFLECTION_CHARS = 3000
NO_REFLECTIONS = "You have no reflections yet. Write one with `/reflect <text>`."


class TooLong(InvalidInput):
    """A reflection over the limit: refused, but its text is kept for the member."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        self.text = text
        parts = len(split_text(text, MAX_REFLECTION_CHARS))
        super().__init__(
            f"That reflection is {self.length:,} characters; the limit is "
            f"{MAX_REFLECTION_CHARS:,}. Nothing is saved yet: save it in {parts} parts, "
            "or trim it.",
            field="text",
        )


def clean_text(text: str) -> str:
    """Trimmed reflection text, or a readable error for empty or over-long text."""
    cleaned = clean(text)
    if not cleaned:
        raise InvalidInput(
            "A reflection needs some text, e.g. `/reflect The opening surprised me`."
        )
    if len(cleaned) > MAX_REFLECTION_CHARS:
        raise TooLong(cleaned)
    return cleaned


_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…])\s+"),
    re.compile(r"\s+"),
)


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut at the last paragraph,
    line, sentence or word break that fits (mid-word only when a word is longer)."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = None
        for pattern in _BREAKS:
            found = [m for m in pattern.finditer(window) if 0 < m.start() <= limit]
            if found:
                cut = found[-1]
                break
        if cut is None:
            parts.append(rest[:limit])
            rest = rest[limit:].lstrip()
        else:
            parts.append(rest[: cut.start()].rstrip())
            rest = rest[cut.end() :].lstrip()
    if rest:
        parts.append(rest)
    return parts


def progress(
    plan: Plan,
    user_id: str,
    reflections: Iterable[Reflection],
    chapter_count: int,
    now: datetime | None = None,
    frozen: Collection[int] = (),
) -> Progress:
    """Chapters a member reflected on, steps covered, and their current streak.

    A reflection on a whole step counts for every chapter of that step; one tied to a
    chapter counts for that chapter. The streak is the run of most recent posted steps,
    ending at the latest one, that the member reflected on; a step still being read
    (its period not over at ``now``) does not break it before the member has had the
    time to reflect. Steps in ``frozen`` (read while the member was away) neither count
    nor break it.
    """
    own = [r for r in reflections if r.author_id == user_id and r.plan_id == plan.id]
    chapters: set[int] = set()
    steps: set[int] = set()
    by_number = {s.number: s for s in plan.steps}
    for reflection in own:
        steps.add(reflection.step_number)
        if reflection.chapter is not None:
            chapters.add(reflection.chapter)
        elif reflection.step_number in by_number:
            chapters.update(by_number[reflection.step_number].chapters)
    posted_steps = sorted(
        (s for s in plan.steps if s.state is StepState.POSTED), key=lambda s: -s.number
    )
    posted = [s.number for s in posted_steps]
    streak = 0
    for index, step in enumerate(posted_steps):
        if step.number in frozen and step.number not in steps:
            continue  # away: the streak is frozen, not broken
        if step.number not in steps:
            still_open = now is not None and timeline.is_step_open(plan, step, now)
            if index == 0 and still_open:
                continue  # the step being read: not reflected *yet*
            break
        streak += 1
    return Progress(
        user_id=user_id,
        chapters_reflected=len(chapters),
        chapter_count=chapter_count,
        steps_reflected=len(steps),
        steps_posted=len(posted),
        streak=streak,
    )
