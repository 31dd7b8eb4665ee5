"""Block Kit and mrkdwn as the console shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.console import render
from bot.console.forms import Field, fields, parse_answer
from bot.console.when import parse_duration, parse_moment
from bot.console.world import ConsoleError
from bot.emulator.models import Message

NAMES = {"U0ALICE0001": "alice", "C0BOOKCLUB1": "book-club"}


def lines(text: str) -> list[str]:
    return [line.plain for line in render.mrkdwn(text, NAMES)]


def test_mentions_channels_and_links_read_as_names_and_labels() -> None:
    assert lines("hi <@U0ALICE0001> in <#C0BOOKCLUB1> via <https://x.example/p|the prompt>") == [
        "hi @alice in #book-club via the prompt"
    ]
    assert lines("<#C0OTHER|random> <@U0NOBODY> <!here> <https://x.example>") == [
        "#random @U0NOBODY @here https://x.example"
    ]


def test_entities_are_decoded_after_mentions_so_escaped_text_stays_text() -> None:
    assert lines("&lt;@U0ALICE0001&gt; &amp; &lt;!channel&gt;") == ["<@U0ALICE0001> & <!channel>"]


def test_angle_brackets_that_are_not_entities_are_kept() -> None:
    assert lines("`/book add <title> | <author>`") == ["`/book add <title> | <author>`"]


def test_styles_lose_their_markers_and_emoji_become_characters() -> None:
    (line,) = render.mrkdwn(":books: *Dune* by _Frank Herbert_, see `/book list`", NAMES)
    assert line.plain == "📚 Dune by Frank Herbert, see `/book list`"
    styles = {line.plain[span.start : span.end]: str(span.style) for span in line.spans}
    assert styles == {"Dune": "bold", "Frank Herbert": "italic", "`/book list`": "cyan"}
    assert lines("snake_case_name and 2*3*4") == ["snake_case_name and 2*3*4"]


def test_quotes_get_a_bar() -> None:
    assert lines("said:\n> to be &gt; not") == ["said:", "│ to be > not"]


def test_blocks() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "📖 Dune: step 1 of 3"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Read *1–2*"}},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "due Mon"}]},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Reflect"}},
                {"type": "button", "text": {"type": "plain_text", "text": "Skip"}},
            ],
        },
    ]
    assert [line.plain for line in render.blocks(blocks, NAMES)] == [
        "📖 Dune: step 1 of 3",
        "Read 1–2",
        "─" * 24,
        "due Mon",
        "[Reflect]  [Skip]",
    ]


def test_a_member_message_shows_its_text_files_and_reactions() -> None:
    message = Message(
        channel="C0BOOKCLUB1",
        ts="1.000001",
        user="U0ALICE0001",
        text="hello <@U0ALICE0001>",
        blocks=[{"type": "rich_text", "elements": []}],
        files=[{"id": "F1", "name": "notes.md"}],
        reactions={"fire": ["U0ALICE0001", "U0BOB000001"]},
    )
    body = [line.plain for line in render.message_body(message, NAMES, lambda _: "# Notes\nok")]
    assert body == ["hello @alice", "📎 notes.md", "┊ # Notes", "┊ ok", "🔥 2"]


def test_form_fields_and_answers() -> None:
    view = {
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "intro"}},
            {
                "type": "input",
                "block_id": "day",
                "label": {"type": "plain_text", "text": "Prompt day"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [
                        {"value": "0", "text": {"type": "plain_text", "text": "Monday"}},
                        {"value": "1", "text": {"type": "plain_text", "text": "Tuesday"}},
                    ],
                    "initial_option": {
                        "value": "0",
                        "text": {"type": "plain_text", "text": "Monday"},
                    },
                },
            },
            {
                "type": "input",
                "block_id": "start",
                "label": {"type": "plain_text", "text": "Start date"},
                "element": {"type": "datepicker", "action_id": "value"},
            },
        ]
    }
    day, start = fields(view, NAMES)
    assert (day.label, day.default_label) == ("Prompt day", "Monday")
    assert parse_answer(day, "") == "0"
    assert parse_answer(day, "2") == "1"
    assert parse_answer(day, "tue") == "1"
    with pytest.raises(ValueError):
        parse_answer(day, "9")
    assert parse_answer(start, "2026-12-07") == "2026-12-07"
    with pytest.raises(ValueError, match="required"):
        parse_answer(start, "")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_answer(start, "next week")
    text = Field("text", "value", "plain_text_input", "Your reflection", optional=True)
    assert parse_answer(text, "one\\ntwo") == "one\ntwo"
    assert parse_answer(text, "") is None


def test_durations_and_moments() -> None:
    assert parse_duration("3d") == timedelta(days=3)
    assert parse_duration("1d 2h") == timedelta(days=1, hours=2)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("1 week") == timedelta(weeks=1)
    with pytest.raises(ConsoleError):
        parse_duration("3 fortnights")
    now = datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert parse_moment("2026-12-08 09:30", now) == datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
    assert parse_moment("10:15", now) == datetime(2026, 12, 7, 10, 15, tzinfo=UTC)
    with pytest.raises(ConsoleError):
        parse_moment("tomorrow", now)
