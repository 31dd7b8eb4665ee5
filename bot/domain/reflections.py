"""Rules for reflections: what text is acceptable, and how progress is counted."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.errors import InvalidInput
from bot.domain.model import Plan, Progress, Reflection, StepState
from bot.domain.text import clean

MAX_REFLECTION_CHARS = 3000


def clean_text(text: str) -> str:
    """Trimmed reflection text, or a readable error for empty or over-long text."""
    cleaned = clean(text)
    if not cleaned:
        raise InvalidInput(
            "A reflection needs some text, e.g. `/reflect The opening surprised me`."
        )
    if len(cleaned) > MAX_REFLECTION_CHARS:
        raise InvalidInput(
            f"That reflection is {len(cleaned):,} characters; the limit is "
            f"{MAX_REFLECTION_CHARS:,}. Split it into two, or trim it."
        )
    return cleaned


def progress(
    plan: Plan, user_id: str, reflections: Iterable[Reflection], chapter_count: int
) -> Progress:
    """Chapters a member reflected on, steps covered, and their current streak.

    A reflection on a whole step counts for every chapter of that step; one tied to a
    chapter counts for that chapter. The streak is the run of most recent posted steps,
    ending at the latest one, that the member reflected on.
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
    posted = sorted((s.number for s in plan.steps if s.state is StepState.POSTED), reverse=True)
    streak = 0
    for number in posted:
        if number not in steps:
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
