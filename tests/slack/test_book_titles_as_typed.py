"""Titles as people type them in `/book add`: quotes around the title are not part of it
(so prompts, digests and calendars do not carry them), and the same book typed again with
other quotes is the same book, named once, without doubled quotes."""

from __future__ import annotations

import html

from tests.harness import ALICE, BOB, Harness


def test_quotes_around_a_title_are_dropped_and_the_same_book_is_recognised(
    harness: Harness,
) -> None:
    added = html.unescape(harness.say(ALICE, "/book", 'add "Pride & Prejudice" | Jane Austen | 3'))
    assert "Pride & Prejudice" in added and '"Pride' not in added, added
    again = html.unescape(harness.say(BOB, "/book", "add “Pride & Prejudice” | “Jane Austen” | 3"))
    assert "already on the shelf" in again and "““" not in again and '"Pride' not in again, again
    listed = html.unescape(harness.say(BOB, "/book", "list"))
    assert listed.count("Pride & Prejudice") == 1 and '"' not in listed, listed
