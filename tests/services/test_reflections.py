"""ReflectionService on the real database: write, edit, delete, list, progress, member flags."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.model import Cadence, Plan, Reflection, StepState, Visibility
from bot.services.books import BookService
from bot.services.plans import PlanService, PlanView
from bot.services.ports import FakeClock
from bot.services.reflections import ReflectionService
from bot.storage.uow import SqlAlchemyUnitOfWork
from tests.checks import present

from .conftest import CHANNEL, HOST, TEAM


def stored(uow: SqlAlchemyUnitOfWork, plan: Plan) -> list[Reflection]:
    with uow() as unit:
        return unit.reflections.for_plan(present(plan.id))


def set_posted(uow: SqlAlchemyUnitOfWork, plan: Plan, *numbers: int) -> None:
    with uow() as unit:
        current = unit.plans.get(present(plan.id))
        assert current is not None
        for step in current.steps:
            if step.number in numbers:
                step.state = StepState.POSTED
                step.posted_at = step.due_at
        unit.plans.save(current)
        unit.commit()


def test_write_on_the_current_step(
    reflections: ReflectionService, started: PlanView, clock: FakeClock, uow: SqlAlchemyUnitOfWork
) -> None:
    saved = reflections.write(TEAM, CHANNEL, "U1", "  Dorothea is restless.  ")
    assert saved.step.number == 1  # nothing due yet: the first step
    r = saved.reflection
    assert r.id is not None
    assert (r.text, r.author_id, r.chapter, r.step_number, r.visibility) == (
        "Dorothea is restless.",
        "U1",
        None,
        1,
        Visibility.SHARED,
    )
    assert r.created_at == clock.now() and r.updated_at is None and r.edit_count == 0
    clock.advance(timedelta(days=8))  # step 2 (7 Dec) is due
    assert reflections.write(TEAM, CHANNEL, "U1", "Lydgate arrives.").step.number == 2
    assert [x.step_number for x in stored(uow, started.plan)] == [1, 2]


def test_write_on_a_chapter_uses_its_step(
    reflections: ReflectionService, started: PlanView
) -> None:
    saved = reflections.write(TEAM, CHANNEL, "U1", "Chapter seven!", chapter=7)
    assert (saved.step.number, saved.reflection.step_number, saved.reflection.chapter) == (3, 3, 7)
    assert reflections.write(TEAM, CHANNEL, "U1", "The end", chapter=10).step.number == 4


@pytest.mark.parametrize("chapter", [0, 11])
def test_write_on_a_chapter_beyond_the_book(
    reflections: ReflectionService, started: PlanView, uow: SqlAlchemyUnitOfWork, chapter: int
) -> None:
    with pytest.raises(InvalidInput, match=f"has chapters 1–10; there is no chapter {chapter}"):
        reflections.write(TEAM, CHANNEL, "U1", "Hmm", chapter=chapter)
    assert stored(uow, started.plan) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [("", "needs some text"), (" \n\t ", "needs some text"), ("x" * 3001, "3,001 characters")],
)
def test_bad_text_stores_nothing(
    reflections: ReflectionService,
    started: PlanView,
    uow: SqlAlchemyUnitOfWork,
    text: str,
    words: str,
) -> None:
    with pytest.raises(InvalidInput, match=words):
        reflections.write(TEAM, CHANNEL, "U1", text)
    assert stored(uow, started.plan) == []


def test_the_limit_itself_is_fine(
    reflections: ReflectionService, started: PlanView, uow: SqlAlchemyUnitOfWork
) -> None:
    reflections.write(TEAM, CHANNEL, "U1", "é" * 3000)
    assert [len(r.text) for r in stored(uow, started.plan)] == [3000]


def test_write_without_a_plan(reflections: ReflectionService) -> None:
    with pytest.raises(NotFound, match="`/book start"):
        reflections.write(TEAM, CHANNEL, "U1", "Hello")


def test_private_and_shared_are_stored(
    reflections: ReflectionService, started: PlanView, uow: SqlAlchemyUnitOfWork
) -> None:
    reflections.write(TEAM, CHANNEL, "U1", "for me", visibility=Visibility.PRIVATE)
    reflections.write(TEAM, CHANNEL, "U1", "for all", visibility=Visibility.SHARED)
    assert [(r.text, r.visibility) for r in stored(uow, started.plan)] == [
        ("for me", Visibility.PRIVATE),
        ("for all", Visibility.SHARED),
    ]


def test_write_registers_the_member(
    reflections: ReflectionService, started: PlanView, uow: SqlAlchemyUnitOfWork
) -> None:
    reflections.write(TEAM, CHANNEL, "UNEW", "hi")
    with uow() as unit:
        member = unit.members.get(started.group.workspace_id, "UNEW")
    assert member is not None and not member.reminders_muted and not member.quotable


def test_edit_own(
    reflections: ReflectionService, started: PlanView, clock: FakeClock, uow: SqlAlchemyUnitOfWork
) -> None:
    r = reflections.write(TEAM, CHANNEL, "U1", "first").reflection
    created = clock.now()
    clock.advance(timedelta(minutes=5))
    edited = reflections.edit(TEAM, "U1", present(r.id), text=" second ")
    assert (edited.reflection.text, edited.reflection.edit_count) == ("second", 1)
    assert edited.reflection.updated_at == clock.now() and edited.step.number == 1
    clock.advance(timedelta(minutes=5))
    same = reflections.edit(TEAM, "U1", present(r.id), text="second")  # no change: not an edit
    assert same.reflection.edit_count == 1
    clock.advance(timedelta(minutes=5))
    private = reflections.edit(TEAM, "U1", present(r.id), visibility=Visibility.PRIVATE)
    (row,) = stored(uow, started.plan)
    assert (row.text, row.edit_count, row.visibility) == ("second", 1, Visibility.PRIVATE)
    assert row.updated_at == clock.now() == private.reflection.updated_at
    assert row.created_at == created
    with pytest.raises(InvalidInput, match="needs some text"):
        reflections.edit(TEAM, "U1", present(r.id), text="   ")
    assert stored(uow, started.plan)[0].text == "second"


def test_someone_elses_reflection_looks_missing(
    reflections: ReflectionService, started: PlanView, uow: SqlAlchemyUnitOfWork
) -> None:
    r = reflections.write(TEAM, CHANNEL, "U1", "mine").reflection
    before = stored(uow, started.plan)
    for call in (
        lambda: reflections.edit(TEAM, "U2", present(r.id), text="hijacked"),
        lambda: reflections.edit(TEAM, "U2", present(r.id), visibility=Visibility.PRIVATE),
        lambda: reflections.delete(TEAM, "U2", present(r.id)),
        lambda: reflections.get_own(TEAM, "U2", present(r.id)),
        lambda: reflections.edit("T2", "U1", present(r.id), text="other workspace"),
        lambda: reflections.delete("T2", "U1", present(r.id)),
    ):
        with pytest.raises(NotFound, match=f"You have no reflection #{r.id}"):
            call()
    assert stored(uow, started.plan) == before


@pytest.mark.parametrize("missing_id", [999, 0, -1, 10**20])
def test_unknown_reflection_id(
    reflections: ReflectionService, started: PlanView, missing_id: int
) -> None:
    with pytest.raises(NotFound, match="You have no reflection"):
        reflections.edit(TEAM, "U1", missing_id, text="x")
    with pytest.raises(NotFound):
        reflections.delete(TEAM, "U1", missing_id)


def test_delete_own(
    reflections: ReflectionService, started: PlanView, uow: SqlAlchemyUnitOfWork
) -> None:
    keep = reflections.write(TEAM, CHANNEL, "U1", "keep").reflection
    gone = reflections.write(TEAM, CHANNEL, "U1", "drop").reflection
    assert reflections.delete(TEAM, "U1", present(gone.id)).text == "drop"
    assert [r.id for r in stored(uow, started.plan)] == [keep.id]
    with pytest.raises(NotFound):
        reflections.delete(TEAM, "U1", present(gone.id))


def test_get_own_and_mark_echoed(reflections: ReflectionService, started: PlanView) -> None:
    r = reflections.write(TEAM, CHANNEL, "U1", "echo me").reflection
    reflections.mark_echoed(present(r.id), "1700000000.000100")
    assert (
        reflections.get_own(TEAM, "U1", present(r.id)).reflection.message_ts == "1700000000.000100"
    )
    reflections.mark_echoed(present(r.id), None)
    assert reflections.get_own(TEAM, "U1", present(r.id)).reflection.message_ts is None
    reflections.mark_echoed(424242, "1.2")  # unknown: ignored


def test_list_own(
    reflections: ReflectionService, started: PlanView, plans: PlanService, books: BookService
) -> None:
    a = reflections.write(TEAM, CHANNEL, "U1", "a").reflection
    reflections.write(TEAM, CHANNEL, "U2", "not mine")
    b = reflections.write(TEAM, CHANNEL, "U1", "b", visibility=Visibility.PRIVATE).reflection
    assert [r.id for r in reflections.list_own(TEAM, "U1", CHANNEL)] == [a.id, b.id]
    # Across the workspace, including a plan in another channel.
    books.add(TEAM, "U1", "Emma", "Jane Austen", "3")
    plans.start(HOST, "C2", "Emma", Cadence.weekly(0, time(9)), 1, date(2026, 11, 30), "UTC")
    c = reflections.write(TEAM, "C2", "U1", "c").reflection
    assert [r.id for r in reflections.list_own(TEAM, "U1")] == [a.id, b.id, c.id]
    assert [r.id for r in reflections.list_own(TEAM, "U1", "C2")] == [c.id]
    assert reflections.list_own("T2", "U1") == []
    with pytest.raises(NotFound):
        reflections.list_own(TEAM, "U1", "CNONE")


def test_progress_and_streak(
    reflections: ReflectionService, started: PlanView, uow: SqlAlchemyUnitOfWork
) -> None:
    # Steps cover 1–3, 4–6, 7–9, 10.
    reflections.write(TEAM, CHANNEL, "U1", "whole step one")  # step 1: chapters 1, 2, 3
    reflections.write(TEAM, CHANNEL, "U1", "just five", chapter=5)  # step 2: chapter 5
    reflections.write(TEAM, CHANNEL, "U2", "step three", chapter=8)
    reflections.write(TEAM, CHANNEL, "U2", "step three again")  # current step is 1 (nothing posted)
    set_posted(uow, started.plan, 1, 2, 3)

    mine = reflections.progress(TEAM, CHANNEL, "U1")
    assert (
        mine.chapters_reflected,
        mine.chapter_count,
        mine.steps_reflected,
        mine.steps_posted,
    ) == (4, 10, 2, 3)
    assert mine.streak == 0  # nothing on step 3, the latest posted
    assert mine.percent == 40

    reflections.write(TEAM, CHANNEL, "U1", "three", chapter=9)
    assert reflections.progress(TEAM, CHANNEL, "U1").streak == 3
    assert reflections.progress(TEAM, CHANNEL, "U1").chapters_reflected == 5

    theirs = reflections.progress(TEAM, CHANNEL, "U2")
    assert (theirs.chapters_reflected, theirs.steps_reflected, theirs.streak) == (4, 2, 1)
    nobody = reflections.progress(TEAM, CHANNEL, "U3")
    assert (nobody.chapters_reflected, nobody.streak, nobody.steps_posted) == (0, 0, 3)


def test_current_step_follows_posted_steps(
    reflections: ReflectionService, started: PlanView, uow: SqlAlchemyUnitOfWork
) -> None:
    set_posted(uow, started.plan, 1, 2)
    assert reflections.write(TEAM, CHANNEL, "U1", "now").step.number == 2


def test_group_progress_best_first(reflections: ReflectionService, started: PlanView) -> None:
    reflections.write(TEAM, CHANNEL, "UB", "one chapter", chapter=1)
    reflections.write(TEAM, CHANNEL, "UC", "whole step")  # 3 chapters
    reflections.write(TEAM, CHANNEL, "UA", "one chapter", chapter=2)
    reflections.write(TEAM, CHANNEL, "UD", "kept to myself", visibility=Visibility.PRIVATE)
    view, rows = reflections.group_progress(TEAM, CHANNEL)
    assert view.plan.id == started.plan.id
    # Others see this list: a private reflection must not show up, even as a count.
    assert [(p.user_id, p.chapters_reflected) for p in rows] == [("UC", 3), ("UA", 1), ("UB", 1)]


def test_member_flags(reflections: ReflectionService, uow: SqlAlchemyUnitOfWork) -> None:
    member = reflections.set_member_flags(TEAM, "U1", muted=True)
    assert (member.reminders_muted, member.quotable) == (True, False)
    member = reflections.set_member_flags(TEAM, "U1", quotable=True)
    assert (member.reminders_muted, member.quotable) == (True, True)
    member = reflections.set_member_flags(TEAM, "U1", muted=False)
    with uow() as unit:
        again = unit.members.get(member.workspace_id, "U1")
    assert again is not None and (again.reminders_muted, again.quotable) == (False, True)
    unchanged = reflections.set_member_flags(TEAM, "U1")
    assert (unchanged.reminders_muted, unchanged.quotable) == (False, True)


def test_a_draft_is_used_once_even_when_clicked_twice(
    reflections: ReflectionService, started: PlanView
) -> None:
    """Two quick clicks on "Keep it private" must save one reflection, not two."""
    draft = reflections.keep_draft(TEAM, "U1", CHANNEL, "private thoughts kept")
    assert draft.id is not None
    assert reflections.take_draft(TEAM, "U1", draft.id).text == "private thoughts kept"
    with pytest.raises((Conflict, NotFound)):
        reflections.take_draft(TEAM, "U1", draft.id)


def test_someone_elses_draft_cannot_be_used(
    reflections: ReflectionService, started: PlanView
) -> None:
    draft = reflections.keep_draft(TEAM, "U1", CHANNEL, "mine")
    assert draft.id is not None
    with pytest.raises(NotFound):
        reflections.take_draft(TEAM, "U2", draft.id)
