"""Issues 11 and 12, second pass: what a new member found in the console, over real HTTP.

Each test is one finding of a console review (the exact input it used), failing before
its fix. Dates come from the test clock.
"""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest

from bot.domain.model import Visibility
from bot.slack.blocks import pairs as pair_blocks
from tests.harness import ALICE, BOB, CAROL, CLUB, DAVE, Harness, block_text
from tests.slack.test_mentoring_pairs import (
    TEAM,
    click_in,
    last_with,
    open_view,
    pair_up,
    post_next,
    start_book,
)
from tests.slack.test_reflection_loop import buttons, click, last_ephemeral
from tests.slack.test_reflection_loop import post_due as post_group_step
from tests.slack.test_reflection_loop import start as start_group


def everything_seen_by(harness: Harness, user: str) -> str:
    return html.unescape(
        " ".join(text for audience, text in harness.emulator.shown() if user in audience)
    )


def test_taking_a_reflection_back_leaves_no_copy_of_it_in_the_mentors_replies(
    harness: Harness,
) -> None:
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)
    secret = "Good companies fail by listening to their best customers"
    harness.say(ALICE, "/reflect", secret, channel=pair_channel)
    copy = last_with(harness, BOB, pair_blocks.REPLY_ACTION)
    click_in(harness, BOB, copy, pair_blocks.REPLY_ACTION)
    harness.submit(open_view(harness, BOB)["id"], {"text": {"value": "Why, do you think?"}}, BOB)
    answer = last_with(harness, ALICE, pair_blocks.ACTION_FROM_ACTION)
    click_in(harness, ALICE, answer, pair_blocks.REPLY_ACTION)
    harness.submit(open_view(harness, ALICE)["id"], {"text": {"value": "Incentives."}}, ALICE)
    harness.say(ALICE, "/reflect", "edit 1 private", channel=pair_channel)
    dm = harness.emulator.dm_channel(BOB)
    now_in_his_dm = " ".join(
        html.unescape(block_text(m.blocks)) for m in harness.emulator.messages(dm) if not m.deleted
    )
    assert "Incentives." in now_in_his_dm  # her reply to him stays: it was written for him
    assert secret not in now_in_his_dm  # but nothing of the reflection she took back


@pytest.mark.parametrize(
    "typed",
    [
        "away until Dec 30",
        "away until next friday",
        "away til 2026-12-30",
        "away untill 2026-12-30",
        "behind 3 dys",
        "quiet hours maybe",
        "quiet hour off",
    ],
)
def test_a_mistyped_own_pace_command_is_explained_never_posted(
    harness: Harness, typed: str
) -> None:
    start_group(harness)
    post_group_step(harness)
    out = harness.say(ALICE, "/reflect", typed)
    assert "Nothing was posted" in out or "Did you mean" in out, out
    assert harness.runtime.services.reflections.list_own(TEAM, ALICE) == []
    assert not any(typed in html.unescape(t) for t in harness.channel_texts(CLUB))


def test_catchup_in_one_word_is_understood(harness: Harness) -> None:
    start_group(harness)
    post_group_step(harness)
    assert "already at the group's pace" in harness.say(ALICE, "/reflect", "catchup")


def test_the_private_question_in_a_pair_offers_the_mentor_and_saves_what_it_says(
    harness: Harness,
) -> None:
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)
    out = harness.say(ALICE, "/reflect", "Private companies grow slowly", channel=pair_channel)
    assert "Private, or for your mentor?" in out
    labels = [b[0] for b in buttons(last_ephemeral(harness))]
    assert "Send it to my mentor as written" in labels
    choice = next(b for b in buttons(last_ephemeral(harness)) if b[0].startswith("Send it"))
    click(harness, ALICE, choice[1], choice[2])
    (mine,) = harness.runtime.services.reflections.list_own(TEAM, ALICE)
    assert (mine.visibility, mine.text) == (Visibility.MENTOR, "Private companies grow slowly")
    # In a group it is still the shared reading.
    start_group(harness)
    post_group_step(harness)
    assert "Private, or shared?" in harness.say(BOB, "/reflect", "Private companies grow slowly")


def test_the_away_forms_own_default_date_is_accepted(harness: Harness) -> None:
    start_group(harness)
    post_group_step(harness)
    harness.say(BOB, "/reflect", "quiet hours off")  # the nudge comes at night in New York
    harness.clock.advance(timedelta(days=6))
    harness.runtime.services.run_due()
    harness.drain()
    nudge = last_with(harness, BOB, "pace_away")
    click_in(harness, BOB, nudge, "pace_away")
    form = open_view(harness, BOB)
    default = json.dumps(form)
    response = harness.submit(form["id"], {}, BOB)  # Enter: the date it shows
    assert response.status == 200 and "errors" not in response.text, response.text
    assert harness.runtime.services.readers.position(TEAM, BOB, CLUB).away_until is not None
    assert "initial_date" in default


def test_a_private_digest_spoils_nothing_for_a_member_who_has_not_said_where_they_are(
    harness: Harness,
) -> None:
    start_group(harness, per_step=2)
    post_group_step(harness, steps=2)
    harness.say(CAROL, "/reflect", "quotable on")
    harness.say(CAROL, "/reflect", "ch 3 SPOILER chapter three reveal")
    harness.slack.member_joins(DAVE, CLUB, inviter=ALICE)  # joins mid-book, says nothing yet
    harness.drain()
    out = harness.say(DAVE, "/book", "summary book")
    assert "SPOILER" not in out and "won't spoil" in out
    harness.say(DAVE, "/reflect", "progress ch 4")
    assert "SPOILER" in harness.say(DAVE, "/book", "summary book")
    # The status line says what it knows of him, not "on schedule".
    assert "haven't said where you are" in harness.say(BOB, "/book", "status")
    harness.say(BOB, "/reflect", "progress ch 1")  # the group reads chapters 3–4
    assert "You: behind" in harness.say(BOB, "/book", "status")
