"""What a new member found wrong in the console, each fixed with this test first.

Over real HTTP into the bolt app, as the other Slack tests; the numbers refer to the
review's findings.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.model import Visibility
from tests.checks import present
from tests.harness import ALICE, BOB, CAROL, CLUB, Harness, block_text

TEAM = "T0EMULATOR1"


def start(harness: Harness, chapters: int = 4, per_step: int = 2, title: str = "Dune") -> None:
    harness.say(ALICE, "/book", f"add {title} | Frank Herbert | {chapters}")
    out = harness.say(ALICE, "/book", f"start {title} every monday at 09:00 {per_step} chapters")
    assert "started a reading plan" in out, out


def post_next(harness: Harness) -> None:
    services = harness.runtime.services
    following = services.plans.current(TEAM, CLUB).plan.next_step
    assert following is not None
    harness.clock.set(max(harness.clock.now(), following.due_at))
    services.run_due()
    harness.drain()


def buttons_of(message: Any) -> list[tuple[str, str, str]]:
    found = []
    for block in message.blocks if hasattr(message, "blocks") else message.get("blocks", []):
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "button":
                found.append((element["text"]["text"], element["action_id"], element["value"]))
    return found


def click_label(harness: Harness, user: str, label: str) -> None:
    """Click the button labelled ``label`` on the latest answer to ``user`` that has it."""
    for message in reversed(harness.emulator.ephemerals(user)):
        for text, action_id, value in buttons_of(message):
            if text == label:
                harness.click(user, message, action_id, value)
                return
    raise AssertionError(f"no [{label}] button for {user}")


def mine(harness: Harness, user: str) -> list[Any]:
    return harness.runtime.services.reflections.list_own(TEAM, user)


def channel_now(harness: Harness) -> str:
    """Everything live in the channel and its threads, as read."""
    texts = []
    for message in harness.emulator.messages(CLUB):
        if not message.deleted:
            texts.append(block_text(message.blocks) + "\n" + message.text)
            for reply in harness.emulator.thread(CLUB, message.ts):
                if not reply.deleted and reply.ts != message.ts:
                    texts.append(block_text(reply.blocks) + "\n" + reply.text)
    return html.unescape("\n".join(texts))


def digests_now(harness: Harness) -> str:
    """The digests live in the channel now (top-level messages with a "Who took part")."""
    texts = [
        block_text(m.blocks)
        for m in harness.emulator.messages(CLUB)
        if not m.deleted and "took part" in block_text(m.blocks)
    ]
    return html.unescape("\n".join(texts))


# --- 1: a misspelled "private" is asked about, never shared -----------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "prvate: my therapist says I should read more",
        "privat: my therapist says I should read more",
        "priv: my therapist says I should read more",
        "privately: my therapist says I should read more",
        "“private” my therapist says I should read more",
    ],
)
def test_a_misspelled_private_is_never_shared(harness: Harness, typed: str) -> None:
    start(harness)
    post_next(harness)
    out = harness.say(BOB, "/reflect", typed)
    saved = mine(harness, BOB)
    if saved:
        assert [r.visibility for r in saved] == [Visibility.PRIVATE], out
    else:
        assert "Private, or shared?" in out
    assert "therapist" not in channel_now(harness)


# --- 2: a posted digest stops quoting what its author took back ------------------------


@pytest.mark.parametrize("take_back", ["delete 1", "edit 1 private", "quotable off"])
def test_a_posted_digest_stops_quoting_words_taken_back(harness: Harness, take_back: str) -> None:
    start(harness, chapters=4, per_step=1)
    post_next(harness)
    harness.say(ALICE, "/reflect", "quotable on")
    harness.say(ALICE, "/reflect", "The zanzibar-marmalade passage moved me")
    post_next(harness)  # step 2: step 1's digest is posted, quoting alice
    assert "zanzibar-marmalade" in digests_now(harness)
    harness.say(ALICE, "/reflect", take_back)
    harness.runtime.services.run_due()
    harness.drain()
    assert "zanzibar-marmalade" not in digests_now(harness)


# --- 3: every button does what it says ---------------------------------------------------


def test_share_it_as_written_shares_it(harness: Harness) -> None:
    start(harness)
    post_next(harness)
    harness.say(BOB, "/reflect", "Private notes on the ending")
    click_label(harness, BOB, "Share it as written")
    assert [(r.text, r.visibility) for r in mine(harness, BOB)] == [
        ("Private notes on the ending", Visibility.SHARED)
    ]


def test_choosing_a_book_runs_the_one_chosen(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 4")
    harness.say(ALICE, "/book", "add Dune Messiah | Frank Herbert | 4")
    harness.say(ALICE, "/book", "start dun every monday at 09:00")
    (label,) = [
        b[0] for b in buttons_of(harness.emulator.ephemerals(ALICE)[-1]) if "Messiah" in b[0]
    ]
    click_label(harness, ALICE, label)
    assert harness.runtime.services.plans.current(TEAM, CLUB).book.title == "Dune Messiah"


# --- 4, 5: a command word with a few words more, and "Private" prose, are asked about ----


@pytest.mark.parametrize("typed", ["mute now", "list all", "progress please", "unmute please"])
def test_a_command_word_with_a_word_more_is_a_question_not_a_post(
    harness: Harness, typed: str
) -> None:
    start(harness)
    post_next(harness)
    out = harness.say(BOB, "/reflect", typed)
    assert "Did you mean" in out
    assert mine(harness, BOB) == [] and typed not in channel_now(harness)


def test_private_at_the_start_of_a_sentence_is_asked_about(harness: Harness) -> None:
    start(harness)
    post_next(harness)
    out = harness.say(BOB, "/reflect", "Private thoughts on Arrival are hard to put into words.")
    assert "Private, or shared?" in out and mine(harness, BOB) == []


# --- 6: history with a cancelled plan -------------------------------------------------------


def test_history_lists_a_cancelled_plan(harness: Harness) -> None:
    start(harness)
    harness.say(ALICE, "/book", "cancel")
    out = harness.say(ALICE, "/book", "history")
    assert "cancelled" in out and "went wrong" not in out


# --- 7: a long reflection is echoed whole ------------------------------------------------------


def test_a_long_reflection_reaches_the_thread_whole(harness: Harness) -> None:
    start(harness)
    post_next(harness)
    text = " ".join(["Sea & shore <tide>."] * 150)[:2990]
    harness.say(BOB, "/reflect", text)
    assert text.split()[-2] in channel_now(harness)
    assert text[-30:] in channel_now(harness).replace("\n> ", " ").replace("\n", " ")


# --- 8: numbers as words -----------------------------------------------------------------------


def test_numbers_written_as_words(harness: Harness) -> None:
    assert "(3 chapters)" in harness.say(ALICE, "/book", "add Trilogy | Someone | three")
    out = harness.say(ALICE, "/book", "start Trilogy every two days at 09:00 two chapters")
    assert "every 2 days" in out and "2 chapters per step" in out


# --- 9: a digest on demand after the book ended --------------------------------------------------


def test_summary_of_a_finished_book(harness: Harness) -> None:
    start(harness, chapters=1, per_step=1)
    post_next(harness)
    harness.say(BOB, "/reflect", "quotable on")
    harness.say(BOB, "/reflect", "What an ending")
    harness.clock.advance(timedelta(days=8))
    harness.runtime.services.run_due()
    harness.drain()
    out = harness.say(ALICE, "/book", "summary book")
    assert "Posted the digest" in out


# --- 10: a nudge speaks the member's own time -------------------------------------------------


def test_a_nudge_gives_the_deadline_in_the_members_own_time_zone(harness: Harness) -> None:
    start(harness)
    post_next(harness)
    view = harness.runtime.services.plans.current(TEAM, CLUB)
    harness.say(BOB, "/reflect", "quiet hours off")  # the nudge lands at 07:00 his time
    harness.clock.set(view.plan.steps[1].due_at - timedelta(hours=20))
    harness.runtime.services.run_due()
    harness.drain()
    dm = harness.emulator.dm_channel(BOB)  # Bob lives in America/New_York
    nudge = [block_text(m.blocks) for m in harness.emulator.messages(dm)]
    assert nudge and ("EST" in nudge[-1] or "EDT" in nudge[-1]), nudge


# --- 11, 12, 13, 14: wording ---------------------------------------------------------------------


def test_exporting_a_book_you_wrote_nothing_on_says_so(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Emma | Jane Austen | 3")
    start(harness)
    post_next(harness)
    harness.say(CAROL, "/reflect", "On Dune")
    out = harness.say(CAROL, "/reflect", "export Emma")
    assert "Emma" in out and "Save it as a reflection" not in out


def test_lists_and_app_home_name_the_book(harness: Harness) -> None:
    start(harness)
    post_next(harness)
    harness.say(BOB, "/reflect", "A thought")
    assert "Dune" in harness.say(BOB, "/reflect", "list")


def test_late_wording_says_it_once(harness: Harness) -> None:
    start(harness, chapters=1, per_step=1)
    post_next(harness)
    harness.clock.advance(timedelta(days=8))
    harness.runtime.services.run_due()
    harness.drain()
    out = harness.say(BOB, "/reflect", "Late but here")
    assert out.count("finished") == 1


def test_future_steps_do_not_read_as_overdue(harness: Harness) -> None:
    start(harness)
    out = harness.say(ALICE, "/book", "plan")
    assert " due" not in out.replace("was due", "")


# --- 15: near-duplicate books; removing asks first ------------------------------------------------


def test_a_title_differing_only_in_spacing_is_the_same_book(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add The Sea & the Shore: A Tale | O’Neil | 3")
    out = harness.say(ALICE, "/book", "add The Sea & the Shore : A Tale | O'Neil | 3")
    assert "already on the shelf" in out


def test_removing_a_book_asks_first(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Emma | Jane Austen | 3")
    out = harness.say(ALICE, "/book", "remove Emma")
    assert "Remove" in out and "Emma" in harness.say(ALICE, "/book", "list")
    click_label(harness, ALICE, "Remove “Emma”")
    assert "shelf is empty" in harness.say(ALICE, "/book", "list")


# --- 16, 17: headings and errors read right --------------------------------------------------------


def test_a_long_title_heading_is_never_cut_inside_an_entity(harness: Harness) -> None:
    title = "A" * 140 + " & " + "B" * 30
    harness.say(ALICE, "/book", f"add {title} | Someone | 2")
    harness.say(ALICE, "/book", "start 1 every monday at 09:00")
    status = harness.command(ALICE, "/book", "status")[-1]
    heading = next(b for b in status["blocks"] if b["type"] == "header")["text"]["text"]
    assert not heading.rstrip("…").endswith(("&", "&a", "&am", "&amp"))


def test_errors_show_no_raw_slack_markup(harness: Harness) -> None:
    start(harness)
    out = harness.say(ALICE, "/book", "edit Dune | chapters: 9")
    assert "<#" not in out and "C0BOOKCLUB1" not in out


# --- 19: separators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "text"), [("Private. Secret I.", "Secret I."), ("private：secret K", "secret K")]
)
def test_other_separators_after_private(harness: Harness, typed: str, text: str) -> None:
    start(harness)
    post_next(harness)
    harness.say(BOB, "/reflect", typed)
    assert [(r.text, r.visibility) for r in mine(harness, BOB)] == [(text, Visibility.PRIVATE)]


# --- 20: the admin export names people and channels -------------------------------------------------


def test_admin_export_without_slack_uses_the_names_commands_carried(harness: Harness) -> None:
    """`readalong export` may run with no Slack token: the names slash commands carried
    (user_name, channel_name) are what it has."""
    from bot.services.export import ExportService

    start(harness)
    post_next(harness)
    harness.say(CAROL, "/reflect", "quotable on")
    harness.say(CAROL, "/reflect", "For the record")
    offline = ExportService(harness.runtime.services.plans.uow, harness.clock)
    text = json.dumps(offline.record(), ensure_ascii=False)
    assert "carol" in text and "book-club" in text


def test_console_style_names_reach_the_markdown_record(harness: Harness) -> None:
    from bot.domain.export import record_markdown

    start(harness)
    post_next(harness)
    harness.say(CAROL, "/reflect", "quotable on")
    harness.say(CAROL, "/reflect", "For the record")
    markdown = record_markdown(harness.runtime.services.exports.record())
    assert "step-1" not in markdown


def test_sections_and_headers_are_cut_between_entities_not_inside_them() -> None:
    from bot.slack.blocks.base import header, section

    title = "B" * 140 + " & <more>"
    heading = present(header(title).text).text
    # Plain text: the & as typed (no entity to cut in half), < and > as look-alikes.
    assert len(heading) <= 150 and "&amp" not in heading and "&" in heading
    assert "<" not in heading and "‹more›" in heading
    from bot.slack.text import escape

    body = present(section(escape("x" * 2996 + " & <!channel>")).text).text
    assert len(body) <= 3000
    tail = body.rstrip("…")
    assert not tail.endswith(("&", "&a", "&am", "&amp", "&l", "&lt"))


def test_markdown_headings_are_as_safe_as_the_text() -> None:
    from datetime import UTC, date, datetime, time

    from bot.domain.export import member_post
    from bot.domain.model import Book, Cadence, Chapter, Plan, Reflection

    book = Book(1, "The Sea & the <Shore>", "O'Neil", [Chapter(1, "The “Harbour” & <Tide>")], id=1)
    plan = Plan(
        1, 1, "U1", Cadence.weekly(0, time(9)), 1, date(2026, 12, 7), "UTC", datetime.now(UTC)
    )
    plan.id = 1
    from bot.domain.schedule import build_steps

    plan.steps = build_steps(1, 1, plan.cadence, plan.start_date, "UTC")
    mine = [
        Reflection(1, 1, "U1", "Tides & <relief>", Visibility.SHARED, datetime.now(UTC), chapter=1)
    ]
    from bot.domain.markup import Names

    post = member_post(
        book=book,
        plan=plan,
        author_name="A",
        reflections=mine,
        others=[],
        quotable=set(),
        names=Names(),
        today=date.today(),
    )
    headings = [line for line in post.splitlines() if line.startswith("#")]
    # Escaped as Markdown reads literally (\<), never a raw tag that would vanish as HTML.
    assert headings and all("\\<Tide>" in h or "\\<Shore>" in h for h in headings), headings
    assert not any(re.search(r"(?<!\\)<(Tide|Shore)>", h) for h in headings), headings


def test_a_deleted_reflection_can_be_restored_with_one_click(harness: Harness) -> None:
    start(harness)
    post_next(harness)
    harness.say(BOB, "/reflect", "ch 2 private: keep this one")
    harness.say(BOB, "/reflect", "a second thought")
    out = harness.say(BOB, "/reflect", "delete 1")
    assert "Deleted reflection #1" in out
    click_label(harness, BOB, "Undo")
    restored = {r.number: r for r in mine(harness, BOB)}
    assert (restored[1].text, restored[1].chapter, restored[1].visibility) == (
        "keep this one",
        2,
        Visibility.PRIVATE,
    )
    assert "keep this one" not in channel_now(harness)
