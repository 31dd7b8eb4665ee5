"""Wording slips a console tryout found, over real HTTP against the emulator: a poll's
result says what happened to ballots whose books were all counted out, and explains the
tie-break only when one was used (naming the round it decided); `/book status` counts
members who haven't said where they are in the singular and the plural; a chapter
titled only with its own label ("Chapter 1") reads "Chapter 1" once. Dates come from
the test clock.
"""

from __future__ import annotations

import html
import re
import urllib.request
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from bot.domain.model import Chapter
from bot.domain.polls import Candidate, Poll, PollState, instant_runoff
from bot.services.ports import FakeClock
from bot.slack import blocks
from bot.slack.blocks.polls import result_message
from tests.checks import present
from tests.harness import ALICE, BOB, CAROL, CLUB, DAVE, Harness, block_text
from tests.slack.test_polls import (
    ERIN,
    FRANK,
    close_at_its_time,
    club_of_five,
    current_poll,
    results,
    vote,
)
from tests.slack.test_read_button_and_calendar import ask_calendar

TEAM = "T0EMULATOR1"


def result_text(harness: Harness) -> str:
    """The poll's result in the channel, as a member reads it (without bold marks)."""
    (result,) = results(harness)
    return html.unescape(block_text(result.blocks)).replace("*", "")


def mentions_a_tie(text: str) -> bool:
    return re.search(r"\bties?\b|tie-break", text, re.IGNORECASE) is not None


# --- 1. the poll's result ------------------------------------------------------------------


def test_ballots_whose_books_all_went_out_are_said_to_have_none_left_in_the_count(
    harness: Harness,
) -> None:
    club_of_five(harness)
    harness.say(ALICE, "/book", "propose Dune | Frank Herbert | 22")
    harness.say(BOB, "/book", "propose Emma | Jane Austen | 3")
    harness.say(CAROL, "/book", "propose Middlemarch | George Eliot | 8")
    assert "Posted the ballot" in harness.say(ALICE, "/book", "poll")
    # Round 1: Dune 2, Emma 1, Middlemarch 2: Emma goes out (no tie), Frank's ballot
    # ranked only Emma. Round 2: Dune 2, Middlemarch 2 (a tie, level in round 1 too:
    # the later proposal, Middlemarch, goes out). Round 3: Dune 2, three ballots left
    # with no book still in the count, though every one of them ranked a book.
    for user, ranking in ((ALICE, [1]), (BOB, [1]), (CAROL, [3]), (ERIN, [3]), (FRANK, [2])):
        assert vote(harness, user, ranking) is None
    close_at_its_time(harness)
    text = result_text(harness)
    assert "ranked none of these" not in text, text
    assert "Round 2: Dune 2 · Middlemarch 2 (1 ballot had no book still in the count)" in text
    assert "Round 3: Dune 2 (3 ballots had no book still in the count) → Dune wins" in text
    # A tie-break was used, in round 2 only: the rule is stated, with the round it decided.
    assert "Ties: of the candidates with the fewest votes" in text, text
    assert (
        "The tie-break decided round 2: they were level in every round before too, so the "
        "later proposal, Middlemarch, went out."
    ) in text, text
    assert "decided round 1" not in text and "decided round 3" not in text


def test_a_count_without_a_tie_does_not_explain_the_tie_break(harness: Harness) -> None:
    harness.say(BOB, "/book", "propose Emma | Jane Austen | 3")
    harness.say(CAROL, "/book", "propose Persuasion | Jane Austen | 24")
    assert "Posted the ballot" in harness.say(ALICE, "/book", "poll")
    assert vote(harness, ALICE, [2]) is None
    assert vote(harness, BOB, [2, 1]) is None
    close_at_its_time(harness)
    text = result_text(harness)
    assert "Round 1: Emma 0 · Persuasion 2 → Persuasion wins" in text, text
    assert not mentions_a_tie(text), text
    # What the context always said stays: nobody's ballot is shown.
    assert "Nobody's ballot is shown, only how many ranked each book." in text


def test_a_tie_in_the_first_round_says_the_later_proposal_went_out(harness: Harness) -> None:
    harness.say(BOB, "/book", "propose Emma | Jane Austen | 3")
    harness.say(CAROL, "/book", "propose Persuasion | Jane Austen | 24")
    assert "Posted the ballot" in harness.say(ALICE, "/book", "poll")
    assert vote(harness, ALICE, [1]) is None
    assert vote(harness, BOB, [2]) is None
    close_at_its_time(harness)
    poll = current_poll(harness)
    assert poll.count is not None and poll.count.rounds[0].tie_broken
    text = result_text(harness)
    assert "Round 1: Emma 1 · Persuasion 1 → Persuasion goes out (a tie, broken as below)" in text
    assert "Round 2: Emma 1 (1 ballot had no book still in the count) → Emma wins" in text, text
    assert "The tie-break decided round 1: the later proposal, Persuasion, went out." in text


# --- 2. /book status -------------------------------------------------------------------------


def start_dune(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    today = harness.clock.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    out = harness.say(ALICE, "/book", f"start Dune every monday at 09:00 from {today}")
    assert "started a reading plan" in out, out


def test_status_counts_who_hasnt_said_where_they_are_in_singular_and_plural(
    harness: Harness,
) -> None:
    start_dune(harness)
    harness.say(ALICE, "/reflect", "progress ch 1")
    harness.say(BOB, "/reflect", "progress ch 1")
    harness.say(CAROL, "/reflect", "progress ch 1")
    assert "said where they are" not in harness.say(CAROL, "/book", "status")
    harness.emulator.workspace.join(CLUB, DAVE)  # says nothing
    one = harness.say(CAROL, "/book", "status")
    assert "· 1 hasn't said where they are yet" in one, one
    assert "1 haven't" not in one
    harness.emulator.add_user(ERIN, "erin", real_name="Erin Reader")
    harness.emulator.workspace.join(CLUB, ERIN)  # says nothing either
    two = harness.say(CAROL, "/book", "status")
    assert "· 2 haven't said where they are yet" in two, two


# --- 3. chapters titled only with their own label ------------------------------------------


def reflect_form(harness: Harness, user: str) -> dict[str, Any]:
    """Click Reflect on the step's prompt: the form it opens."""
    step = harness.runtime.services.plans.current(TEAM, CLUB).plan.step(1)
    response = harness.slack.block_action(
        user_id=user,
        channel_id=CLUB,
        message_ts=present(step.message_ts),
        action_id=blocks.REFLECT_ACTION,
        value=str(step.id),
    )
    assert response.status == 200, response.text
    harness.drain()
    return harness.last_view(user)


def chapter_options(form: dict[str, Any]) -> list[str]:
    (chapter,) = [b for b in form["blocks"] if b.get("block_id") == "chapter"]
    return [o["text"]["text"] for o in chapter["element"]["options"]]


def test_a_chapter_titled_only_chapter_n_reads_chapter_n_once(harness: Harness) -> None:
    out = harness.say(ALICE, "/book", "add Twice | Someone | Chapter 1; ch. 2; 3; Chapter 3; Storm")
    assert "Added" in out, out
    today = harness.clock.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    out = harness.say(ALICE, "/book", f"start Twice every monday at 09:00 5 chapters from {today}")
    assert "started a reading plan" in out, out
    step = harness.runtime.services.plans.current(TEAM, CLUB).plan.step(1)
    harness.clock.set(max(harness.clock.now(), step.due_at))
    harness.runtime.services.run_due()
    harness.drain()
    # The Reflect form's chapter choices (Chapter.label).
    assert chapter_options(reflect_form(harness, BOB))[1:] == [
        "Chapter 1",
        "Chapter 2",
        "Chapter 3",
        "Chapter 4: Chapter 3",  # not its own label: kept, it says something
        "Chapter 5: Storm",
    ]
    # The calendar feed's events list the step's chapters the same way.
    _answer, url = ask_calendar(harness, BOB)
    with urllib.request.urlopen(url) as answer:
        feed = icalendar.Calendar.from_ical(answer.read())
    (event,) = feed.walk("VEVENT")
    description = str(event.get("description"))
    assert "Chapter 1, Chapter 2, Chapter 3, Chapter 4: Chapter 3, Chapter 5: Storm" in description
    assert "Chapter 1: Chapter 1" not in description


def test_the_prompt_lists_a_chapter_titled_only_chapter_n_once(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Twice | Someone | Chapter 1; Chapter 2")
    today = harness.clock.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    out = harness.say(ALICE, "/book", f"start Twice every monday at 09:00 2 chapters from {today}")
    assert "started a reading plan" in out, out
    step = harness.runtime.services.plans.current(TEAM, CLUB).plan.step(1)
    harness.clock.set(max(harness.clock.now(), step.due_at))
    harness.runtime.services.run_due()
    harness.drain()
    prompt = next(t for t in harness.channel_texts() if "step 1 of 1" in t)
    assert "• Chapter 1\n• Chapter 2" in prompt, prompt
    assert "Chapter 1: Chapter 1" not in prompt


def test_each_tie_broken_is_explained_with_the_round_that_decided_it(clock: FakeClock) -> None:
    # Round 1: Persuasion goes out (alone). Round 2: Dune, Emma and Middlemarch tie on 3;
    # in round 1 Emma had fewer. Round 3: Dune and Middlemarch tie on 3, as in rounds 2
    # and 1: the later proposal goes out. Round 4: Sula wins.
    ballots = [(1,)] * 3 + [(2,)] * 2 + [(3,)] * 3 + [(4, 2)] + [(5, 3)] * 2 + [(5, 2)] * 2
    titles = ["Dune", "Emma", "Middlemarch", "Persuasion", "Sula"]
    now = clock.now()
    poll = Poll(1, 1, CLUB, ALICE, now, state=PollState.CLOSED, id=1)
    poll.candidates = [
        Candidate(1, n, t, "Someone", [Chapter(1)], ALICE, now)
        for n, t in enumerate(titles, start=1)
    ]
    poll.count = instant_runoff([1, 2, 3, 4, 5], ballots)
    text = block_text([b.to_dict() for b in result_message(poll).blocks]).replace("*", "")
    assert (
        "Round 1: Dune 3 · Emma 2 · Middlemarch 3 · Persuasion 1 · Sula 4 → Persuasion goes out\n"
        in text
    )
    assert "The tie-break decided round 2: Emma had fewer votes in round 1, so it went out." in text
    assert (
        "The tie-break decided round 3: they were level in every round before too, so the "
        "later proposal, Middlemarch, went out."
    ) in text
    assert text.count("The tie-break decided") == 2, text
