"""The forms of a next-book poll: propose a book, rank the candidates. Each has
``build()`` and ``parse()``.

User text shown in a form is escaped (mrkdwn) or made plain (labels, options), once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.commands import BookPropose
from bot.domain.polls import MAX_RANKS, Ballot, Poll, describe_moment
from bot.slack.blocks import context, section
from bot.slack.modals import BookAddModal, FieldErrors, State, _value
from bot.slack.text import escape, plain, truncate

POLL_PROPOSE = "poll_propose"
POLL_BALLOT = "poll_ballot"

RANK_WORDS = ("First choice", "Second choice", "Third choice")


@dataclass(frozen=True, slots=True)
class ProposeModal:
    """Propose a book for the next poll: the same fields as adding one."""

    channel_id: str

    def build(self) -> View:
        added = BookAddModal(self.channel_id).build()
        return View(
            type="modal",
            callback_id=POLL_PROPOSE,
            title="Propose a book",
            submit="Propose",
            close="Cancel",
            private_metadata=json.dumps({"channel_id": self.channel_id}),
            blocks=[
                section(
                    "Propose our next book. Everyone may propose one; once there are two "
                    "or more, `/book poll` posts the ballot."
                ),
                *(added.blocks or []),
            ],
        )

    @staticmethod
    def parse(state: State) -> BookPropose:
        typed = BookAddModal.parse(state)
        return BookPropose(title=typed.title, author=typed.author, chapters=typed.chapters)


@dataclass(frozen=True, slots=True)
class BallotModal:
    """Rank up to three candidates, the member's earlier ballot filled in."""

    poll: Poll
    ballot: Ballot | None = None

    def build(self) -> View:
        options = [
            Option(
                value=str(c.number),
                label=truncate(plain(f"{c.number}. {c.title} — {c.author}"), 75),
            )
            for c in self.poll.candidates
        ]
        by_number = {o.value: o for o in options}
        ranked = list(self.ballot.ranking) if self.ballot else []
        ranks = min(MAX_RANKS, len(options))
        closes = (
            describe_moment(self.poll.closes_at, self.poll.timezone)
            if self.poll.closes_at
            else "it is closed"
        )
        blocks: list[Block] = [
            section(
                "Rank the books you would like to read next: your first choice counts "
                "first; if it goes out of the count, your next choice counts instead."
            ),
        ]
        for place in range(ranks):
            initial = by_number.get(str(ranked[place])) if place < len(ranked) else None
            blocks.append(
                InputBlock(
                    block_id=f"rank{place + 1}",
                    label=RANK_WORDS[place],
                    optional=place > 0,
                    element=StaticSelectElement(
                        action_id="value",
                        options=options,
                        placeholder="Choose a book",
                        initial_option=initial,
                    ),
                )
            )
        blocks.append(
            context(
                f"Only you see your ballot, and nobody sees a tally before the poll closes "
                f"({escape(closes)}). You can change it until then."
            )
        )
        return View(
            type="modal",
            callback_id=POLL_BALLOT,
            title="Your ballot",
            submit="Vote",
            close="Cancel",
            private_metadata=json.dumps(
                {"poll_id": self.poll.id, "channel_id": self.poll.channel_id}
            ),
            blocks=blocks,
        )

    @staticmethod
    def parse(state: State) -> list[int]:
        """The ranking, first choice first: empty choices are skipped, a book chosen twice
        is refused on the second choice that names it."""
        ranking: list[int] = []
        errors: dict[str, str] = {}
        for place in range(1, MAX_RANKS + 1):
            value = str(_value(state, f"rank{place}", "value") or "")
            if not value:
                continue
            if not (value.isascii() and value.isdigit()):
                errors[f"rank{place}"] = "Choose one of the books listed."
                continue
            if int(value) in ranking:
                errors[f"rank{place}"] = (
                    "You chose this book already: each book counts once on a ballot. "
                    "Choose another, or leave this one empty."
                )
                continue
            ranking.append(int(value))
        if not ranking and not errors:
            errors["rank1"] = "Choose your first choice."
        if errors:
            raise FieldErrors(errors)
        return ranking
