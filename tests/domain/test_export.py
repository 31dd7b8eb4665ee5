"""Exports as text (pure): slugs, the member's Markdown post, the admin's record."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.domain import plans as rules
from bot.domain.export import member_post, record_markdown, slug, split_front_matter, step_label
from bot.domain.markup import Names
from bot.domain.model import Book, Cadence, Chapter, Plan, PlanState, Reflection, Step, StepState
from bot.domain.model import Visibility as V

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Cien años de soledad", "cien-anos-de-soledad"),
        ("The Innovator’s Dilemma", "the-innovators-dilemma"),
        ("Pride & Prejudice", "pride-prejudice"),
        ("Война и мир", "voina-i-mir"),
        ("!!!", "reflections"),
    ],
)
def test_slug_transliterates(title: str, expected: str) -> None:
    assert slug(title) == expected


def make(title: str = "Cien años de soledad") -> tuple[Book, Plan]:
    book = Book(1, title, "Gabriel García Márquez", [Chapter(i) for i in range(1, 4)], id=1)
    plan = rules.new_plan(
        book=book,
        group_id=1,
        host_user_id="U0ALICE0001",
        cadence=Cadence.every(7, time(9)),
        chapters_per_step=1,
        start_date=(NOW + timedelta(days=1)).date(),
        timezone="UTC",
        now=NOW,
    )
    plan.id = 1
    return book, plan


def own(text: str, chapter: int | None = 1, user: str = "U0BOB000001") -> Reflection:
    return Reflection(1, chapter or 1, user, text, V.SHARED, NOW, chapter=chapter)


NAMES = Names(users={"U0ALICE0001": "alice", "U0BOB000001": "bob", "U0CAROL0001": "carol"})


def test_member_post_converts_slack_markup_and_quotes_only_the_willing() -> None:
    book, plan = make()
    post = member_post(
        book=book,
        plan=plan,
        author_name="bob",
        reflections=[
            own("<!channel> *bold* idea, see <https://x.example|click> & ask <@U0ALICE0001>")
        ],
        others=[
            own("carol said yes", user="U0CAROL0001"),
            own("alice said no", user="U0ALICE0001"),
            Reflection(1, 1, "U0CAROL0001", "carol private", V.PRIVATE, NOW, chapter=1),
        ],
        quotable={"U0CAROL0001"},
        names=NAMES,
        today=NOW.date(),
    )
    front, body = split_front_matter(post)
    assert front["categories"] == ["reading", "cien-anos-de-soledad"]
    assert "@channel **bold** idea, see [click](https://x.example) & ask @alice" in body
    assert "<!channel>" not in body and "<https://" not in body and "U0ALICE0001" not in body
    assert "> carol said yes\n> — carol" in body
    assert "alice said no" not in body and "carol private" not in body


def test_step_labels_read_like_a_person_wrote_them() -> None:
    step = Step(3, 11, 11, NOW)
    assert step_label(step) == "chapter 11"
    assert step_label(Step(4, 12, 14, NOW)) == "chapters 12–14"


def test_record_markdown_names_labels_and_withheld_text() -> None:
    record = {
        "exported_at": NOW.isoformat(),
        "books": [{"id": 1, "title": "Dune", "author": "Frank Herbert", "chapters": [{}]}],
        "plans": [
            {
                "id": 1,
                "channel_id": "C0BOOKCLUB1",
                "channel": "book-club",
                "book_title": "Dune",
                "state": "finished",
                "host_user_id": "U0ALICE0001",
                "host": "alice",
                "cadence": "every Monday at 09:00",
                "timezone": "UTC",
                "steps": [
                    {
                        "number": 1,
                        "first_chapter": 11,
                        "last_chapter": 11,
                        "chapters": "chapter 11",
                        "state": "posted",
                        "reflections": [
                            {
                                "author_id": "U0BOB000001",
                                "author": "bob",
                                "chapter": 11,
                                "text": "spice",
                                "text_withheld": False,
                                "late": False,
                            },
                            {
                                "author_id": "U0CAROL0001",
                                "author": "carol",
                                "chapter": None,
                                "text": None,
                                "text_withheld": True,
                                "late": True,
                            },
                        ],
                        "messages": [
                            {
                                "user_id": "U0ALICE0001",
                                "user": "alice",
                                "text": None,
                                "text_withheld": True,
                            }
                        ],
                    }
                ],
                "digests": [
                    {"kind": "step", "period": "step-1", "state": "posted", "channel": "book-club"}
                ],
            }
        ],
    }
    text = record_markdown(record)
    assert "(1 chapter)" in text and "(1 chapters)" not in text
    assert "## Dune in #book-club (finished)" in text
    assert "### Step 1: chapter 11 (posted)" in text and "11–11" not in text
    assert "**bob** (chapter 11): spice" in text
    assert "**carol** (whole step, after the step closed): _text withheld" in text
    assert "alice: _text withheld" in text
    for raw in ("U0ALICE0001", "U0BOB000001", "U0CAROL0001", "C0BOOKCLUB1"):
        assert raw not in text
    assert "withheld" in text.split("## ")[0].lower()  # said once, up front


def test_cancelled_plans_show_only_steps_that_happened() -> None:
    from bot.domain.export import shown_steps

    _book, plan = make()
    plan.steps[0].state = StepState.POSTED
    plan.state = PlanState.CANCELLED
    for step in plan.steps[1:]:
        step.state = StepState.CANCELLED
    assert [s.number for s in shown_steps(plan)] == [1]
    plan.state = PlanState.ACTIVE
    plan.steps[1].state = StepState.PENDING
    plan.steps[2].state = StepState.PENDING
    assert [s.number for s in shown_steps(plan)] == [1, 2, 3]  # a running plan's schedule
