"""Issue 11, mentoring pairs, over real HTTP against the emulator: a pair created and
accepted, a plan, a prompt, a reflection for the mentor, feedback, a reply back, an
action item carried into the next prompt, the look-back at the end, a publish request,
the mentor's consent, the file sent. Dates come from the test clock.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.bootstrap import build_runtime
from bot.config import Settings
from bot.domain.errors import InvalidInput
from bot.domain.model import PairState, Role, Visibility
from bot.emulator.client import SlackAppClient
from bot.emulator.models import Message
from bot.emulator.server import SlackEmulator
from bot.services.ports import FakeClock
from bot.serving import HttpServer
from bot.slack.blocks import pairs as pair_blocks
from tests.harness import ALICE, BOB, CAROL, CLUB, DAVE, SECRET, Harness, block_text
from tests.slack.test_reflection_loop import buttons

TEAM = "T0EMULATOR1"
BOOK = "The Innovator’s Dilemma"


def dm_messages(harness: Harness, user: str) -> list[Message]:
    """What the bot sent to ``user``'s DM, oldest first."""
    dm = harness.emulator.workspace.dm_channel(user)
    return harness.emulator.messages(dm)


def dm_texts(harness: Harness, user: str) -> list[str]:
    return [html.unescape(block_text(m.blocks) or m.text) for m in dm_messages(harness, user)]


def click_in(harness: Harness, user: str, message: Message, action_prefix: str) -> None:
    """Click the first button whose action id starts with ``action_prefix`` on ``message``."""
    _label, action_id, value = next(
        b for b in buttons({"blocks": message.blocks}) if b[1].startswith(action_prefix)
    )
    harness.click(user, message, action_id, value)


def last_with(harness: Harness, user: str, action_prefix: str) -> Message:
    return next(
        m
        for m in reversed(dm_messages(harness, user))
        if any(b[1].startswith(action_prefix) for b in buttons({"blocks": m.blocks}))
    )


def pair_up(harness: Harness, mentee: str = ALICE, mentor: str = BOB) -> str:
    """The mentee asks, the mentor accepts: returns the pair's conversation."""
    name = harness.emulator.workspace.user(mentor).name
    out = harness.say(mentee, "/mentor", f"@{name}")
    assert "I've asked" in out, out
    click_in(harness, mentor, last_with(harness, mentor, pair_blocks.ACCEPT_ACTION), "pair_accept")
    pair = harness.runtime.services.pairs.pairs_of(TEAM, mentee)[0]
    assert pair.state is PairState.ACTIVE and pair.channel_id
    return pair.channel_id


def start_book(harness: Harness, channel: str, chapters: int = 4) -> None:
    harness.say(ALICE, "/book", f"add {BOOK} | Clayton Christensen | {chapters}", channel=channel)
    today = harness.clock.now().date().isoformat()
    out = harness.say(
        ALICE,
        "/book",
        f"start innovator every monday at 09:00 1 chapters from {today}",
        channel=channel,
    )
    assert "started a reading plan" in out, out


def post_next(harness: Harness, channel: str) -> None:
    view = harness.runtime.services.plans.current(TEAM, channel)
    following = view.plan.next_step
    assert following is not None
    harness.clock.set(max(harness.clock.now(), following.due_at))
    harness.runtime.services.run_due()
    harness.drain()


def open_view(harness: Harness, user: str) -> dict[str, Any]:
    return harness.last_view(user)


def test_a_pair_reads_reflects_talks_plans_looks_back_and_publishes_together(
    harness: Harness,
) -> None:
    services = harness.runtime.services
    pair_channel = pair_up(harness)
    # The pair's conversation is a group DM of the two and the bot, with a welcome.
    members = set(harness.emulator.workspace.channel(pair_channel).members)
    assert members == {ALICE, BOB, harness.emulator.bot_user_id}
    welcome = html.unescape(" ".join(harness.channel_texts(pair_channel)))
    assert "mentoring pair" in welcome and "(mentee)" in welcome and "(mentor)" in welcome

    start_book(harness, pair_channel)
    post_next(harness, pair_channel)  # step 1's prompt, in the pair's conversation

    # A reflection for the mentor: the default in a pair.
    secret = "Need to talk to Bob about this 1:1 — my team & <!channel> worries"
    out = harness.say(ALICE, "/reflect", secret, channel=pair_channel)
    assert "for your mentor" in out and "Only you and your mentor can see it" in out
    (mine,) = services.reflections.list_own(TEAM, ALICE)
    assert mine.visibility is Visibility.MENTOR
    copy = last_with(harness, BOB, pair_blocks.REPLY_ACTION)
    assert secret in html.unescape(block_text(copy.blocks))
    assert "<!channel>" not in json.dumps(copy.blocks)  # escaped: it pings nobody
    # …and nowhere else: not the pair's thread, not the club.
    assert not any(secret in t for t in harness.channel_texts(pair_channel))
    assert not any(secret in t for t in harness.channel_texts(CLUB))

    # The mentor reads and replies privately.
    click_in(harness, BOB, copy, pair_blocks.READ_ACTION)
    assert services.reflections.list_own(TEAM, ALICE)[0].mentor_read_at is not None
    click_in(harness, BOB, copy, pair_blocks.REPLY_ACTION)
    form = open_view(harness, BOB)
    assert secret in html.unescape(block_text(form["blocks"]))
    harness.submit(form["id"], {"text": {"value": "Let's talk Thursday. Try the jobs lens."}}, BOB)
    reply = last_with(harness, ALICE, pair_blocks.ACTION_FROM_ACTION)
    assert "Try the jobs lens" in html.unescape(block_text(reply.blocks))
    assert "✓ read by your mentor" in harness.say(ALICE, "/reflect", "list", channel=pair_channel)
    for person in (ALICE, BOB, CAROL):
        harness.slack.app_home_opened(person)
    harness.drain()
    home = {
        p: html.unescape(json.dumps(harness.emulator.home_view(p))) for p in (ALICE, BOB, CAROL)
    }
    assert "Try the jobs lens" in home[ALICE] and "read by your mentor" in home[ALICE]
    assert "Need to talk to Bob" in home[BOB]  # written for him
    assert "Need to talk to Bob" not in home[CAROL] and "jobs lens" not in home[CAROL]

    # The mentee answers back, and turns the reply into an action item.
    click_in(harness, ALICE, reply, pair_blocks.REPLY_ACTION)
    harness.submit(open_view(harness, ALICE)["id"], {"text": {"value": "Thursday works."}}, ALICE)
    assert any("Thursday works." in t for t in dm_texts(harness, BOB))
    click_in(harness, ALICE, reply, pair_blocks.ACTION_FROM_ACTION)
    form = open_view(harness, ALICE)
    assert "Try the jobs lens" in json.dumps(form)  # pre-filled with the reply
    harness.submit(form["id"], {"text": {"value": "Map my product to the jobs lens"}}, ALICE)
    assert any("Map my product to the jobs lens" in t for t in dm_texts(harness, BOB))

    # The agreement: goals written by the mentee, agreed by the mentor.
    harness.say(ALICE, "/mentor", "goals", channel=pair_channel)
    form = open_view(harness, ALICE)
    harness.submit(
        form["id"],
        {
            "hopes": {"value": "Lead a product team in five years"},
            "goals": {"value": "- Spot disruption early\n- Write about it in public"},
        },
        ALICE,
    )
    agreement = last_with(harness, BOB, pair_blocks.AGREE_ACTION)
    assert "Spot disruption early" in html.unescape(block_text(agreement.blocks))
    click_in(harness, BOB, agreement, pair_blocks.AGREE_ACTION)
    assert services.pairs.pairs_of(TEAM, ALICE)[0].goals_agreed_at is not None

    # The next prompt reminds the pair of the open action item.
    post_next(harness, pair_channel)
    prompt = html.unescape(harness.channel_texts(pair_channel)[-1])
    assert "Last time you planned to" in prompt and "Map my product to the jobs lens" in prompt

    # The end of the book: both are asked to look back at their goals.
    post_next(harness, pair_channel)
    post_next(harness, pair_channel)
    harness.clock.advance(timedelta(days=8))
    services.run_due()
    harness.drain()
    # The ask waits for both to be awake: it is the small hours in New York (Bob's zone),
    # and it goes out at the first tick after 08:00 there.
    new_york = ZoneInfo(harness.emulator.workspace.user(BOB).tz)
    assert harness.clock.now().astimezone(new_york).hour < 8
    assert not any("Time to look back" in t for p in (ALICE, BOB) for t in dm_texts(harness, p))
    morning = harness.clock.now().astimezone(new_york).replace(hour=8, minute=0)
    harness.clock.set(morning - timedelta(minutes=1))
    services.run_due()
    assert not any("Time to look back" in t for t in dm_texts(harness, BOB))
    harness.clock.set(morning)
    services.run_due()
    harness.drain()
    for person in (ALICE, BOB):
        ask = last_with(harness, person, pair_blocks.LOOK_BACK_ACTION)
        assert "Spot disruption early" in html.unescape(block_text(ask.blocks))
    click_in(harness, ALICE, last_with(harness, ALICE, pair_blocks.LOOK_BACK_ACTION), "pair_look")
    harness.submit(
        open_view(harness, ALICE)["id"], {"text": {"value": "I spot it now, mostly."}}, ALICE
    )
    assert any("I spot it now, mostly." in t for t in dm_texts(harness, BOB))
    services.run_due()  # the look-back is asked once
    assert sum("Time to look back" in t for t in dm_texts(harness, BOB)) == 1

    # Publishing together: the mentee picks, the mentor consents note by note, approves.
    harness.say(ALICE, "/mentor", "publish", channel=pair_channel)
    form = open_view(harness, ALICE)
    feedback = services.pairs.conversation(TEAM, ALICE, mine.id or 0).feedback
    bobs = [f for f in feedback if f.author_id == BOB]
    harness.submit(
        form["id"],
        {
            "reflections": {"value": [str(mine.id)]},
            "notes": {"value": [str(bobs[0].id)]},
        },
        ALICE,
    )
    request = last_with(harness, BOB, pair_blocks.APPROVE_ACTION)
    assert "Try the jobs lens" in html.unescape(block_text(request.blocks))
    assert harness.emulator.workspace.files() == []  # nothing before the mentor approves
    click_in(harness, BOB, request, pair_blocks.CONSENT_ACTION)
    click_in(harness, BOB, last_with(harness, BOB, pair_blocks.APPROVE_ACTION), "pair_publish_yes")
    (sent,) = harness.emulator.workspace.files()
    content = (sent.content or b"").decode()
    assert secret.split(" — ")[0] in content and "Try the jobs lens" in content
    assert "Thursday works." not in content  # only what was chosen and consented
    assert sent.channel == harness.emulator.workspace.dm_channel(ALICE)


def test_a_mentor_who_leaves_a_note_out_is_not_quoted_and_a_decline_sends_nothing(
    harness: Harness,
) -> None:
    services = harness.runtime.services
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)
    harness.say(ALICE, "/reflect", "ch 1 My first thoughts", channel=pair_channel)
    copy = last_with(harness, BOB, pair_blocks.REPLY_ACTION)
    click_in(harness, BOB, copy, pair_blocks.REPLY_ACTION)
    harness.submit(open_view(harness, BOB)["id"], {"text": {"value": "Not for print"}}, BOB)
    (mine,) = services.reflections.list_own(TEAM, ALICE)
    (note,) = services.pairs.conversation(TEAM, ALICE, mine.id or 0).feedback
    for approve in (True, False):
        harness.say(ALICE, "/mentor", "publish", channel=pair_channel)
        harness.submit(
            open_view(harness, ALICE)["id"],
            {"reflections": {"value": [str(mine.id)]}, "notes": {"value": [str(note.id)]}},
            ALICE,
        )
        action = pair_blocks.APPROVE_ACTION if approve else pair_blocks.REFUSE_ACTION
        click_in(harness, BOB, last_with(harness, BOB, action), action)
    (sent,) = harness.emulator.workspace.files()  # approved once, without consent to the note
    assert "My first thoughts" in (sent.content or b"").decode()
    assert "Not for print" not in (sent.content or b"").decode()
    assert any("declined your post" in t for t in dm_texts(harness, ALICE))


def test_bad_pairings_get_a_clear_answer_and_leave_nothing_half_made(harness: Harness) -> None:
    services = harness.runtime.services
    assert "yourself" in harness.say(ALICE, "/mentor", "@alice")
    assert "Bots can't" in harness.say(ALICE, "/mentor", "@readalong")
    assert "mention" in harness.say(ALICE, "/mentor", "@nobody-here")
    # Typed to look like a mention: text, never someone.
    assert "not a mention" in harness.say(ALICE, "/mentor", "<@U0BOB000001>")
    harness.emulator.workspace.user(DAVE).deleted = True
    with pytest.raises(InvalidInput, match="deactivated"):
        services.pairs.propose(TEAM, ALICE, DAVE, Role.MENTOR)
    assert services.pairs.pairs_of(TEAM, ALICE) == []
    harness.say(ALICE, "/mentor", "@bob")
    again = harness.say(ALICE, "/mentor", "@bob")
    assert "already have an invitation" in again
    assert "already have an invitation" in harness.say(BOB, "/mentor", "mentee @alice")
    assert len(services.pairs.pairs_of(TEAM, ALICE)) == 1
    # Only the invited person can answer.
    invite = last_with(harness, BOB, pair_blocks.ACCEPT_ACTION)
    response = harness.slack.block_action(
        user_id=CAROL,
        channel_id=invite.channel,
        message_ts=invite.ts,
        action_id=pair_blocks.ACCEPT_ACTION,
        value=buttons({"blocks": invite.blocks})[0][2],
    )
    assert response.status == 200
    harness.drain()
    assert services.pairs.pairs_of(TEAM, ALICE)[0].state is PairState.PROPOSED
    # Declined: the asker is told; nothing made.
    click_in(harness, BOB, invite, pair_blocks.DECLINE_ACTION)
    assert services.pairs.pairs_of(TEAM, ALICE)[0].state is PairState.DECLINED
    assert any("declined your invitation" in t for t in dm_texts(harness, ALICE))
    # Never answered: withdrawn after a week, the asker told once.
    harness.say(ALICE, "/mentor", "@carol")
    harness.clock.advance(timedelta(days=8))
    services.run_due()
    services.run_due()
    assert sum("expired" in t for t in dm_texts(harness, ALICE)) == 1
    stale = last_with(harness, CAROL, pair_blocks.ACCEPT_ACTION)
    click_in(harness, CAROL, stale, pair_blocks.ACCEPT_ACTION)
    assert all(p.state is not PairState.ACTIVE for p in services.pairs.pairs_of(TEAM, ALICE))


def test_a_mentee_who_leaves_mid_book_stops_the_plan_and_closes_the_conversation(
    harness: Harness,
) -> None:
    services = harness.runtime.services
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)
    harness.say(ALICE, "/reflect", "For Bob, before I go", channel=pair_channel)
    (mine,) = services.reflections.list_own(TEAM, ALICE)
    out = harness.say(ALICE, "/mentor", "leave", channel=pair_channel)
    assert "You left the pair" in out
    assert any("left your mentoring pair" in t for t in dm_texts(harness, BOB))
    assert "no reading plan" in harness.say(BOB, "/book", "status", channel=pair_channel).lower()
    copy = last_with(harness, BOB, pair_blocks.REPLY_ACTION)
    click_in(harness, BOB, copy, pair_blocks.REPLY_ACTION)
    assert "ended" in html.unescape(" ".join(harness.ephemeral_texts(BOB)))
    assert mine.visibility is Visibility.MENTOR


def test_feedback_on_a_reflection_made_private_or_deleted_is_refused_and_the_copy_withdrawn(
    harness: Harness,
) -> None:
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)
    for number, take_back in ((1, "edit 1 private"), (2, "delete 2")):
        harness.say(ALICE, "/reflect", f"Second thoughts {number}", channel=pair_channel)
        copy = last_with(harness, BOB, pair_blocks.REPLY_ACTION)
        click_in(harness, BOB, copy, pair_blocks.REPLY_ACTION)  # Bob starts a reply…
        form = open_view(harness, BOB)
        harness.say(ALICE, "/reflect", take_back, channel=pair_channel)  # …Alice takes it back
        now_shows = harness.emulator.workspace.find_message(copy.channel, copy.ts)
        assert now_shows is not None
        withdrawn = html.unescape(block_text(now_shows.blocks))
        assert f"Second thoughts {number}" not in withdrawn
        assert f"took reflection #{number} back" in withdrawn
        response = harness.submit(form["id"], {"text": {"value": "My kind reply"}}, BOB)
        errors = json.dumps(response.json())
        assert "made private" in errors or "deleted" in errors  # the form stays open
        assert not any("My kind reply" in t for t in dm_texts(harness, ALICE))
        harness.emulator.workspace.close_view(form["id"])


def test_for_my_mentor_outside_a_pair_is_refused_and_nothing_is_saved(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 3")
    today = harness.clock.now().date().isoformat()
    harness.say(ALICE, "/book", f"start Dune every monday at 09:00 from {today}")
    out = harness.say(BOB, "/reflect", "mentor: just between us")
    assert "For my mentor" in out and "private:" in out
    assert harness.runtime.services.reflections.list_own(TEAM, BOB) == []


@pytest.fixture
def programme(
    emulator: SlackEmulator, settings: Settings, clean_engine: Engine, clock: FakeClock
) -> Iterator[Harness]:
    """The harness, with Dave configured as the mentoring programme's admin."""
    runtime = build_runtime(dataclasses.replace(settings, mentoring_admins=[DAVE]), clock=clock)
    server = HttpServer(runtime.wsgi, "127.0.0.1", 0).start()
    slack = SlackAppClient(emulator, f"{server.url}/slack/events", SECRET)
    yield Harness(emulator, runtime, server, slack, clock)
    slack.close()
    server.stop()
    runtime.close()


def test_the_cohort_view_is_counts_for_the_programme_and_quiet_pairs_are_flagged_once(
    programme: Harness,
) -> None:
    harness = programme
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)
    harness.say(ALICE, "/reflect", "A secret strategy worry", channel=pair_channel)
    harness.say(ALICE, "/reflect", "private: my very own note", channel=pair_channel)
    assert "programme's admins" in harness.say(BOB, "/mentor", "cohort")
    cohort = harness.say(DAVE, "/mentor", "cohort")
    assert "1 active pair" in cohort and BOOK in cohort and "1 reflection," in cohort
    assert "secret strategy" not in cohort and "very own note" not in cohort  # counts only
    # Three quiet weeks: Dave is told privately, once; nobody else hears of it.
    harness.clock.advance(timedelta(days=21, hours=1))
    harness.runtime.services.run_due()
    harness.runtime.services.run_due()
    harness.drain()
    quiet = [t for t in dm_texts(harness, DAVE) if "has been quiet" in t]
    assert len(quiet) == 1 and "21 days" in quiet[0]
    assert not any("has been quiet" in t for p in (ALICE, BOB) for t in dm_texts(harness, p))


def test_either_of_the_pair_may_pause_resume_and_skip_others_may_not(harness: Harness) -> None:
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)  # Alice (the mentee) is the plan's host
    assert "paused" in harness.say(BOB, "/book", "pause", channel=pair_channel)
    assert "resumed" in harness.say(BOB, "/book", "resume", channel=pair_channel)
    assert "skipped step 1" in harness.say(BOB, "/book", "skip", channel=pair_channel)
    harness.emulator.workspace.join(pair_channel, DAVE)  # someone else, somehow
    assert (
        "only the plan's host" in harness.say(DAVE, "/book", "pause", channel=pair_channel).lower()
    )
