"""What a chapter prompt says: chapters, questions, deadline; and which steps are due, late or missed."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.model import Book, Plan, Step

DEFAULT_QUESTIONS: tuple[str, ...] = (
    "What surprised you most in these pages?",
    "Which passage would you read aloud to the group, and why?",
    "What question would you ask the author about this part?",
    "How does this part connect to your own work or life?",
    "What did you disagree with, or find unconvincing?",
    "Which idea here do you want to try out this week?",
    "What changed in your understanding since the last step?",
    "Which character, argument or example stayed with you, and why?",
    "What would you explain differently to someone who has not read it?",
)
QUESTIONS_PER_PROMPT = 3


def choose_questions(
    book: Book, step: Step, defaults: Sequence[str] = DEFAULT_QUESTIONS
) -> list[str]:
    """The host's questions for the step's chapters; else a rotation of defaults.

    The rotation advances by ``QUESTIONS_PER_PROMPT`` each step, so consecutive steps
    never repeat a question (as long as there are at least twice as many defaults).
    """
    own: list[str] = []
    for number in step.chapters:
        if 1 <= number <= book.chapter_count:
            own.extend(book.chapter(number).questions)
    if own:
        return own[:QUESTIONS_PER_PROMPT]
    pool = list(defaults) or list(DEFAULT_QUESTIONS)
    start = ((step.number - 1) * QUESTIONS_PER_PROMPT) % len(pool)
    count = min(QUESTIONS_PER_PROMPT, len(pool))
    return [pool[(start + i) % len(pool)] for i in range(count)]


@dataclass(frozen=True, slots=True)
class PromptContent:
    """Everything a chapter prompt shows, independent of how it is rendered."""

    plan_id: int
    step_id: int
    step_number: int
    step_count: int
    book_title: str
    book_author: str
    chapters: list[tuple[int, str | None]]
    questions: list[str]
    due_at: datetime
    deadline: datetime | None
    timezone: str
    late: bool = False
    host_user_id: str = ""
    reminder: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    # In a mentoring pair's conversation: its open action items, (number, text).
    pair_id: int | None = None
    open_actions: tuple[tuple[int, str], ...] = ()

    @property
    def chapter_label(self) -> str:
        first, last = self.chapters[0][0], self.chapters[-1][0]
        return f"chapter {first}" if first == last else f"chapters {first}–{last}"


def prompt_content(
    plan: Plan,
    book: Book,
    step: Step,
    *,
    late: bool = False,
    defaults: Sequence[str] = DEFAULT_QUESTIONS,
) -> PromptContent:
    if plan.id is None or step.id is None:
        raise ValueError("plan and step must be stored")
    following = next(
        (s for s in sorted(plan.steps, key=lambda s: s.number) if s.number > step.number), None
    )
    return PromptContent(
        plan_id=plan.id,
        step_id=step.id,
        step_number=step.number,
        step_count=len(plan.steps),
        book_title=book.title,
        book_author=book.author,
        chapters=[(n, book.chapter(n).own_title) for n in step.chapters],
        questions=choose_questions(book, step, defaults),
        due_at=step.due_at,
        deadline=following.due_at if following else None,
        timezone=plan.timezone,
        late=late,
        host_user_id=plan.host_user_id,
    )


class Due(enum.Enum):
    """How a step's due time stands against now."""

    FUTURE = "future"
    ON_TIME = "on_time"
    LATE = "late"  # post it, with a note that it is late
    MISSED = "missed"  # too old to post: listed in a catch-up message instead


def classify_due(due_at: datetime, now: datetime, grace: timedelta, late_after: timedelta) -> Due:
    """Whether a prompt due at ``due_at`` is still in the future, on time, late or missed."""
    if due_at > now:
        return Due.FUTURE
    overdue = now - due_at
    if overdue > grace:
        return Due.MISSED
    return Due.LATE if overdue > late_after else Due.ON_TIME


#: The longest Retry-After taken at its word (a day: past the misfire grace a prompt is
#: listed as missed anyway, and a bigger number would only overflow the date arithmetic).
RETRY_AFTER_LIMIT = 24 * 3600


def retry_delay(
    failures: int, retry_after: float | None, base: float = 5.0, cap: float = 600.0
) -> timedelta:
    """How long after a failed post to try again, counted from the moment it failed.

    ``failures`` counts Slack's failures of this post, the one just seen included (a
    process that crashed while posting is no failure: it says nothing about Slack).
    Slack's Retry-After, when given, is the wait: whole seconds, a fraction rounded up,
    never cut short by the backoff's cap. Otherwise the backoff doubles from ``base``
    with each failure, up to ``cap``.
    """
    if retry_after is not None and retry_after > 0:
        return timedelta(seconds=min(math.ceil(retry_after), RETRY_AFTER_LIMIT))
    return timedelta(seconds=min(cap, base * (2 ** min(32, max(0, failures - 1)))))
