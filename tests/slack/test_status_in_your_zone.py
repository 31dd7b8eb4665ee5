"""`/book status` answers each member privately, so it gives the next prompt's time in
the plan's zone and, for a member whose own zone (Slack's) reads differently, in theirs:
a reader in New York of a Berlin plan does not have to convert."""

from __future__ import annotations

import html

from bot.slack.text import local_time
from tests.harness import ALICE, BOB, CLUB, Harness
from tests.slack.test_member_review import start

TEAM = "T0EMULATOR1"


def test_the_next_prompt_is_also_in_the_readers_own_time(harness: Harness) -> None:
    harness.emulator.workspace.set_user_timezone(BOB, "America/New_York")
    harness.emulator.workspace.set_user_timezone(ALICE, "Europe/Berlin")
    start(harness)  # Berlin: the harness's default plan zone
    plan = harness.runtime.services.plans.current(TEAM, CLUB).plan
    assert plan.timezone == "Europe/Berlin"
    due = plan.steps[0].due_at
    berlin, new_york = local_time(due, "Europe/Berlin"), local_time(due, "America/New_York")
    bobs = html.unescape(harness.say(BOB, "/book", "status"))
    assert f"{berlin} ({new_york} for you)" in bobs, bobs
    alices = html.unescape(harness.say(ALICE, "/book", "status"))
    assert berlin in alices and "for you" not in alices, alices


def test_a_zone_no_clock_knows_shows_the_plans_time_only(harness: Harness) -> None:
    harness.emulator.workspace.set_user_timezone(BOB, "Europe")  # a directory, not a zone
    start(harness)
    plan = harness.runtime.services.plans.current(TEAM, CLUB).plan
    bobs = html.unescape(harness.say(BOB, "/book", "status"))
    assert local_time(plan.steps[0].due_at, plan.timezone) in bobs and "for you" not in bobs
