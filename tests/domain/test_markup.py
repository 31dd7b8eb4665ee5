"""Slack mrkdwn as Markdown (exports) and as plain text (digest quotes): never a ping, never a raw id."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.markup import Names, mentioned, to_markdown, to_plain

NAMES = Names(
    users={"U0ALICE0001": "Alice Host", "U0BOB000001": "bob"},
    channels={"C0BOOKCLUB1": "book-club"},
)


@pytest.mark.parametrize(
    ("slack", "markdown"),
    [
        ("<!channel> look", "@channel look"),
        ("<!here|here> and <!everyone>", "@here and @everyone"),
        ("see <https://x.example/a|click>", "see [click](https://x.example/a)"),
        ("see <https://x.example/a>", "see <https://x.example/a>"),
        ("mail <mailto:a@b.example|a@b.example>", "mail [a@b.example](mailto:a@b.example)"),
        ("*bold* and _it_ and ~gone~", "**bold** and *it* and ~~gone~~"),
        ("*bold with _italic_ inside*", "**bold with *italic* inside**"),
        ("hi <@U0ALICE0001>, <@U0BOB000001|bobby>", "hi @Alice Host, @bob"),
        ("in <#C0BOOKCLUB1|book-club> and <#C0BOOKCLUB1>", "in #book-club and #book-club"),
        ("<@U0NOBODY001|nobody> <@U0NOBODY002>", "@nobody @someone"),
        ("Pride &amp; Prejudice &lt;3 a&gt;b", "Pride & Prejudice <3 a>b"),
        ("`*not bold*` stays", "`*not bold*` stays"),
        ("snake_case_name and 5 * 3 * 2", "snake_case_name and 5 * 3 * 2"),
        ("&lt;script&gt;", "\\<script>"),
        ("<!subteam^S0TEAM|@readers> read", "@readers read"),
        ("<!date^1392734382^{date}|Feb 18, 2014> then", "Feb 18, 2014 then"),
    ],
)
def test_slack_markup_becomes_markdown(slack: str, markdown: str) -> None:
    assert to_markdown(slack, NAMES) == markdown


def test_code_block_gets_its_own_lines() -> None:
    assert to_markdown("look: ```x = *y*``` ok") == "look:\n```\nx = *y*\n```\nok"


def test_reflection_text_is_already_decoded() -> None:
    """A reflection is stored as typed: "&lt;" there is what the member typed, kept as such."""
    typed = "Tom &lt;3 Jerry & <@U0ALICE0001> *yes*"
    assert to_markdown(typed, NAMES, encoded=False) == "Tom \\&lt;3 Jerry & @Alice Host **yes**"
    assert to_plain(typed, NAMES, encoded=False) == "Tom &lt;3 Jerry & @Alice Host *yes*"


def test_plain_text_for_quotes() -> None:
    text = "<!channel> <@U0ALICE0001> said <https://x.example|this> &amp; <https://y.example>"
    assert (
        to_plain(text, NAMES)
        == "@channel @Alice Host said this (https://x.example) & https://y.example"
    )


def test_a_directory_that_echoes_the_id_is_not_a_name() -> None:
    names = Names(users={"U0ALICE0001": "U0ALICE0001"}, channels={"C0BOOKCLUB1": "C0BOOKCLUB1"})
    assert to_plain("<@U0ALICE0001> <#C0BOOKCLUB1>", names) == "@someone #channel"


def test_mentioned_ids() -> None:
    users, channels = mentioned("<@U0ALICE0001> <@W0BOB|b> <#C0BOOKCLUB1|x> <!here> <https://a.b>")
    assert users == {"U0ALICE0001", "W0BOB"} and channels == {"C0BOOKCLUB1"}


_IDS = st.sampled_from(["U0ALICE0001", "U0BOB000001", "U0ZED000001", "C0BOOKCLUB1", "C0ELSE00001"])
_PIECES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
    _IDS.map(lambda i: f"<@{i}>" if i.startswith("U") else f"<#{i}>"),
    _IDS.map(lambda i: f"<@{i}|label>" if i.startswith("U") else f"<#{i}|label>"),
    st.sampled_from(["<!channel>", "<!here>", "<!everyone>", "<!here|here>"]),
    st.sampled_from(["&amp;", "&lt;", "&gt;", "*", "_", "~", "`", "```"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_no_ping_and_no_raw_id_ever(text: str) -> None:
    markdown = to_markdown(text, NAMES)
    # No ping, no link to a person, no HTML tag (a real link is fine; code is literal).
    prose = re.sub(r"(?<!`)(`+)(?!`)(.*?)(?<!`)\1(?!`)", "", markdown, flags=re.DOTALL)
    assert not re.search(r"(?<!\\)<(?!https?://|mailto:)[@#!A-Za-z]", prose)
    for out in (markdown, to_plain(text, NAMES)):
        for raw in ("U0ALICE0001", "U0BOB000001", "U0ZED000001", "C0BOOKCLUB1", "C0ELSE00001"):
            if raw not in text.replace(f"<@{raw}", "").replace(f"<#{raw}", ""):
                assert raw not in out
