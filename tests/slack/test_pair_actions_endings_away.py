"""Mentoring pairs and own pace, the gaps the other tests leave, over real HTTP against
the emulator: an action item ticked off (by command and by its buttons) is shown done and
drops out of the next prompt's reminder while an open one stays; the mentor leaving ends
the pair cleanly; asking an active pair to pair again is refused; a member going away
changes nothing the group sees and gets no nudge while away. Dates come from the clock.
"""

from __future__ import annotations

import html
import json
from datetime import timedelta

from bot.domain.model import PairState, PlanState, Visibility
from bot.emulator.models import Message
from bot.slack.blocks import pairs as pair_blocks
from tests.harness import ALICE, BOB, CAROL, CLUB, Harness, block_text
from tests.slack.test_mentoring_pairs import (
    TEAM,
    click_in,
    dm_messages,
    dm_texts,
    last_with,
    pair_up,
    post_next,
    start_book,
)
from tests.slack.test_own_pace import nudges, plan, run_until
from tests.slack.test_own_pace import start as start_group
from tests.slack.test_reflection_loop import buttons

REMINDER = "Last time you planned to"


def prompt_of(harness: Harness, channel: str, number: int) -> Message:
    """The prompt of step ``number`` in ``channel`` (exactly one)."""
    (prompt,) = [
        m
        for m in harness.emulator.messages(channel)
        if not m.deleted and f": step {number} of" in block_text(m.blocks)
    ]
    return prompt


def reminder_in(prompt: Message) -> str:
    """The "Last time you planned to …" part of a prompt ("" when it has none)."""
    text = html.unescape(block_text(prompt.blocks))
    return text.split(REMINDER, 1)[1] if REMINDER in text else ""


def done_labels(message: Message) -> list[str]:
    return [
        label
        for label, action_id, _value in buttons({"blocks": message.blocks})
        if action_id.startswith(pair_blocks.DONE_ACTION)
    ]


def invitations(harness: Harness, user: str) -> int:
    """How many invitations to pair the bot sent to ``user``'s DM (answered or not)."""
    dm = harness.emulator.dm_channel(user)
    return sum(
        1
        for call in harness.emulator.calls_to("chat.postMessage")
        if call.params.get("channel") in (dm, user)
        and pair_blocks.ACCEPT_ACTION in json.dumps(call.params.get("blocks"))
    )


def shown_to_others(
    harness: Harness, mark: tuple[int, int, int], user: str
) -> list[tuple[frozenset[str], str]]:
    """What the bot showed anyone but ``user`` since ``mark`` (a post addressed to a user
    id lands in that user's DM)."""
    out = []
    for audience, text in harness.emulator.shown(mark):
        if not audience:
            addressed = json.loads(text).get("channel")
            audience = frozenset({addressed}) if str(addressed).startswith("U") else audience
        if audience != frozenset({user}):
            out.append((audience, text))
    return out


def test_ticked_off_action_items_show_done_and_leave_the_next_prompts_reminder(
    harness: Harness,
) -> None:
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)  # step 1
    items = ["Map my product to the jobs lens", "Interview two customers", "Draft a blog post"]
    for number, text in enumerate(items, start=1):
        out = harness.say(ALICE, "/mentor", f"action {text}", channel=pair_channel)
        assert f"Added action item {number}: {text}" in out, out
    one, two, three = items

    # By command: either of the two ticks one off, by its number.
    out = harness.say(ALICE, "/mentor", "done 1", channel=pair_channel)
    assert f"Ticked off action item 1: {one}" in out, out
    for person in (ALICE, BOB):
        listing = harness.say(person, "/mentor", "actions", channel=pair_channel)
        assert f"~1. {one}~" in listing, listing  # shown done (struck through)…
        assert f"*2.* {two}" in listing and f"*3.* {three}" in listing  # …the others open
        assert f"*1.* {one}" not in listing
    (answer,) = harness.command(ALICE, "/mentor", "actions", channel=pair_channel)
    assert [b[0] for b in buttons(answer) if b[1].startswith(pair_blocks.DONE_ACTION)] == [
        "Mark 2 done",
        "Mark 3 done",
    ]
    assert "already done" in harness.say(BOB, "/mentor", "done 1", channel=pair_channel)
    assert "no action item 9" in harness.say(BOB, "/mentor", "done 9", channel=pair_channel)

    # The next prompt reminds them of the open ones only.
    post_next(harness, pair_channel)  # step 2
    prompt = prompt_of(harness, pair_channel, 2)
    reminder = reminder_in(prompt)
    assert two in reminder and three in reminder, reminder
    assert one not in html.unescape(block_text(prompt.blocks))
    assert done_labels(prompt) == ["Mark 2 done", "Mark 3 done"]

    # The prompt's own button: the mentor ticks 3 off there, and is told privately.
    click_in(harness, BOB, prompt, f"{pair_blocks.DONE_ACTION}:3")
    told = html.unescape(" ".join(harness.ephemeral_texts(BOB)))
    assert f"Ticked off action item 3: {three}" in told, told
    listing = harness.say(ALICE, "/mentor", "actions", channel=pair_channel)
    assert f"~3. {three}~" in listing and f"*2.* {two}" in listing, listing
    # The DM that announced item 1 still shows its button: a second tick is refused.
    announced = next(m for m in dm_messages(harness, BOB) if "Mark 1 done" in done_labels(m))
    click_in(harness, BOB, announced, f"{pair_blocks.DONE_ACTION}:1")
    assert "already done" in html.unescape(harness.ephemeral_texts(BOB)[-1])

    post_next(harness, pair_channel)  # step 3
    prompt = prompt_of(harness, pair_channel, 3)
    text = html.unescape(block_text(prompt.blocks))
    assert two in reminder_in(prompt), text  # the one still open is still reminded
    assert one not in text and three not in text
    assert done_labels(prompt) == ["Mark 2 done"]

    # Once none is open, the prompt has no reminder at all.
    assert f"Ticked off action item 2: {two}" in harness.say(
        BOB, "/mentor", "done 2", channel=pair_channel
    )
    post_next(harness, pair_channel)  # step 4
    prompt = prompt_of(harness, pair_channel, 4)
    assert REMINDER not in block_text(prompt.blocks) and done_labels(prompt) == []


LATER = ("leave", "action Call the customer", "done 1", "goals", "publish")


def the_mentor_leaves(harness: Harness) -> str:
    """A pair mid-book, with a reflection for the mentor and an open action item; then
    the mentor (Bob) leaves. Returns the pair's conversation."""
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)  # step 1
    harness.say(ALICE, "/reflect", "For Bob: my worry about the launch", channel=pair_channel)
    harness.say(ALICE, "/mentor", "action Talk to my manager", channel=pair_channel)
    out = harness.say(BOB, "/mentor", "leave", channel=pair_channel)
    assert "You left the pair" in out, out
    return pair_channel


def test_the_mentor_leaving_ends_the_pair_tells_the_mentee_and_leaves_nothing_half_made(
    harness: Harness,
) -> None:
    services = harness.runtime.services
    pair_channel = the_mentor_leaves(harness)
    (pair,) = services.pairs.pairs_of(TEAM, ALICE)
    assert (pair.state, pair.ended_by, pair.ended_at) == (
        PairState.ENDED,
        BOB,
        harness.clock.now(),
    )
    told = [t for t in dm_texts(harness, ALICE) if "left your mentoring pair" in t]
    assert len(told) == 1 and f"<@{BOB}>" in told[0], told
    assert not any("left your mentoring pair" in t for t in dm_texts(harness, BOB))
    assert "no reading plan" in harness.say(ALICE, "/book", "status", channel=pair_channel).lower()
    for person in (ALICE, BOB):
        assert "ended" in harness.say(person, "/mentor", "list")

    # Later pair commands from either of the two are refused and change nothing.
    for person in (ALICE, BOB):
        for typed in LATER:
            out = harness.say(person, "/mentor", typed, channel=pair_channel)
            assert ":warning:" in out, (person, typed, out)
            assert "Added action item" not in out and "Ticked off" not in out
            assert "You left the pair" not in out
            assert harness.emulator.open_views(person) == []  # no goals or publish form
    _pair, actions = services.pairs.actions(TEAM, ALICE, pair_channel)
    assert [(n, i.text, i.done_at) for n, i in actions] == [(1, "Talk to my manager", None)]
    # The buttons of the pair: the mentor's Reply, and "Mark 1 done".
    click_in(harness, BOB, last_with(harness, BOB, pair_blocks.REPLY_ACTION), "pair_reply")
    assert "ended" in html.unescape(harness.ephemeral_texts(BOB)[-1])
    assert harness.emulator.open_views(BOB) == []
    announced = next(m for m in dm_messages(harness, BOB) if done_labels(m))
    click_in(harness, BOB, announced, pair_blocks.DONE_ACTION)
    assert "not active" in html.unescape(harness.ephemeral_texts(BOB)[-1])
    assert services.pairs.actions(TEAM, ALICE, pair_channel)[1][0][1].done_at is None

    # Time passes: no more prompts in the pair's conversation, no look-back, nothing new.
    before = len(harness.emulator.messages(pair_channel))
    dms_before = {p: len(dm_messages(harness, p)) for p in (ALICE, BOB)}
    harness.clock.advance(timedelta(days=30))
    services.run_due()
    harness.drain()
    assert len(harness.emulator.messages(pair_channel)) == before
    assert {p: len(dm_messages(harness, p)) for p in (ALICE, BOB)} == dms_before
    assert [p.state for p in services.pairs.pairs_of(TEAM, ALICE)] == [PairState.ENDED]
    (mine,) = services.reflections.list_own(TEAM, ALICE)
    assert mine.visibility is Visibility.MENTOR  # her words stay hers, as she wrote them


def test_pair_commands_in_a_pair_the_mentor_left_say_the_pair_has_ended(
    harness: Harness,
) -> None:
    pair_channel = the_mentor_leaves(harness)
    # Told what happened ("your pair has ended"), not that this conversation was never a
    # pair's, nor that the pair never started a book. Every answer, collected first.
    unclear = [
        (person, typed, out)
        for person in (ALICE, BOB)
        for typed in LATER
        if "ended" not in (out := harness.say(person, "/mentor", typed, channel=pair_channel))
    ]
    assert unclear == []


def test_the_action_items_of_a_pair_the_mentor_left_offer_no_dead_done_button(
    harness: Harness,
) -> None:
    pair_channel = the_mentor_leaves(harness)
    # Its items can still be read, without a "Mark 1 done" that can only be refused.
    for person in (ALICE, BOB):
        (answer,) = harness.command(person, "/mentor", "actions", channel=pair_channel)
        assert "Talk to my manager" in html.unescape(block_text(answer.get("blocks") or []))
        assert [b for b in buttons(answer) if b[1].startswith(pair_blocks.DONE_ACTION)] == []


def test_asking_an_active_pair_to_pair_again_is_refused_and_sends_no_invitation(
    harness: Harness,
) -> None:
    services = harness.runtime.services
    pair_channel = pair_up(harness)
    (pair,) = services.pairs.pairs_of(TEAM, ALICE)
    assert [invitations(harness, p) for p in (ALICE, BOB)] == [0, 1]
    channel_count = len(harness.emulator.messages(pair_channel))
    opened = len(harness.emulator.calls_to("conversations.open"))
    mark = harness.emulator.shown_mark()
    attempts = [
        (ALICE, "@bob", CLUB),  # the same ask again
        (ALICE, "@bob", pair_channel),  # from the pair's own conversation
        (BOB, "mentee @alice", CLUB),  # the mentor offering again
        (BOB, "@alice", CLUB),  # the other way round
        (ALICE, "mentee @bob", CLUB),
    ]
    for user, typed, channel in attempts:
        out = harness.say(user, "/mentor", typed, channel=channel)
        assert "already a pair" in out, (user, typed, out)
        assert "I've asked" not in out
    assert services.pairs.pairs_of(TEAM, ALICE) == [pair]
    assert services.pairs.pairs_of(TEAM, BOB) == [pair]
    assert len(harness.emulator.messages(pair_channel)) == channel_count
    # Nothing but the refusals reached anyone: no invitation, no new group DM.
    shown = harness.emulator.shown(mark)
    assert [audience for audience, _text in shown] == [frozenset({u}) for u, _t, _c in attempts]
    assert len(harness.emulator.calls_to("conversations.open")) == opened
    assert [invitations(harness, p) for p in (ALICE, BOB)] == [0, 1]


def test_a_member_going_away_changes_nothing_the_group_sees_and_is_not_nudged_meanwhile(
    harness: Harness,
) -> None:
    services = harness.runtime.services
    start_group(harness)
    run_until(harness, plan(harness).step(1).due_at)  # step 1 is posted
    back = harness.clock.now().date() + timedelta(days=14)
    steps = plan(harness).steps
    # Steps 1 and 2 are due while he is away; step 3 comes after he is back.
    status_before = {p: harness.say(p, "/book", "status") for p in (ALICE, CAROL)}
    club_before = len(harness.emulator.messages(CLUB))
    mark = harness.emulator.shown_mark()

    out = harness.say(BOB, "/reflect", f"away until {back.isoformat()}")
    assert "away until" in out, out
    position = services.readers.position(TEAM, BOB, CLUB)
    assert position.away_until is not None
    assert steps[1].due_at < position.away_until <= steps[2].due_at
    assert len(harness.emulator.shown(mark)) == 1  # his own answer…
    assert shown_to_others(harness, mark, BOB) == []  # …to him alone
    assert len(harness.emulator.messages(CLUB)) == club_before
    assert {p: harness.say(p, "/book", "status") for p in (ALICE, CAROL)} == status_before

    # Steps 2 and 3 come; the reminders of steps 1 and 2 fall while he is away.
    run_until(harness, steps[3].due_at + timedelta(hours=1))
    # Carol was nudged for the steps he was away for, so nudges did run then.
    carols = " ".join(text for _when, text in nudges(harness, CAROL))
    assert "chapter 1 of" in carols and "chapter 2 of" in carols, carols
    bobs = nudges(harness, BOB)
    assert bobs, "he was not nudged after coming back either"
    assert all(when >= position.away_until for when, _text in bobs), bobs
    assert all("chapter 3 of" in text for _when, text in bobs), bobs  # step 3's only
    # The group's channel got the prompts and nothing else; nobody but he read a word
    # about him being away.
    posted = [block_text(m.blocks) for m in harness.emulator.messages(CLUB)[club_before:]]
    assert [text.split("\n")[0] for text in posted] == [
        f"📖 Dune: step {n} of {len(steps)}" for n in (2, 3, 4)
    ], posted
    for audience, text in shown_to_others(harness, mark, BOB):
        assert BOB not in text and "bob" not in text.lower(), (audience, text)
        assert "away until" not in text.replace("/reflect away until YYYY-MM-DD", ""), text


def test_an_ended_pairs_conversation_starts_no_new_book_for_the_one_who_left(
    harness: Harness,
) -> None:
    """The group DM outlives the pair (Slack keeps it, with whoever left in it): a new
    book there would send the one who left its prompts and nudges, and echo the other's
    shared words to them. So it is refused, saying why, and nothing starts."""
    pair_channel = the_mentor_leaves(harness)
    posted = len(harness.emulator.messages(pair_channel))
    out = harness.say(ALICE, "/book", "start innovator every monday at 09:00", channel=pair_channel)
    assert "pair has ended" in out and "/mentor @name" in out, out
    (only,) = harness.runtime.services.plans.history(TEAM, pair_channel)  # the pair's book
    assert only.plan.state is PlanState.CANCELLED  # stopped when the mentor left
    assert "There is no reading plan" in harness.say(ALICE, "/book", "status", channel=pair_channel)
    assert len(harness.emulator.messages(pair_channel)) == posted
