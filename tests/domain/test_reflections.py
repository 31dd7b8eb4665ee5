"""Reflection rules: text limits and progress counting (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import plans as rules
from bot.domain.errors import InvalidInput
from bot.domain.model import (
    Book,
    Cadence,
    Chapter,
    Plan,
    Progress,
    Reflection,
    StepState,
    Visibility,
)
from bot.domain.reflections import (
    MAX_REFLECTION_CHARS,
    TooLong,
    clean_text,
    progress,
    split_text,
)

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


def test_clean_text_trims() -> None:
    assert clean_text("  a thought \n") == "a thought"
    assert clean_text("x" * MAX_REFLECTION_CHARS) == "x" * MAX_REFLECTION_CHARS


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="needs some text"):
        clean_text(text)


def test_too_long_text_refused_with_the_count() -> None:
    with pytest.raises(InvalidInput, match="3,001 characters; the limit is 3,000"):
        clean_text("x" * 3001)


def make_plan() -> Plan:
    book = Book(1, "B", "A", [Chapter(i) for i in range(1, 11)], id=1)
    plan = rules.new_plan(
        book=book,
        group_id=1,
        host_user_id="UHOST",
        cadence=Cadence.weekly(0, time(9)),
        chapters_per_step=3,
        start_date=date(2026, 12, 7),
        timezone="UTC",
        now=NOW,
    )
    plan.id = 5
    return plan


def reflection(
    step: int, user: str = "U1", chapter: int | None = None, plan_id: int = 5
) -> Reflection:
    return Reflection(plan_id, step, user, "text", Visibility.SHARED, NOW, chapter=chapter)


def test_progress_counts_whole_steps_and_single_chapters() -> None:
    plan = make_plan()  # steps: 1-3, 4-6, 7-9, 10
    for step in plan.steps[:3]:
        step.state = StepState.POSTED
    mine = [
        reflection(1),  # chapters 1, 2, 3
        reflection(2, chapter=5),
        reflection(2, chapter=5),  # the same chapter twice counts once
        reflection(3),  # 7, 8, 9
        reflection(4, user="U2"),  # someone else's
        reflection(4, plan_id=99),  # another plan's
    ]
    got = progress(plan, "U1", mine, 10)
    assert got == Progress(
        "U1", chapters_reflected=7, chapter_count=10, steps_reflected=3, steps_posted=3, streak=3
    )
    assert got.percent == 70


def test_streak_is_the_run_ending_at_the_latest_posted_step() -> None:
    plan = make_plan()
    for step in plan.steps[:3]:
        step.state = StepState.POSTED
    assert progress(plan, "U1", [reflection(1), reflection(2)], 10).streak == 0
    assert progress(plan, "U1", [reflection(1), reflection(3)], 10).streak == 1
    assert progress(plan, "U1", [reflection(2), reflection(3)], 10).streak == 2
    plan.steps[2].state = StepState.SKIPPED  # skipped steps don't break or extend it
    assert progress(plan, "U1", [reflection(1), reflection(2)], 10).streak == 2


def test_progress_of_nobody() -> None:
    got = progress(make_plan(), "U1", [], 10)
    assert (
        got.chapters_reflected,
        got.steps_reflected,
        got.steps_posted,
        got.streak,
        got.percent,
    ) == (0, 0, 0, 0, 0)
    assert Progress("U", 0, 0, 0, 0, 0).percent == 0


@given(st.lists(st.tuples(st.integers(1, 4), st.one_of(st.none(), st.integers(1, 10)))))
def test_progress_property(items: list[tuple[int, int | None]]) -> None:
    plan = make_plan()
    got = progress(plan, "U1", [reflection(s, chapter=c) for s, c in items], 10)
    assert 0 <= got.chapters_reflected <= 10
    assert got.steps_reflected == len({s for s, _ in items})
    assert 0 <= got.percent <= 100
    assert got.streak <= got.steps_posted


def test_an_open_step_does_not_break_a_streak() -> None:
    """Issue 10 #17: right after the next prompt, a member who reflected on every step
    had "streak 0"."""
    plan = make_plan()
    for step in plan.steps[:3]:
        step.state = StepState.POSTED
    just_after_step_3 = plan.steps[2].due_at + timedelta(minutes=5)
    mine = [reflection(1), reflection(2)]
    assert progress(plan, "U1", mine, 10, now=just_after_step_3).streak == 2
    step_3_over = plan.steps[3].due_at
    assert progress(plan, "U1", mine, 10, now=step_3_over).streak == 0


def test_split_text_keeps_every_character_in_parts_within_the_limit() -> None:
    text = ("A sentence about the book. " * 150).strip()
    parts = split_text(text, 1000)
    assert all(0 < len(p) <= 1000 for p in parts)
    assert " ".join(parts) == text
    assert split_text("short", 1000) == ["short"]


def test_too_long_is_an_error_that_knows_the_length() -> None:
    with pytest.raises(TooLong) as caught:
        clean_text("x" * (MAX_REFLECTION_CHARS + 5))
    assert caught.value.length == MAX_REFLECTION_CHARS + 5
