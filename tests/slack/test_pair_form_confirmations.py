"""A pair's forms confirm where the member opened them: `/mentor goals` or `/mentor
publish` typed in the pair's conversation answers there (only to them), not in the bot's
DM, where in Slack they would never see it; a form opened from a DM answers in the DM."""

from __future__ import annotations

import html

from tests.harness import ALICE, BOB, Harness, block_text
from tests.slack.test_mentoring_pairs import pair_up


def ephemerals_in(harness: Harness, user: str, channel: str) -> list[str]:
    return [
        html.unescape(block_text(m.blocks) or m.text)
        for m in harness.emulator.ephemerals(user)
        if m.channel == channel
    ]


def test_the_agreement_form_confirms_in_the_pairs_conversation(harness: Harness) -> None:
    pair_channel = pair_up(harness)
    harness.say(ALICE, "/mentor", "goals", channel=pair_channel)
    form = harness.last_view(ALICE)
    before_dm = len(ephemerals_in(harness, ALICE, harness.emulator.dm_channel(ALICE)))
    before_dm += len(ephemerals_in(harness, ALICE, ALICE))
    answer = harness.submit(
        form["id"],
        {
            "hopes": {"value": "Lead a product team in five years"},
            "goals": {"value": "- Spot disruption early"},
        },
        ALICE,
    )
    assert answer.status == 200
    harness.drain()
    here = ephemerals_in(harness, ALICE, pair_channel)
    assert any("agreement" in t.lower() for t in here), here
    after_dm = len(ephemerals_in(harness, ALICE, harness.emulator.dm_channel(ALICE)))
    after_dm += len(ephemerals_in(harness, ALICE, ALICE))
    assert after_dm == before_dm  # nothing went to the bot's DM instead
    assert not ephemerals_in(harness, BOB, pair_channel)  # only to her
