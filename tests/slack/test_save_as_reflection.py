"""Issue 13, "Save as reflection", over real HTTP against the emulator: the message
shortcut on a message in a group's channel (or a pair's conversation) opens the
reflection form filled in from the message, and saves it like any reflection.

The quotable choice: someone else's words go into a member's reflection only if they
turned `/reflect quotable on`. If they have not, the form says so, their words do not
even travel in the form, and the reflection keeps the member's own words and a link to
the message. The member's own message is theirs: it fills the form, to edit. A bot's
message is linked, never copied (it may carry someone's reflection).
"""

from __future__ import annotations

import html
import json
from typing import Any

from bot.domain.model import Visibility
from bot.emulator import payloads
from bot.slack.listeners.reflections import SAVE_AS_REFLECTION
from tests.harness import ALICE, BOB, CAROL, CLUB, DAVE, OTHER, Harness, block_text
from tests.slack.test_mentoring_pairs import dm_texts, pair_up, post_next, start_book
from tests.slack.test_reflection_loop import everything_posted, post_due, start, thread_texts

TEAM = "T0EMULATOR1"


def posts(harness: Harness, user: str, typed: str, channel: str = CLUB) -> str:
    """The member types a message (as Slack stores it: entities, real mentions)."""
    wire = payloads.typed_message(harness.emulator.workspace, typed)
    ts, response = harness.slack.user_posts(user, channel, wire)
    assert response.status == 200
    harness.drain()
    return ts


def shortcut(harness: Harness, user: str, ts: str, channel: str = CLUB) -> dict[str, Any] | None:
    """Run "Save as reflection" on the message; the form it opened (None: none)."""
    opened = len(harness.emulator.calls_to("views.open"))
    response = harness.slack.message_shortcut(
        user_id=user, channel_id=channel, message_ts=ts, callback_id=SAVE_AS_REFLECTION
    )
    assert response.status == 200 and response.body in (b"", b"{}"), response.text
    harness.drain()
    if len(harness.emulator.calls_to("views.open")) == opened:
        return None
    return harness.last_view(user)


def form_text(form: dict[str, Any]) -> str:
    return html.unescape(block_text(form["blocks"]))


def save(
    harness: Harness,
    user: str,
    form: dict[str, Any],
    text: str | None,
    *,
    chapter: str = "current",
    visibility: str | None = None,
) -> dict[str, Any] | None:
    radios = next(b for b in form["blocks"] if b.get("block_id") == "visibility")["element"]
    chosen = visibility or radios["initial_option"]["value"]
    response = harness.submit(
        form["id"],
        {
            "chapter": {"value": chapter},
            "text": {"value": text},
            "visibility": {"value": chosen},
        },
        user,
    )
    assert response.status == 200
    answer = response.json()
    return dict(answer["errors"]) if answer else None


def test_someone_elses_words_go_in_only_if_they_agreed_to_be_quoted(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    words = "The sea & the <lighthouse> keep each other"
    ts = posts(harness, BOB, words)
    form = shortcut(harness, ALICE, ts)
    assert form is not None and form["title"]["text"] == "Save as reflection"
    shown = form_text(form)
    assert "bob has not agreed to be quoted (`/reflect quotable on`)" in shown
    assert "keep each other" not in json.dumps(form)  # not even in the form's metadata
    # Without a quote, the member's own words are needed.
    errors = save(harness, ALICE, form, "")
    assert errors == {"text": "Write something first."}
    assert save(harness, ALICE, form, "Bob says the sea and the light need each other.") is None
    (mine,) = harness.runtime.services.reflections.list_own(TEAM, ALICE)
    assert mine.text.startswith("Bob says the sea and the light need each other.\n\n↪ https://")
    assert f"/archives/{CLUB}/p{ts.replace('.', '')}" in mine.text
    assert "keep each other" not in mine.text and mine.visibility is Visibility.SHARED
    assert "keep each other" not in " ".join(thread_texts(harness))
    assert "Bob says the sea" in " ".join(thread_texts(harness))

    # Bob agrees to be quoted: his next message goes in whole, with his name and a link.
    harness.say(BOB, "/reflect", "quotable on")
    ts = posts(harness, BOB, "Ask @carol: is the keeper lonely & proud?")
    form = shortcut(harness, ALICE, ts)
    assert form is not None
    shown = form_text(form)
    assert "> Ask @carol: is the keeper lonely & proud?\n— bob" in shown, shown
    assert "<@U0CAROL0001>" not in json.dumps(form)  # names, never pings
    text_block = next(b for b in form["blocks"] if b.get("block_id") == "text")
    assert text_block["optional"] is True  # the quote alone is a reflection
    assert save(harness, ALICE, form, "", chapter="2", visibility="private") is None
    second = harness.runtime.services.reflections.list_own(TEAM, ALICE)[-1]
    assert second.text.startswith("“Ask @carol: is the keeper lonely & proud?”\n— bob, https://")
    assert second.visibility is Visibility.PRIVATE and second.chapter == 2
    assert "lonely & proud" not in everything_posted(harness)  # private: nowhere to be seen
    confirmation = html.unescape(harness.ephemeral_texts(ALICE)[-1])
    assert "Saved your private reflection" in confirmation and "Only you can see it" in confirmation


def test_bob_taking_consent_back_before_the_save_leaves_his_words_out(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    harness.say(BOB, "/reflect", "quotable on")
    ts = posts(harness, BOB, "A line I may regret")
    form = shortcut(harness, ALICE, ts)
    assert form is not None and "A line I may regret" in form_text(form)
    harness.say(BOB, "/reflect", "quotable off")
    assert save(harness, ALICE, form, "My own take.") is None
    (mine,) = harness.runtime.services.reflections.list_own(TEAM, ALICE)
    assert "regret" not in mine.text and mine.text.startswith("My own take.\n\n↪ ")


def test_my_own_message_becomes_my_words_to_edit(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    ts = posts(harness, ALICE, "The keeper is lonely, & that is the point")
    form = shortcut(harness, ALICE, ts)
    assert form is not None
    text_block = next(b for b in form["blocks"] if b.get("block_id") == "text")
    assert text_block["element"]["initial_value"] == "The keeper is lonely, & that is the point"
    assert "Your own message, to edit as you like" in form_text(form)
    assert save(harness, ALICE, form, "The keeper is lonely, & that is the point!") is None
    (mine,) = harness.runtime.services.reflections.list_own(TEAM, ALICE)
    assert mine.text.startswith("The keeper is lonely, & that is the point!\n\n↪ https://")
    assert any("that is the point!" in t for t in thread_texts(harness))


def test_a_bots_message_is_linked_never_copied(harness: Harness) -> None:
    start(harness)
    post_due(harness)
    prompt = next(m for m in harness.emulator.messages(CLUB) if m.bot_id and m.metadata)
    form = shortcut(harness, CAROL, prompt.ts)
    assert form is not None
    assert "I don't copy messages of bots and apps" in form_text(form)
    assert save(harness, CAROL, form, "The questions made me think.") is None
    (mine,) = harness.runtime.services.reflections.list_own(TEAM, CAROL)
    assert mine.text.startswith("The questions made me think.\n\n↪ https://")


def test_in_a_pair_the_mentee_saves_the_mentors_message_for_the_mentor(harness: Harness) -> None:
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    post_next(harness, pair_channel)
    harness.say(BOB, "/reflect", "quotable on")
    ts = posts(harness, BOB, "Try writing down one decision a day.", channel=pair_channel)
    form = shortcut(harness, ALICE, ts, channel=pair_channel)
    assert form is not None
    radios = next(b for b in form["blocks"] if b.get("block_id") == "visibility")["element"]
    assert radios["initial_option"]["value"] == "mentor"
    assert [o["value"] for o in radios["options"]] == ["mentor", "shared", "private"]
    assert save(harness, ALICE, form, "I will try this week.") is None
    (mine,) = harness.runtime.services.reflections.list_own(TEAM, ALICE)
    assert mine.visibility is Visibility.MENTOR
    assert "Try writing down one decision a day." in mine.text
    assert any("I will try this week." in t for t in dm_texts(harness, BOB))
    assert "I will try this week." not in " ".join(harness.channel_texts(CLUB))


def test_where_no_book_is_read_the_shortcut_says_so(harness: Harness) -> None:
    ts = posts(harness, DAVE, "Anyone reading anything?", channel=OTHER)
    before = len(harness.emulator.response_url_posts())
    assert shortcut(harness, DAVE, ts, channel=OTHER) is None
    (answer,) = harness.emulator.response_url_posts()[before:]
    assert answer["status"] == 200
    assert "There is no reading plan in this channel" in html.unescape(
        block_text(answer["payload"]["blocks"])
    )
    assert harness.runtime.services.reflections.list_own(TEAM, DAVE) == []
