"""Gaps in the reflection loop's coverage, over real HTTP against the Slack emulator.

- A DM nudge's Reflect button files the reflection on the nudge's (older) step.
- A title with ``&`` and ``<`` is escaped exactly once in App Home and in forms.
- A plan cannot be started where the bot cannot post, by command or by form.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.model import Reflection, Visibility
from bot.services.plans import CANT_SEE_CHANNEL
from bot.slack import blocks
from tests.checks import present
from tests.harness import ALICE, BOB, CLUB, Harness, block_text
from tests.slack.test_member_review import post_next

TEAM = "T0EMULATOR1"
HIDDEN = "C0HIDDEN001"
TITLE = "Pride & Prejudice <3"
ESCAPED_TITLE = "Pride &amp; Prejudice &lt;3"


def start(harness: Harness, chapters: str = "6", title: str = "Dune") -> None:
    harness.say(ALICE, "/book", f"add {title} | Frank Herbert | {chapters}")
    today = harness.clock.now().date().isoformat()
    out = harness.say(
        ALICE, "/book", f"start {title} every monday at 09:00 2 chapters from {today}"
    )
    assert "started a reading plan" in out, out


def thread_texts(harness: Harness, number: int) -> list[str]:
    ts = present(harness.runtime.services.plans.current(TEAM, CLUB).plan.step(number).message_ts)
    return [
        html.unescape(block_text(m.blocks) or m.text)
        for m in harness.emulator.thread(CLUB, ts)
        if m.ts != ts and not m.deleted
    ]


def my_reflections(harness: Harness, user: str) -> list[Reflection]:
    return harness.runtime.services.reflections.list_own(TEAM, user)


def text_objects(node: Any, kind: str) -> list[str]:
    """The ``text`` of every text object of type ``kind`` (mrkdwn / plain_text) in ``node``."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == kind and isinstance(node.get("text"), str):
            found.append(node["text"])
        for value in node.values():
            found += text_objects(value, kind)
    elif isinstance(node, list):
        for value in node:
            found += text_objects(value, kind)
    return found


# --- a DM nudge's Reflect button files on the nudge's step -----------------------------------


def test_reflect_button_on_an_older_dm_nudge_files_on_that_step_after_the_next_prompt(
    harness: Harness,
) -> None:
    start(harness)
    post_next(harness)  # step 1: chapters 1–2
    services = harness.runtime.services
    harness.say(BOB, "/reflect", "quiet hours off")  # nudge him whatever the hour in New York
    second = services.plans.current(TEAM, CLUB).plan.step(2)
    harness.clock.set(second.due_at - timedelta(hours=20))  # under a day before step 2
    assert services.run_due().reminded >= 1
    harness.drain()
    dm = harness.emulator.dm_channel(BOB)
    (nudge,) = [m for m in harness.emulator.messages(dm) if "nudge" in block_text(m.blocks)]
    assert "chapters 1–2" in html.unescape(block_text(nudge.blocks))

    post_next(harness)  # step 2 (chapters 3–4) is out: it is now the step being read
    plan = services.plans.current(TEAM, CLUB).plan
    assert plan.step(2).message_ts is not None
    assert [m.ts for m in harness.emulator.messages(dm) if "nudge" in block_text(m.blocks)] == [
        nudge.ts
    ]

    response = harness.slack.block_action(
        user_id=BOB, channel_id=dm, message_ts=nudge.ts, action_id=blocks.REFLECT_ACTION
    )
    assert response.status == 200
    harness.drain()
    form = harness.last_view(BOB)
    assert form["callback_id"] == "reflect_submit"
    assert "step 1: chapters 1–2" in html.unescape(block_text(form["blocks"]))
    answer = harness.submit(
        form["id"],
        {
            "chapter": {"value": "current"},
            "text": {"value": "Catching up on the opening"},
            "visibility": {"value": "shared"},
        },
        BOB,
    )
    assert answer.status == 200 and not answer.body.strip(b"{} \n"), answer.text

    (saved,) = my_reflections(harness, BOB)
    assert (saved.text, saved.step_number, saved.chapter, saved.visibility) == (
        "Catching up on the opening",
        1,
        None,
        Visibility.SHARED,
    )
    assert saved.plan_id == plan.id
    listed = harness.say(BOB, "/reflect", "list")
    assert "step 1" in listed and "step 2" not in listed, listed
    assert any("Catching up on the opening" in t for t in thread_texts(harness, 1))
    assert not any("Catching up on the opening" in t for t in thread_texts(harness, 2))
    # Step 1 counts as reflected: chapters 1–2 of 6.
    assert "2 of 6 chapters" in harness.say(BOB, "/reflect", "progress")


# --- escaping once: App Home and forms ----------------------------------------------------------


def test_a_title_with_ampersand_and_angle_bracket_is_escaped_once_in_app_home(
    harness: Harness,
) -> None:
    start(harness, title=TITLE)
    post_next(harness)
    harness.say(BOB, "/reflect", "Mr Darcy & the letter")
    assert harness.slack.app_home_opened(BOB).status == 200
    harness.drain()
    home = present(harness.emulator.home_view(BOB))
    assert home["type"] == "home"
    mrkdwn = text_objects(home["blocks"], "mrkdwn")
    titled = [t for t in mrkdwn if "Prejudice" in t]
    # The group's line and the latest reflection's label both name the book.
    assert len(titled) >= 2, mrkdwn
    for text in titled:
        assert ESCAPED_TITLE in text, text
        assert "&amp;amp;" not in text and "&amp;lt;" not in text, text
        assert TITLE not in text and "<3" not in text, text
    assert any("Mr Darcy &amp; the letter" in t for t in mrkdwn), mrkdwn
    raw = str(home["blocks"])
    assert "&amp;amp;" not in raw and "&amp;lt;" not in raw


def test_a_title_with_ampersand_and_angle_bracket_reads_right_in_the_forms(
    harness: Harness,
) -> None:
    start(harness, chapters="Balls & Bonnets; Letters <3; Vows", title=TITLE)
    post_next(harness)
    harness.command(BOB, "/reflect", "")
    form = harness.last_view(BOB)
    assert form["callback_id"] == "reflect_submit"
    mrkdwn = text_objects(form["blocks"], "mrkdwn")
    plain = text_objects(form["blocks"], "plain_text")
    (heading,) = [t for t in mrkdwn if "Prejudice" in t]
    assert f"*{ESCAPED_TITLE}*" in heading and "&amp;amp;" not in heading
    assert TITLE not in heading
    # Plain text is shown literally: "&" as typed, never an entity; "<" as a look-alike.
    assert "Chapter 1: Balls & Bonnets" in plain and "Chapter 2: Letters ‹3" in plain, plain
    assert not any("&amp;" in t or "&lt;" in t or "<" in t for t in plain), plain
    assert form["title"]["text"] == "Reflect"
    saved = harness.submit(
        form["id"],
        {
            "chapter": {"value": "1"},
            "text": {"value": "Balls & letters"},
            "visibility": {"value": "private"},
        },
        BOB,
    )
    assert saved.status == 200 and not saved.body.strip(b"{} \n"), saved.text
    (reflection,) = my_reflections(harness, BOB)
    assert (reflection.text, reflection.chapter) == ("Balls & letters", 1)

    # The plan form lists the book in plain text too: the title as typed.
    harness.say(ALICE, "/book", "cancel")
    harness.command(ALICE, "/book", "start")
    plan_form = harness.last_view(ALICE)
    assert plan_form["callback_id"] == "plan_start"
    options = [o["text"] for o in plan_form["blocks"][0]["element"]["options"]]
    assert all(o["type"] == "plain_text" for o in options)
    assert [o["text"] for o in options] == ["#1 Pride & Prejudice ‹3 — Frank Herbert"]


# --- no plan where the bot cannot post ------------------------------------------------------------


def hidden_channel(harness: Harness, *, private: bool) -> None:
    """A channel Alice and Bob are in, but not the bot."""
    harness.emulator.add_channel(HIDDEN, "reading-room", is_private=private, members=[ALICE, BOB])


def nothing_started(harness: Harness, posted_before: int) -> None:
    services = harness.runtime.services
    assert services.plans.find_current(TEAM, HIDDEN) is None
    assert services.plans.history(TEAM, HIDDEN) == []
    assert len(harness.emulator.calls_to("chat.postMessage")) == posted_before
    assert not any("started a reading plan" in t for t in harness.channel_texts(HIDDEN))
    assert services.plans.find_current(TEAM, CLUB) is None
    assert "no reading plan" in harness.say(ALICE, "/book", "status", channel=HIDDEN).lower()


@pytest.mark.parametrize("private", [True, False], ids=["private", "public"])
def test_starting_a_plan_by_command_where_the_bot_is_not_is_refused(
    harness: Harness, private: bool
) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    hidden_channel(harness, private=private)
    posted = len(harness.emulator.calls_to("chat.postMessage"))
    today = harness.clock.now().date().isoformat()
    answers = harness.command(
        ALICE, "/book", f"start Dune every monday at 09:00 from {today}", channel=HIDDEN
    )
    assert [a.get("response_type") for a in answers] == ["ephemeral"]
    said = html.unescape(block_text(answers[0].get("blocks") or []) or answers[0]["text"])
    assert "I can't post in this conversation" in said and "/invite @Readalong" in said
    assert "something went wrong" not in said.lower()
    nothing_started(harness, posted)
    # Invited, the bot can post there: the same command starts the plan.
    harness.slack.member_joins(harness.emulator.bot_user_id, HIDDEN, inviter=ALICE)
    harness.drain()
    out = harness.say(ALICE, "/book", f"start Dune every monday at 09:00 from {today}", HIDDEN)
    assert "started a reading plan" in out, out
    assert harness.runtime.services.plans.current(TEAM, HIDDEN).book.title == "Dune"


@pytest.mark.parametrize("private", [True, False], ids=["private", "public"])
def test_starting_a_plan_by_form_where_the_bot_is_not_is_refused(
    harness: Harness, private: bool
) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    hidden_channel(harness, private=private)
    posted = len(harness.emulator.calls_to("chat.postMessage"))
    harness.command(ALICE, "/book", "start", channel=HIDDEN)
    form = harness.last_view(ALICE)
    assert form["callback_id"] == "plan_start"
    values = {
        "book": {"value": form["blocks"][0]["element"]["options"][0]["value"]},
        "weekday": {"value": "0"},
        "at": {"value": "09:00"},
        "chapters": {"value": "2"},
        "start": {"value": harness.clock.now().date().isoformat()},
        "tz": {"value": "Europe/Berlin"},
    }
    ephemerals = len(harness.emulator.ephemerals(ALICE))
    refused = harness.submit(form["id"], values, ALICE)
    assert refused.status == 200
    body = refused.json()
    # The form stays open and says why, on the book it would have started.
    assert body["response_action"] == "errors"
    assert body["errors"] == {"book": CANT_SEE_CHANNEL}
    assert "I can't post in this conversation" in body["errors"]["book"]
    assert harness.last_view(ALICE)["id"] == form["id"]
    assert len(harness.emulator.ephemerals(ALICE)) == ephemerals  # no second, stray answer
    nothing_started(harness, posted)
    # Invited, the bot can post there: the same form starts the plan.
    harness.slack.member_joins(harness.emulator.bot_user_id, HIDDEN, inviter=ALICE)
    harness.drain()
    harness.command(ALICE, "/book", "start", channel=HIDDEN)
    again = harness.last_view(ALICE)
    started = harness.submit(again["id"], values, ALICE)
    assert started.status == 200 and not started.body.strip(b"{} \n"), started.text
    assert harness.runtime.services.plans.current(TEAM, HIDDEN).book.title == "Dune"
    assert any("started a reading plan" in t for t in harness.channel_texts(HIDDEN))
