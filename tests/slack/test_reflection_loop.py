"""Issue 10, "Trust the reflection loop": every item seen in the field, over real HTTP.

Each test sends what a member typed (or clicked) as Slack would, to the real bolt app,
and looks at what reached Slack: the channel, threads, ephemeral answers, forms, files.
Dates are derived from the test clock; nothing waits for time to pass.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.model import Reflection, Visibility
from bot.slack import blocks
from tests.checks import present
from tests.harness import ALICE, BOB, CAROL, CLUB, Harness, block_text

TEAM = "T0EMULATOR1"


def start(
    harness: Harness, chapters: int = 6, per_step: int = 2, cadence: str = "every monday"
) -> None:
    harness.say(ALICE, "/book", f"add Dune | Frank Herbert | {chapters}")
    today = harness.clock.now().date().isoformat()
    out = harness.say(
        ALICE, "/book", f"start Dune {cadence} at 09:00 {per_step} chapters from {today}"
    )
    assert "started a reading plan" in out, out


def post_due(harness: Harness, steps: int = 1) -> None:
    """Let the scheduler post the next ``steps`` prompts, moving the clock to each."""
    services = harness.runtime.services
    for _ in range(steps):
        view = services.plans.current(TEAM, CLUB)
        following = view.plan.next_step
        assert following is not None
        harness.clock.set(max(harness.clock.now(), following.due_at))
        services.run_due()
        harness.drain()


def thread_texts(harness: Harness, number: int = 1) -> list[str]:
    view = harness.runtime.services.plans.current(TEAM, CLUB)
    ts = view.plan.step(number).message_ts
    assert ts is not None
    return [
        html.unescape(block_text(m.blocks) or m.text)
        for m in harness.emulator.thread(CLUB, ts)
        if m.ts != ts and not m.deleted
    ]


def everything_posted(harness: Harness) -> str:
    """Every text the bot sent anywhere a member other than the author could see."""
    texts = []
    for call in harness.emulator.calls_to("chat.postMessage") + harness.emulator.calls_to(
        "chat.update"
    ):
        texts.append(str(call.params.get("text")) + block_text(call.params.get("blocks") or []))
    return html.unescape("\n".join(texts))


def my_reflections(harness: Harness, user: str) -> list[Reflection]:
    return harness.runtime.services.reflections.list_own(TEAM, user)


def last_ephemeral(harness: Harness) -> dict[str, Any]:
    payload: dict[str, Any] = harness.emulator.response_url_posts()[-1]["payload"]
    return payload


def click(harness: Harness, user: str, action_id: str, value: str) -> list[dict[str, Any]]:
    """Click the button (``action_id``, ``value``) on the latest of the bot's answers to
    ``user`` that shows it; returns the answers the click caused."""
    message = next(
        m
        for m in reversed(harness.emulator.ephemerals(user))
        if any(b[1:] == (action_id, value) for b in buttons({"blocks": m.blocks}))
    )
    before = len(harness.emulator.response_url_posts())
    harness.click(user, message, action_id, value)
    return [p["payload"] for p in harness.emulator.response_url_posts()[before:]]


def buttons(payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, action_id, value) of every button in a reply."""
    found = []
    for block in payload.get("blocks") or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "button":
                found.append((element["text"]["text"], element["action_id"], element["value"]))
    return found


# --- #1: the visibility keyword -------------------------------------------------------


def test_private_with_a_colon_is_never_posted_and_the_confirmation_says_so(
    harness: Harness,
) -> None:
    start(harness)
    post_due(harness)
    out = harness.say(BOB, "/reflect", "private: nobody should see this")
    assert "Saved your private reflection" in out and "Only you can see it" in out
    assert "nobody should see this" not in everything_posted(harness)
    mine = my_reflections(harness, BOB)
    assert [(r.text, r.visibility) for r in mine] == [
        ("nobody should see this", Visibility.PRIVATE)
    ]
    assert ("Share it with the group", blocks.SWITCH_ACTION, "1:shared") in buttons(
        last_ephemeral(harness)
    )


def test_private_in_prose_keeps_every_word_and_is_shared_as_the_member_meant(
    harness: Harness,
) -> None:
    start(harness)
    post_due(harness)
    typed = "Private thoughts are overrated, here's a shared one."
    out = harness.say(BOB, "/reflect", typed)
    assert "Private, or shared?" in out and my_reflections(harness, BOB) == []
    share = next(b for b in buttons(last_ephemeral(harness)) if b[0] == "Share it as written")
    answers = click(harness, BOB, share[1], share[2])
    assert "Saved your shared reflection" in html.unescape(block_text(answers[-1]["blocks"]))
    assert [r.text for r in my_reflections(harness, BOB)] == [typed]
    assert any(typed in t for t in thread_texts(harness))


def test_an_unclear_private_asks_first_and_saves_nothing_until_answered(
    harness: Harness,
) -> None:
    start(harness)
    post_due(harness)
    out = harness.say(BOB, "/reflect", "Private notes on the ending")
    assert "Private, or shared?" in out and "nothing yet" in out.replace("anything", "nothing")
    assert my_reflections(harness, BOB) == []
    choices = buttons(last_ephemeral(harness))
    keep_private = next(c for c in choices if c[0] == "Keep it private")
    question = harness.emulator.ephemerals(BOB)[-1]
    answers = click(harness, BOB, keep_private[1], keep_private[2])
    assert "Saved your private reflection" in html.unescape(block_text(answers[-1]["blocks"]))
    assert [(r.text, r.visibility) for r in my_reflections(harness, BOB)] == [
        ("notes on the ending", Visibility.PRIVATE)
    ]
    assert "notes on the ending" not in everything_posted(harness)
    # The question was replaced by the answer: no stale button is left to click.
    assert not any(
        b[1].startswith(blocks.DRAFT_ACTION)
        for m in harness.emulator.ephemerals(BOB)
        if m.ts == question.ts
        for b in buttons({"blocks": m.blocks})
    )


def test_every_confirmation_offers_one_click_to_switch_visibility(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "The spice is a metaphor for oil.")
    assert any("metaphor for oil" in t for t in thread_texts(harness))
    switch = buttons(last_ephemeral(harness))[0]
    assert switch[:2] == ("Make it private", blocks.SWITCH_ACTION)
    answers = click(harness, BOB, switch[1], switch[2])
    assert "Saved your private reflection" in html.unescape(block_text(answers[-1]["blocks"]))
    assert not any("metaphor for oil" in t for t in thread_texts(harness))
    back = buttons(answers[-1])[0]
    click(harness, BOB, back[1], back[2])
    assert any("metaphor for oil" in t for t in thread_texts(harness))


# --- #2: edit takes the same keywords ---------------------------------------------------


def test_edit_with_private_hides_the_reflection_and_never_posts_the_new_text(
    harness: Harness,
) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "A shared first draft")
    assert any("shared first draft" in t for t in thread_texts(harness))
    out = harness.say(BOB, "/reflect", "edit 1 private I meant to keep this to myself")
    assert "Saved your private reflection" in out
    assert thread_texts(harness) == []
    assert "keep this to myself" not in everything_posted(harness)
    (mine,) = my_reflections(harness, BOB)
    assert (mine.text, mine.visibility) == ("I meant to keep this to myself", Visibility.PRIVATE)


# --- #6: filing reflections where the member meant --------------------------------------


def test_reflect_button_on_an_older_prompt_files_on_that_step(harness: Harness) -> None:
    start(harness)
    post_due(harness, steps=2)  # steps 1 (ch 1–2) and 2 (ch 3–4) are out
    view = harness.runtime.services.plans.current(TEAM, CLUB)
    first = view.plan.step(1)
    response = harness.slack.block_action(
        user_id=BOB,
        channel_id=CLUB,
        message_ts=present(first.message_ts),
        action_id=blocks.REFLECT_ACTION,
        value=str(first.id),
    )
    assert response.status == 200
    harness.drain()
    form = harness.last_view(BOB)
    shown = block_text(form["blocks"])
    assert "step 1: chapters 1–2" in shown
    harness.submit(
        form["id"],
        {
            "chapter": {"value": "current"},
            "text": {"value": "Back to the first chapters"},
            "visibility": {"value": "shared"},
        },
        BOB,
    )
    (saved,) = my_reflections(harness, BOB)
    assert saved.step_number == 1
    assert any("Back to the first chapters" in t for t in thread_texts(harness, 1))


def test_the_chapter_can_be_changed_on_edit(harness: Harness) -> None:
    start(harness)
    post_due(harness, steps=2)
    harness.say(BOB, "/reflect", "ch 1 About the opening")
    assert any("About the opening" in t for t in thread_texts(harness, 1))
    out = harness.say(BOB, "/reflect", "edit 1 ch 3")
    assert "chapter 3" in out
    (saved,) = my_reflections(harness, BOB)
    assert (saved.chapter, saved.step_number) == (3, 2)
    assert not any("About the opening" in t for t in thread_texts(harness, 1))
    assert any("About the opening" in t for t in thread_texts(harness, 2))


# --- #7: prose is never eaten as options --------------------------------------------------


def test_chapter_labels_and_sentences_are_filed_without_losing_words(harness: Harness) -> None:
    start(harness, chapters=12)
    post_due(harness)
    harness.say(
        BOB, "/reflect", "Chapter 7: you can't do market research on markets that don't exist"
    )
    harness.say(BOB, "/reflect", "chapter 7 is about discovery-driven planning.")
    assert [(r.chapter, r.text) for r in my_reflections(harness, BOB)] == [
        (7, "you can't do market research on markets that don't exist"),
        (7, "chapter 7 is about discovery-driven planning."),
    ]


# --- #8: typos of subcommands ----------------------------------------------------------------


@pytest.mark.parametrize(("typed", "meant"), [("lst", "list"), ("exprot", "export")])
def test_a_typo_is_a_question_with_buttons_never_a_public_post(
    harness: Harness, typed: str, meant: str
) -> None:
    start(harness)
    post_due(harness)
    before = len(harness.emulator.calls_to("chat.postMessage"))
    out = harness.say(BOB, "/reflect", typed)
    assert f"Did you mean `/reflect {meant}`?" in out
    assert len(harness.emulator.calls_to("chat.postMessage")) == before
    assert my_reflections(harness, BOB) == []
    run = next(b for b in buttons(last_ephemeral(harness)) if b[1].startswith(blocks.RUN_ACTION))
    assert run[2] == f"/reflect {meant}"


def test_the_run_button_runs_the_command_in_place(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "a real thought")
    harness.say(BOB, "/reflect", "lst")
    run = next(b for b in buttons(last_ephemeral(harness)) if b[1].startswith(blocks.RUN_ACTION))
    answers = click(harness, BOB, run[1], run[2])
    assert answers[-1].get("replace_original") is True
    assert "a real thought" in html.unescape(block_text(answers[-1]["blocks"]))


def test_book_typo_gets_a_hint(harness: Harness) -> None:
    out = harness.say(ALICE, "/book", "ad Dune | Frank Herbert | 6")
    assert "Did you mean `/book add Dune | Frank Herbert | 6`?" in out


# --- #9: one limit, the text comes back ------------------------------------------------------


def test_over_the_limit_the_text_comes_back_whole_and_can_be_saved_in_parts(
    harness: Harness,
) -> None:
    start(harness)
    post_due(harness)
    long = " ".join(f"word{i}" for i in range(700))  # about 5,000 characters
    out = harness.say(BOB, "/reflect", long)
    assert "the limit is 3,000" in out and "Nothing is saved yet" in out
    assert "word0" in out and "word699" in out  # given back whole
    assert my_reflections(harness, BOB) == []
    parts = next(b for b in buttons(last_ephemeral(harness)) if "parts" in b[0])
    click(harness, BOB, parts[1], parts[2])
    saved = my_reflections(harness, BOB)
    assert len(saved) == 2 and all(len(r.text) <= 3000 for r in saved)
    joined = " ".join(re.sub(r" \(\d/\d\)$", "", r.text) for r in saved)
    assert joined == long
    assert "3,000 characters" in harness.say(BOB, "/reflect", "help")


# --- #10: escaping once, in and out -----------------------------------------------------------


def test_ampersands_and_angle_brackets_read_right_everywhere(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Pride & Prejudice | Jane Austen | 3")
    listed = harness.command(ALICE, "/book", "list")
    raw = block_text(listed[-1]["blocks"])
    assert "Pride &amp; Prejudice" in raw and "&amp;amp;" not in raw
    today = harness.clock.now().date().isoformat()
    harness.say(ALICE, "/book", f"start Pride & Prejudice every monday at 09:00 from {today}")
    post_due(harness)
    harness.say(BOB, "/reflect", "Darcy < Elizabeth & that's <!channel> fine")
    (saved,) = my_reflections(harness, BOB)
    assert saved.text == "Darcy < Elizabeth & that's <!channel> fine"
    echo = [c for c in harness.emulator.calls_to("chat.postMessage") if c.params.get("thread_ts")][
        -1
    ]
    echoed = block_text(echo.params["blocks"])
    assert "Darcy &lt; Elizabeth &amp; that's &lt;!channel&gt; fine" in echoed
    assert "&amp;amp;" not in echoed and "<!channel>" not in echoed
    harness.say(BOB, "/reflect", "export")
    (post,) = harness.emulator.uploaded_files()
    assert "Pride & Prejudice" in post.text and "&amp;" not in post.text


# --- #12: late reflections on a finished plan -------------------------------------------------


def test_after_the_last_step_reflections_are_still_welcome(harness: Harness) -> None:
    start(harness, chapters=2, per_step=1)
    post_due(harness, steps=2)
    view = harness.runtime.services.plans.current(TEAM, CLUB)
    last = view.plan.step(2)
    harness.clock.set(last.due_at + timedelta(days=8))  # the plan closes itself a week later
    harness.runtime.services.run_due()
    harness.drain()
    assert "no reading plan" in harness.say(ALICE, "/book", "status").lower()
    out = harness.say(BOB, "/reflect", "Finished it at last!")
    assert "Saved your shared reflection" in out and "late reflection" in out
    (saved,) = my_reflections(harness, BOB)
    assert saved.step_number == 2
    # The nudge's form (a Reflect button on step 2) still works after the plan ended.
    harness.slack.block_action(
        user_id=CAROL,
        channel_id=CLUB,
        message_ts=present(last.message_ts),
        action_id=blocks.REFLECT_ACTION,
        value=str(last.id),
    )
    harness.drain()
    form = harness.last_view(CAROL)
    answer = harness.submit(
        form["id"],
        {
            "chapter": {"value": "current"},
            "text": {"value": "Late, but here"},
            "visibility": {"value": "shared"},
        },
        CAROL,
    )
    assert answer.status == 200 and not answer.body.strip()
    assert [r.text for r in my_reflections(harness, CAROL)] == ["Late, but here"]


# --- #13: books and plans as people use them ----------------------------------------------------


def test_bad_chapter_counts_are_refused_and_books_can_be_fixed_or_removed(
    harness: Harness,
) -> None:
    out = harness.say(ALICE, "/book", "add Dune | Frank Herbert | -3")
    assert "not a chapter count" in out and "/book add Dune | Frank Herbert | -3" in out
    assert "shelf is empty" in harness.say(ALICE, "/book", "list")
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 3")
    out = harness.say(ALICE, "/book", "edit Dune | title: Dune Messiah | chapters: 5")
    assert "Dune Messiah — Frank Herbert (5 chapters)" in out
    out = harness.say(ALICE, "/book", "edit Dune Messiah | chapter 2: The Emperor")
    book = harness.runtime.services.books.find(TEAM, "Dune Messiah")
    assert book.chapter(2).title == "The Emperor"
    assert "only whoever added" in harness.say(BOB, "/book", "remove Dune Messiah").lower()
    assert "Remove “Dune Messiah”" in harness.say(ALICE, "/book", "remove Dune Messiah")
    remove = next(b for b in buttons(last_ephemeral(harness)) if b[1] == blocks.REMOVE_ACTION)
    click(harness, ALICE, remove[1], remove[2])
    assert "shelf is empty" in harness.say(ALICE, "/book", "list")


def test_a_book_being_read_cannot_be_removed_and_a_mistaken_plan_can_be_cancelled(
    harness: Harness,
) -> None:
    start(harness)
    out = harness.say(ALICE, "/book", "remove Dune")
    assert "/book cancel" in out
    before = len(harness.emulator.calls_to("chat.postMessage"))
    harness.command(ALICE, "/book", "cancel")
    announced = [
        html.unescape(block_text(p.get("blocks") or []))
        for p in [x["payload"] for x in harness.emulator.response_url_posts()]
        if p.get("response_type") == "in_channel"
    ]
    assert "cancelled the plan" in announced[-1] and "Thanks for reading" not in announced[-1]
    harness.clock.advance(timedelta(days=60))
    harness.runtime.services.run_due()  # no prompts, no wrap-up
    harness.drain()
    assert len(harness.emulator.calls_to("chat.postMessage")) == before
    assert "Remove “Dune”" in harness.say(ALICE, "/book", "remove Dune")


# --- #14, #23: start dates -----------------------------------------------------------------------


def test_start_dates_in_the_past_or_far_ahead_are_refused_clearly(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    past = (harness.clock.now() - timedelta(days=6 * 365)).date().isoformat()
    out = harness.say(ALICE, "/book", f"start 1 from {past}")
    assert "in the past" in out and "something went wrong" not in out
    out = harness.say(ALICE, "/book", "start #1 every 365 days from 9999-06-01")
    assert "more than a year away" in out and "something went wrong" not in out
    assert "no reading plan" in harness.say(ALICE, "/book", "status").lower()


def test_starting_today_after_the_prompt_time_is_not_a_catch_up(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    now_berlin = harness.clock.now().astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    earlier = (now_berlin - timedelta(hours=1)).strftime("%H:%M")
    harness.say(ALICE, "/book", f"start Dune every day at {earlier}")
    harness.runtime.services.run_due()
    harness.drain()
    posted = everything_posted(harness)
    assert "missed" not in posted and "Posted late" not in posted


# --- #15: time zones ----------------------------------------------------------------------------


def test_fixed_offset_zones_are_refused_with_the_right_zone_one_click_away(
    harness: Harness,
) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    out = harness.say(ALICE, "/book", "start Dune every monday at 09:00 tz EST")
    assert "daylight saving" in out and "did you mean America/New_York?" in out
    (fix,) = [b for b in buttons(last_ephemeral(harness)) if b[1].startswith(blocks.RUN_ACTION)]
    assert fix[2] == "/book start Dune every monday at 09:00 tz America/New_York"
    out = harness.say(ALICE, "/book", "start Dune every monday at 09:00 tz London")
    assert "did you mean Europe/London?" in out
    click(harness, ALICE, fix[1], fix[2])
    assert harness.runtime.services.plans.current(TEAM, CLUB).plan.timezone == "America/New_York"


# --- #16: one matcher for titles ------------------------------------------------------------------


def test_titles_match_as_people_type_them(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add The Innovator's Dilemma | Clayton Christensen | 11")
    harness.say(ALICE, "/book", "add Cien años de soledad | Gabriel García Márquez | 20")
    out = harness.say(ALICE, "/book", "start The Innovator’s Dilemma every monday at 09:00")
    assert "started a reading plan" in out
    harness.say(ALICE, "/book", "cancel")
    assert "started a reading plan" in harness.say(
        ALICE, "/book", "start cien anos every monday at 09:00"
    )
    post_due(harness)
    harness.say(BOB, "/reflect", "Macondo feels alive.")
    harness.say(BOB, "/reflect", "export soledad")
    assert len(harness.emulator.uploaded_files()) == 1
    harness.say(ALICE, "/book", "add The Innovator's Solution | Clayton Christensen | 10")
    out = harness.say(ALICE, "/book", "edit Innovator")
    assert "matches several books" in out
    labels = [b[0] for b in buttons(last_ephemeral(harness))]
    assert any("Dilemma" in label for label in labels) and any("Solution" in x for x in labels)


# --- #17: streaks ----------------------------------------------------------------------------------


def test_an_open_step_does_not_break_a_streak(harness: Harness) -> None:
    start(harness, chapters=6, per_step=1)
    for _ in range(3):
        post_due(harness)
        harness.say(BOB, "/reflect", "Another good chapter.")
    post_due(harness)  # the next prompt has just been posted
    status = harness.say(ALICE, "/book", "status")
    assert "3/6 chapters · streak 3" in status


# --- #18: wording ---------------------------------------------------------------------------------


def test_singular_and_plural_read_right(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Novella | Someone | 1")
    assert "(1 chapter)" in harness.say(ALICE, "/book", "list")
    today = harness.clock.now().date().isoformat()
    out = harness.say(ALICE, "/book", f"start Novella every monday at 09:00 from {today}")
    assert "1 step." in out and "1 steps" not in out
    out = harness.say(ALICE, "/book", "questions 1 | Why so short?")
    assert "Saved 1 question for chapter 1." in out


def test_app_home_after_a_book_ends_shows_what_was_read(harness: Harness) -> None:
    start(harness, chapters=1, per_step=1)
    post_due(harness)
    harness.say(BOB, "/reflect", "Done.")
    harness.clock.advance(timedelta(days=8))
    harness.runtime.services.run_due()
    harness.drain()
    harness.slack.app_home_opened(BOB)
    harness.drain()
    home = block_text(present(harness.emulator.home_view(BOB))["blocks"])
    assert "not in a reading group yet" not in home
    assert "Dune" in home and "finished" in home.lower()


# --- #19: numbers per member ----------------------------------------------------------------------


def test_each_member_numbers_their_own_reflections(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    for i in range(3):
        harness.say(BOB, "/reflect", f"private: bob's note {i}")
    out = harness.say(CAROL, "/reflect", "My very first reflection")
    assert "#1" in out and "#4" not in out
    assert "no reflection #2" in harness.say(CAROL, "/reflect", "edit 2 hijack").lower()
    assert [r.number for r in my_reflections(harness, BOB)] == [1, 2, 3]


def test_book_edit_alone_opens_the_form_filled_in_and_saves_the_changes(
    harness: Harness,
) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | Desert; Spice; Worm")
    harness.command(ALICE, "/book", "edit Dune")
    form = harness.last_view(ALICE)
    assert form["callback_id"] == "book_edit"
    initial = {
        b["block_id"]: b["element"].get("initial_value") for b in form["blocks"] if "element" in b
    }
    assert initial == {
        "title": "Dune",
        "author": "Frank Herbert",
        "chapters": "Desert; Spice; Worm",
    }
    answer = harness.submit(
        form["id"],
        {
            "title": {"value": "Dune & Sons"},
            "author": {"value": "Frank Herbert"},
            "chapters": {"value": "Desert; Spice; Worm; Sand"},
        },
        ALICE,
    )
    assert answer.status == 200 and not answer.body.strip(), answer.text
    book = harness.runtime.services.books.find(TEAM, "Dune & Sons")
    assert [c.title for c in book.chapters] == ["Desert", "Spice", "Worm", "Sand"]
