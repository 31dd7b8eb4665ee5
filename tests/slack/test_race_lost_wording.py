"""Issue 10, item 24: a write that loses a race to an identical one (the database's unique
key refuses it) reaches the member in plain words, never the database's own ("duplicate
key value violates unique constraint …"), and nothing is half-stored. The refusal is made
real: the next commit of the unit of work meets the database's IntegrityError."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.slack.listeners.common import RACE_LOST
from tests.harness import ALICE, BOB, CLUB, Harness

TEAM = "T0EMULATOR1"
DB_WORDS = 'duplicate key value violates unique constraint "uq_reflections_author_number"'


@pytest.fixture
def lose_next_race(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """After calling it, the next commit anywhere is refused as a duplicate once."""
    armed = {"on": False}
    real_commit = Session.commit

    def commit(self: Session) -> None:
        if armed["on"]:
            armed["on"] = False
            self.rollback()
            raise IntegrityError("INSERT INTO reflections …", {}, Exception(DB_WORDS))
        real_commit(self)

    monkeypatch.setattr(Session, "commit", commit)

    def arm() -> None:
        armed["on"] = True

    yield arm


def _start(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    today = harness.clock.now().date().isoformat()
    assert "started a reading plan" in harness.say(
        ALICE, "/book", f"start Dune every monday at 09:00 2 chapters from {today}"
    )


@pytest.mark.parametrize(
    ("command", "text", "told"),
    [
        ("/reflect", "ch 1 The spice must flow", RACE_LOST),
        ("/reflect", "quotable on", RACE_LOST),
        # The service knows what an identical book means, and says so.
        ("/book", "add Children of Dune | Frank Herbert | 5", "already on the shelf"),
    ],
)
def test_a_lost_race_is_told_in_plain_words_and_stores_nothing(
    harness: Harness, lose_next_race: Callable[[], None], command: str, text: str, told: str
) -> None:
    _start(harness)
    before_books = harness.say(BOB, "/book", "list")
    lose_next_race()
    answer = harness.say(BOB, command, text)
    assert told in answer, answer
    assert "duplicate key" not in answer and "uq_" not in answer and "INSERT" not in answer
    shown: list[Any] = [m.text for m in harness.emulator.messages(CLUB)]
    assert not any("duplicate key" in (t or "") for t in shown)
    assert harness.runtime.services.reflections.list_own(TEAM, BOB) == []
    assert harness.say(BOB, "/book", "list") == before_books
    # And the same command, retried, simply works.
    assert told not in harness.say(BOB, command, text)
