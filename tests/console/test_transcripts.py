"""Transcripts: what a member types at the console, and what the bot shows in answer.

Every line goes through the real bolt app over HTTP (slash commands, message events,
button clicks, modal submissions); time moves only when the member says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.console.world import ConsoleError, ConsoleWorld, default_start
from tests.console.conftest import Conversation, console_settings

START_DUNE = [
    (
        "/book add Dune | Frank Herbert | 6",
        ["(only visible to you)", "Added to the shelf: #1 Dune — Frank Herbert (6 chapters)"],
    ),
    (
        "/book start 1 every monday at 09:00 2 chapters",
        ["[1] #book-club · readalong", "@alice started a reading plan: Dune by Frank Herbert"],
    ),
]


def test_a_week_of_reading_together(talk: Conversation) -> None:
    talk.expect(
        [
            *START_DUNE,
            (
                ":advance 1h",
                [
                    "It is now Mon 7 Dec 2026, 09:00 CET",
                    "prompt p1",
                    "Dune: step 1 of 3",
                    "This step: chapters 1–2 of Dune by Frank Herbert",
                    "[Reflect]",
                ],
            ),
            (":as bob", "You are now bob."),
            # The Reflect button opens the modal; it is asked field by field, then submitted.
            (
                ":click p1 Reflect\n\nThe desert is a character.\n",
                [
                    "┌ Reflect",
                    "Chapter [This step (chapters 1–2)]:",
                    "Your reflection (\\n for a new line): The desert is a character.",
                    "› thread p1 · readalong",
                    "@bob reflected on chapters 1–2:",
                    "│ The desert is a character.",
                    "Saved your shared reflection #1",
                ],
            ),
            (":as carol", "You are now carol."),
            # Carol lets digests quote her; nobody else is quoted without saying so.
            ("/reflect quotable on", "may now quote your shared reflections"),
            (
                "/reflect The spice must flow.",
                ["@carol reflected on chapters 1–2:", "│ The spice must flow."],
            ),
            (":thread p1", ["In the thread of p1 (2 replies so far)", "@bob reflected"]),
            (
                "Bob, the desert is politics too.",
                ["#book-club › thread p1 · carol", "Bob, the desert is politics too."],
            ),
            (":react p1 :fire:", "You reacted 🔥 to p1."),
            (":back", "Back in #book-club."),
            # Alice has not reflected: a day before the next step, the bot nudges her in a DM.
            (":as alice", "You are now alice."),
            (
                ":advance 6d",
                [
                    "It is now Sun 13 Dec 2026, 09:00 CET",
                    "DM · readalong",
                    "(direct message to you)",
                    "A gentle nudge: you haven't reflected on chapters 1–2 of Dune yet",
                ],
            ),
            # Monday: the next prompt, then the digest of the step that ended.
            (
                ":advance 1d",
                [
                    "prompt p2",
                    "Dune: step 2 of 3",
                    "Dune: Step 1",
                    "2 shared reflections and 1 reply from 2 people.",
                    "@bob · 1 reflection, 0 replies",
                    "│ Bob, the desert is politics too.",
                ],
            ),
            (":as bob", "You are now bob."),
            (
                "/reflect export",
                [
                    "DM · readalong",
                    "📎 2026-12-14-dune.md",
                    "┊ # Reflections on *Dune* by Frank Herbert",
                    "┊ The desert is a character.",
                    "sent your reflections to you as a Markdown file",
                ],
            ),
        ]
    )


def test_forms_are_asked_field_by_field(talk: Conversation) -> None:
    talk.expect(
        [
            (
                "/book add\nThe Dispossessed\nUrsula K. Le Guin\n13",
                [
                    "┌ Add a book",
                    "│ Title: The Dispossessed",
                    "│ Author: Ursula K. Le Guin",
                    "A count (e.g. 12), or chapter titles separated by ;",
                    "Added to the shelf: #1 The Dispossessed — Ursula K. Le Guin (13 chapters)",
                ],
            ),
            (
                # The plan form: pick the book by number, keep the defaults, 3 chapters per step.
                "/book start\n1\n\n\n3\n\n",
                [
                    "┌ Start a reading plan",
                    "1) #1 The Dispossessed — Ursula K. Le Guin",
                    "│ Prompt day [Monday]:",
                    "│ Time zone [Europe/Berlin]:",
                    "every Monday at 09:00 (Europe/Berlin) · 3 chapters per step",
                ],
            ),
        ]
    )


def test_a_refused_form_is_closed_and_the_script_goes_on(talk: Conversation) -> None:
    shown = talk.say("/book add\nEmpty\nNobody\n0\n/book list")
    assert "⚠ Chapters:" in shown
    assert "Form closed without submitting." in shown
    assert "alice @ #book-club> /book list" in shown  # the next line is a command again


def test_a_form_can_be_cancelled(talk: Conversation) -> None:
    talk.expect(
        [
            ("/book add\nDune\n:cancel", "Form closed without submitting."),
            ("/book list", "alice @ #book-club> /book list"),
        ]
    )
    assert talk.world.open_modal(talk.world.user_id("alice")) is None


def test_member_text_is_shown_as_typed_never_as_mentions_or_links(talk: Conversation) -> None:
    talk.expect([*START_DUNE, (":advance 1h", "prompt p1")])
    shown = talk.say("/reflect Loved it <!channel> & <@U0BOB000001> <https://evil.example|click>")
    assert "│ Loved it <!channel> & <@U0BOB000001> <https://evil.example|click>" in shown
    assert "@carol reflected" not in shown and "@alice reflected on chapters 1–2:" in shown


def test_advancing_weeks_at_once_posts_each_prompt_on_time(talk: Conversation) -> None:
    shown = talk.expect([*START_DUNE, (":advance 3w", ["prompt p1", "prompt p2", "prompt p3"])])
    assert "Posted late" not in shown and "missed" not in shown
    assert "[2] #book-club · readalong · Mon 7 Dec 09:00 · prompt p1" in shown
    assert "Mon 14 Dec 09:00 · prompt p2" in shown and "Mon 21 Dec 09:00 · prompt p3" in shown


def test_clock_commands(talk: Conversation) -> None:
    talk.expect(
        [
            (":now", "Mon 7 Dec 2026, 08:00 CET"),
            (":at 2026-12-08 10:30", "It is now Tue 8 Dec 2026, 10:30 CET"),
            (":advance 1d 2h", "It is now Wed 9 Dec 2026, 12:30 CET"),
            (":at 2026-12-01 09:00", "⚠ Time only moves forward here."),
            (":advance soon", "⚠ 'soon' is not a duration"),
        ]
    )


def test_app_home(talk: Conversation) -> None:
    talk.expect(
        [
            *START_DUNE,
            (
                ":home",
                [
                    "🏠 App Home of alice",
                    "#book-club · Dune by Frank Herbert",
                    "Next prompt: chapters 1–2",
                ],
            ),
        ]
    )


def test_a_console_command_typed_into_a_form_closes_it_and_runs(talk: Conversation) -> None:
    talk.expect([*START_DUNE, (":advance 1h", "prompt p1"), (":as bob", "You are now bob.")])
    # bob opens the form, then changes his mind and types a console command at the first
    # question: the form closes unsent, the command runs, nothing is saved.
    shown = talk.say(":click p1 Reflect\n:as alice")
    assert "(The form is closed unsent: you typed a console command.)" in shown
    assert "You are now alice." in shown
    assert "so I haven't posted a digest" in talk.say("/book summary")


def test_console_commands_and_mistakes(talk: Conversation) -> None:
    talk.expect(
        [
            (":help", [":as <name>", ":advance 3d | 2h | 30m", ":react <n|pN> :emoji:"]),
            (":who", ["alice: Alice Host (you)", "bob: Bob Reader"]),
            # Any one-word name joins the workspace (see test_conversations.py); two do not.
            (":as dave smith", "⚠ A member's name is one word, without spaces"),
            (":thread", "⚠ No prompt has been posted yet"),
            (":react 7 :tada:", "⚠ No message [7]"),
            (":frobnicate", "⚠ Unknown console command :frobnicate"),
            ("/weather today", "⚠ Readalong has no /weather command"),
            (
                ":tada: a message that starts with an emoji",
                "🎉 a message that starts with an emoji",
            ),
            (":quit", "Bye."),
        ]
    )
    assert not talk.shell.running


def test_plain_lines_are_messages_the_bot_receives(talk: Conversation) -> None:
    talk.expect([*START_DUNE, (":advance 1h", "prompt p1"), (":thread", "In the thread of p1")])
    talk.say("First!")
    talk.say(":as bob\nSecond.")
    # The bot stored both replies as discussion (the digest counts them).
    shown = talk.say("/book summary")
    assert "0 shared reflections and 2 replies from 2 people." in shown


def test_a_second_session_on_the_same_database_carries_on(tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    first = Conversation.start(db)
    with first:
        first.expect([*START_DUNE, (":advance 1h", "prompt p1"), (":thread", "In the thread")])
        first.say("A reply before the break.\n:advance 1d")
    second = Conversation.start(db)
    with second:
        assert second.world.resumed
        assert "It is Tue 8 Dec 2026, 09:00 CET (resumed)" in second.transcript
        second.expect(
            [
                # The prompt and its thread are still there, so reflections still echo into it.
                ("/reflect After the break.", ["@alice reflected on chapters 1–2:", "After"]),
                (":thread p1", ["A reply before the break.", "After the break."]),
            ]
        )
    with pytest.raises(ConsoleError, match="time only moves forward"):
        ConsoleWorld(console_settings(), db, start=default_start("Europe/Berlin"))


def test_edits_and_deletions_show_up_as_such(talk: Conversation) -> None:
    talk.expect(
        [
            *START_DUNE,
            (":advance 1h", "prompt p1"),
            (
                "/reflect First thoughts.",
                ["[3] #book-club › thread p1 · readalong", "First thoughts."],
            ),
            (
                "/reflect edit 1 Second thoughts.",
                ["[3] #book-club › thread p1 · readalong", "(edited)", "│ Second thoughts."],
            ),
            ("/reflect delete 1", ["[3] #book-club › thread p1 · readalong", "(deleted)"]),
            (":react 3 :fire:", "⚠ Message [3] was deleted."),
        ]
    )


def test_own_pace_in_the_console_a_member_in_tokyo_and_spoiler_safe_app_home(
    talk: Conversation,
) -> None:
    """Issue 12 in the console: a member in another zone, :advance, App Home."""
    talk.expect(
        [
            *START_DUNE,
            (":as kenji tz Asia/Tokyo", "kenji joined the workspace"),
            (":channel book-club", "You joined #book-club."),
            (":advance 1h", ["prompt p1", "[Reflect]  [I've read these]"]),
            (":advance 6d", ["gentle nudge", "JST", "[I'm away…]"]),
            (":advance 1d", "prompt p2"),
            ("/reflect progress ch 2", "you have read to chapter 2 of 6: on schedule"),
            (":home", ["Discussions open to you", "Step 1 (chapters 1–2)"]),
            ("/reflect away until 2026-12-01", "is not ahead"),
            ("/reflect behind 1 week", "7 days behind the group now"),
            ("/reflect catch up", "back at the group's pace"),
        ]
    )


def test_choosing_the_next_book_together(talk: Conversation) -> None:
    """Proposals, the ballot and its form, a changed ballot, the count at the closing
    time and the winner started with one click, all at the console."""
    talk.expect(
        [
            (
                "/book propose Dune | Frank Herbert | 6",
                ["(only visible to you)", "Proposed Dune by Frank Herbert (6 chapters)"],
            ),
            ("/book poll", "A poll needs at least two candidates; this one has only one"),
            (":as bob", "You are now bob."),
            ("/book propose Emma | Jane Austen | 3", "proposal 2 of this poll, 2 proposals"),
            (":as carol", "You are now carol."),
            ("/book propose The Dispossessed | Ursula K. Le Guin | 13", "proposal 3"),
            (":as alice", "You are now alice."),
            (
                "/book poll closes tomorrow",
                [
                    "[1] #book-club · readalong",
                    "🗳️ Choose our next book",
                    "until the poll closes, Tue 8 Dec 2026, 23:59 CET",
                    "2. Emma — Jane Austen · 3 chapters · proposed by bob",
                    "[Vote]",
                    "Posted the ballot with 3 books",
                ],
            ),
            # The form asks for each choice; empty leaves the third one out.
            (
                ":click 1 Vote\n2\n1\n\n",
                [
                    "┌ Your ballot",
                    "First choice:",
                    "Second choice (optional): 1",
                    "Your ballot is in: 1. Emma, 2. Dune.",
                ],
            ),
            (":as bob", "You are now bob."),
            (":click 1 Vote\n3\n\n\n", "Your ballot is in: 1. The Dispossessed."),
            # Bob changes his mind; it counts once.
            (
                ":click 1 Vote\n2\n3\n\n",
                ["First choice [3. The Dispossessed", "Your ballot is changed: 1. Emma"],
            ),
            (":as carol", "You are now carol."),
            (":click 1 Vote\n3\n3\n\n", "You chose this book already"),
            (":cancel", ""),
            ("/book poll status", ["Voting until Tue 8 Dec 2026, 23:59 CET", "2 members voted"]),
            (
                ":advance 2d",
                [
                    "🗳️ The poll for our next book is closed",
                    "Voting ended Tue 8 Dec 2026, 23:59 CET",
                    "📚 Our next book: Emma",
                    "Round 1: Dune 0 · Emma 2 · The Dispossessed 0 → Emma wins",
                    "[Start “Emma” here]",
                ],
            ),
            (":as bob", "You are now bob."),
            (":click 2 Start “Emma” here", "Only whoever posted the poll or an admin"),
            (":as alice", "You are now alice."),
            (
                ":click 2 Start “Emma” here",
                ["@alice started a reading plan: Emma by Jane Austen", "Started “Emma” here"],
            ),
        ]
    )
