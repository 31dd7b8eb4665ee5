"""Issue 10, second pass: what a new member found in the console, over real HTTP.

Each test is one finding of a console review (the exact input it used), failing before
its fix. Dates come from the test clock.
"""

from __future__ import annotations

import html
from datetime import timedelta

from bot.domain.model import Visibility
from bot.slack import blocks
from tests.harness import ALICE, BOB, CAROL, CLUB, Harness, block_text
from tests.slack.test_reflection_loop import (
    TEAM,
    buttons,
    click,
    everything_posted,
    last_ephemeral,
    my_reflections,
    post_due,
    start,
    thread_texts,
)


def answer_text(payloads: list[dict[str, object]]) -> str:
    return html.unescape(block_text(payloads[-1]["blocks"]))  # type: ignore[arg-type]


def long_text(words: int = 500) -> str:
    return " ".join(f"word{i}" for i in range(words))  # about 3,500 characters


def test_a_capital_private_after_a_chapter_option_is_asked_about(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    out = harness.say(BOB, "/reflect", "ch 2 Private thoughts are overrated")
    assert "Private, or shared?" in out
    assert my_reflections(harness, BOB) == []


def test_parts_can_be_switched_in_one_click_like_any_confirmation(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", long_text())
    parts = next(b for b in buttons(last_ephemeral(harness)) if "parts" in b[0])
    saved = click(harness, BOB, parts[1], parts[2])
    switch = [b for b in buttons(saved[-1]) if b[1] == blocks.SWITCH_ACTION]
    assert switch and switch[0][0] == "Make them private"
    click(harness, BOB, switch[0][1], switch[0][2])
    assert {r.visibility for r in my_reflections(harness, BOB)} == {Visibility.PRIVATE}
    assert thread_texts(harness) == []


def test_a_text_wrapped_in_curly_quotes_keeps_them_balanced(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "“private: curly quoted”")
    (mine,) = my_reflections(harness, BOB)
    assert mine.visibility is Visibility.PRIVATE
    assert mine.text.count("“") == mine.text.count("”")


def test_edit_asks_about_a_capital_private_and_the_answer_edits_not_adds(
    harness: Harness,
) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "A shared first draft")
    out = harness.say(BOB, "/reflect", "edit 1 Private thoughts are overrated shared?")
    assert "Private, or shared?" in out
    (mine,) = my_reflections(harness, BOB)
    assert (mine.text, mine.visibility) == ("A shared first draft", Visibility.SHARED)
    as_typed = next(b for b in buttons(last_ephemeral(harness)) if b[0] == "Share it as written")
    answer = click(harness, BOB, as_typed[1], as_typed[2])
    assert "Updated" in answer_text(answer) or "edited" in answer_text(answer)
    (mine,) = my_reflections(harness, BOB)
    assert (mine.number, mine.text, mine.visibility) == (
        1,
        "Private thoughts are overrated shared?",
        Visibility.SHARED,
    )


def test_a_long_edit_of_a_private_reflection_saved_in_parts_stays_private_and_edits_it(
    harness: Harness,
) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "private: short private one")
    long = long_text()
    out = harness.say(BOB, "/reflect", f"edit 1 ch 3 {long}")
    assert "the limit is 3,000" in out
    parts = next(b for b in buttons(last_ephemeral(harness)) if "parts" in b[0])
    click(harness, BOB, parts[1], parts[2])
    mine = my_reflections(harness, BOB)
    assert [(r.number, r.chapter, r.visibility) for r in mine] == [
        (1, 3, Visibility.PRIVATE),
        (2, 3, Visibility.PRIVATE),
    ]
    assert "word0" in mine[0].text and "word499" in mine[1].text
    assert "word0" not in everything_posted(harness)


def test_trimming_a_long_edit_in_the_form_shows_the_new_text(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "private: short private one")
    harness.say(BOB, "/reflect", f"edit 1 {long_text()}")
    trim = next(b for b in buttons(last_ephemeral(harness)) if b[0] == "Trim it in a form")
    click(harness, BOB, trim[1], trim[2])
    (view,) = harness.emulator.open_views(BOB)
    shown = json_text(view)
    assert "word0" in shown and "short private one" not in shown


def json_text(value: object) -> str:
    import json

    return json.dumps(value)


def test_keeping_a_long_text_private_gives_the_parts_and_form_buttons(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", f"Private thoughts {long_text()}")
    keep = next(b for b in buttons(last_ephemeral(harness)) if b[0] == "Keep it private")
    answer = click(harness, BOB, keep[1], keep[2])
    labels = [b[0] for b in buttons(answer[-1])]
    assert any("parts" in label for label in labels) and "Trim it in a form" in labels
    parts = next(b for b in buttons(answer[-1]) if "parts" in b[0])
    click(harness, BOB, parts[1], parts[2])
    mine = my_reflections(harness, BOB)
    assert len(mine) == 2 and {r.visibility for r in mine} == {Visibility.PRIVATE}
    assert not mine[0].text.startswith("Private")


def test_a_subcommand_typed_with_a_colon_is_asked_about_not_posted(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    out = harness.say(BOB, "/reflect", "Quotable: off")
    assert "Did you mean" in out and "/reflect quotable off" in out
    assert my_reflections(harness, BOB) == [] and thread_texts(harness) == []


def test_numbers_are_never_reused_and_undo_restores_the_same_number(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "first")
    harness.say(BOB, "/reflect", "second")
    harness.say(BOB, "/reflect", "delete 2")
    undo = next(b for b in buttons(last_ephemeral(harness)) if b[0] == "Undo")
    harness.say(BOB, "/reflect", "third")
    click(harness, BOB, undo[1], undo[2])
    assert sorted((r.number, r.text) for r in my_reflections(harness, BOB)) == [
        (1, "first"),
        (2, "second"),
        (3, "third"),
    ]


def test_the_channel_name_a_first_command_carries_is_kept_for_exports(
    harness: Harness,
) -> None:
    start(harness)  # /book add first (no group yet), then /book start creates it
    with harness.runtime.services.reflections.uow() as unit:
        group = unit.groups.get(unit.workspaces.ensure(TEAM, harness.clock.now()), CLUB)
    assert group is not None and group.name == "book-club"


def test_after_a_cancelled_plan_reflections_are_not_filed_on_an_older_book(
    harness: Harness,
) -> None:
    start(harness, chapters=2, per_step=2)
    post_due(harness)
    harness.clock.advance(timedelta(days=8))
    harness.runtime.services.run_due()  # Dune's only step closes: the plan finishes
    harness.say(ALICE, "/book", "add Emma | Jane Austen | 3")
    today = harness.clock.now().date().isoformat()
    harness.say(ALICE, "/book", f"start Emma every monday at 09:00 from {today}")
    harness.say(ALICE, "/book", "cancel")
    out = harness.say(BOB, "/reflect", "ch 1 after cancel text")
    assert "no reading plan" in out.lower()
    assert my_reflections(harness, BOB) == []


def test_confirmations_name_the_book(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    out = harness.say(BOB, "/reflect", "The spice must flow")
    assert "Dune" in out


def test_status_after_the_book_ends_says_it_finished(harness: Harness) -> None:
    start(harness, chapters=2, per_step=2)
    post_due(harness)
    harness.clock.advance(timedelta(days=8))
    harness.runtime.services.run_due()
    out = harness.say(BOB, "/book", "status")
    assert "Dune" in out and "finished" in out.lower()
    again = harness.say(ALICE, "/book", "finish")
    assert "already finished" in again.lower() and "/book start" in again


def test_only_the_host_or_an_admin_posts_a_digest_others_see_it_privately(
    harness: Harness,
) -> None:
    start(harness)
    post_due(harness)
    harness.say(CAROL, "/reflect", "quotable on")
    harness.say(CAROL, "/reflect", "The desert is a character")
    before = len(harness.emulator.messages(CLUB))
    private = harness.say(BOB, "/book", "summary")  # Bob is neither host nor admin
    assert "Only you can see this" in private and "desert is a character" in private
    assert len(harness.emulator.messages(CLUB)) == before
    out = harness.say(CAROL, "/book", "summary")  # Carol is a workspace admin
    assert "Posted the digest" in out
    assert len(harness.emulator.messages(CLUB)) == before + 1


def test_plan_options_are_explained_when_mistyped(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    bad_days = harness.say(ALICE, "/book", "start 1 every -1 days")
    assert "whole number of days" in bad_days and "is not a weekday" not in bad_days
    today = harness.clock.now().date().isoformat()
    plural_day = harness.say(ALICE, "/book", f"start 1 every mondays at 09:00 from {today}")
    assert "started a reading plan" in plural_day
    again = harness.say(ALICE, "/book", "start 1")
    assert "/book cancel" in again
