"""What a new member found wrong in the console itself, each fixed with this test first."""

from __future__ import annotations

import re
from pathlib import Path

from tests.console.conftest import Conversation

START = [
    "/book add Dune | Frank Herbert | 4",
    "/book start Dune every monday at 09:00 2 chapters",
    ":advance 1h",
]


def test_buttons_on_answers_only_you_can_see_can_be_clicked(talk: Conversation) -> None:
    """C1: "Make it private", "Keep it private"… were out of reach (no [n] number)."""
    for line in START:
        talk.say(line)
    shown = talk.say("/reflect The desert is a character.")
    number = re.search(r"\[(e\d+)\][^\n]*only visible to you", shown)
    assert number, shown
    answer = talk.say(f":click {number[1]} Make it private")
    assert "Saved your private reflection #1" in answer


def test_replies_are_stored_in_every_session_not_only_the_first(tmp_path: Path) -> None:
    """C2: event ids restarted in each session, so later events were taken for repeats."""
    db = tmp_path / "club.db"
    with Conversation.start(db) as first:
        for line in START:
            first.say(line)
        first.say(":thread p1")
        for i in range(6):
            first.say(f"first session reply {i}")
    with Conversation.start(db) as second:
        second.say(":thread p1")
        for i in range(6):
            second.say(f"second session reply {i}")
        stored = second.world.runtime.services.discussions
        with stored.uow() as unit:
            texts = {m.text for m in unit.discussions.for_export(1, None)}
    assert {f"second session reply {i}" for i in range(6)} <= texts


def test_resuming_keeps_messages_in_order(tmp_path: Path) -> None:
    """C3: resuming at the same virtual minute reused timestamps and scrambled the order."""
    db = tmp_path / "club.db"
    with Conversation.start(db) as first:
        for line in START:
            first.say(line)
        for i in range(5):
            first.say(f"chat {i}")
    with Conversation.start(db) as second:
        second.say("after the resume")
        messages = second.world.emulator.messages(second.shell.channel)
        assert messages[-1].text == "after the resume"
        assert [m.ts for m in messages] == sorted(m.ts for m in messages)
        assert len({m.ts for m in messages}) == len(messages)


def test_command_names_in_capitals_work(talk: Conversation) -> None:
    """C4: `/Book list` was an unknown request."""
    assert "The shelf is empty" in talk.say("/Book list")


def test_a_refused_form_in_a_script_never_posts_the_answers_as_chat(talk: Conversation) -> None:
    """C4: a bad answer closed the form, and the script's next lines were posted."""
    for line in START:
        talk.say(line)
    # /reflect alone opens the form; "99" is not a chapter (refused by the bot); the
    # script's corrected answers follow and must be used as answers, not posted.
    talk.say("/reflect\n99\nSecret diary line\n\n1\nSecret diary line\n\n")
    channel = [m.text for m in talk.world.emulator.messages(talk.shell.channel)]
    assert not any("Secret diary line" in text for text in channel if text)
