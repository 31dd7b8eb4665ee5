"""What the scheduler has for people on its own (an invitation nobody answered, a quiet
pair for the programme's admin, the look-back at the end of a book: the last is in
test_mentoring_pairs) waits for their waking hours in their own time zone, as nudges do,
and goes out once. Over real HTTP against the emulator; moments come from the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.model import PairState
from bot.domain.pairs import PROPOSAL_LIFETIME
from bot.slack.blocks import pairs as pair_blocks
from tests.harness import ALICE, BOB, CAROL, DAVE, Harness
from tests.slack.test_mentoring_pairs import (
    TEAM,
    click_in,
    dm_texts,
    last_with,
    pair_up,
    programme,
    start_book,
)

__all__ = ["programme"]  # the fixture, shared with test_mentoring_pairs

TOKYO, NEW_YORK = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")


def at_local(harness: Harness, zone: ZoneInfo, hour: int, after: datetime) -> datetime:
    """The first ``hour``:00 in ``zone`` at or after ``after``."""
    local = after.astimezone(zone)
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment if moment >= local else moment + timedelta(days=1)


def test_an_expired_invitation_is_told_in_the_askers_morning_once(harness: Harness) -> None:
    harness.emulator.workspace.set_user_timezone(ALICE, "Asia/Tokyo")
    harness.say(ALICE, "/mentor", "@carol")
    (pair,) = harness.runtime.services.pairs.pairs_of(TEAM, ALICE)
    expired = pair.created_at + PROPOSAL_LIFETIME
    night = at_local(harness, TOKYO, 22, expired)  # past its week, 22:00 for Alice
    harness.clock.set(night)
    harness.runtime.services.run_due()
    assert not any("expired" in t for t in dm_texts(harness, ALICE))
    assert harness.runtime.services.pairs.pairs_of(TEAM, ALICE)[0].state is PairState.PROPOSED
    morning = at_local(harness, TOKYO, 8, night)
    harness.clock.set(morning - timedelta(minutes=1))
    harness.runtime.services.run_due()
    assert not any("expired" in t for t in dm_texts(harness, ALICE))
    harness.clock.set(morning)
    harness.runtime.services.run_due()
    harness.runtime.services.run_due()
    assert sum("expired" in t for t in dm_texts(harness, ALICE)) == 1
    assert harness.runtime.services.pairs.pairs_of(TEAM, ALICE)[0].state is PairState.EXPIRED
    assert not any("expired" in t for t in dm_texts(harness, CAROL))


def test_a_quiet_pair_reaches_the_admin_in_their_waking_hours_once(programme: Harness) -> None:
    harness = programme
    harness.emulator.workspace.set_user_timezone(DAVE, "America/New_York")
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    harness.say(ALICE, "/reflect", "A first thought", channel=pair_channel)
    quiet_from = harness.clock.now() + timedelta(days=21)
    night = at_local(harness, NEW_YORK, 2, quiet_from)  # quiet three weeks, 02:00 for Dave
    harness.clock.set(night)
    harness.runtime.services.run_due()
    harness.drain()
    assert not any("has been quiet" in t for t in dm_texts(harness, DAVE))
    harness.clock.set(at_local(harness, NEW_YORK, 8, night))
    harness.runtime.services.run_due()
    harness.runtime.services.run_due()
    harness.drain()
    assert sum("has been quiet" in t for t in dm_texts(harness, DAVE)) == 1
    assert not any("has been quiet" in t for p in (ALICE, BOB) for t in dm_texts(harness, p))


def test_an_admin_who_wants_any_hour_is_told_at_once(programme: Harness) -> None:
    harness = programme
    harness.emulator.workspace.set_user_timezone(DAVE, "America/New_York")
    assert "any hour" in harness.say(DAVE, "/reflect", "quiet hours off")
    pair_channel = pair_up(harness)
    start_book(harness, pair_channel)
    harness.say(ALICE, "/reflect", "A first thought", channel=pair_channel)
    harness.clock.set(at_local(harness, NEW_YORK, 2, harness.clock.now() + timedelta(days=21)))
    harness.runtime.services.run_due()
    harness.drain()
    assert sum("has been quiet" in t for t in dm_texts(harness, DAVE)) == 1


def test_a_zone_slack_gives_that_no_clock_knows_is_no_zone_and_stalls_nothing(
    harness: Harness,
) -> None:
    """A recipient whose Slack ``tz`` is unusable is treated as of unknown zone (never
    held back) instead of failing the scheduler's whole pass, polls and all."""
    harness.emulator.workspace.set_user_timezone(ALICE, "America/Nowhere")
    harness.say(ALICE, "/mentor", "@carol")
    (pair,) = harness.runtime.services.pairs.pairs_of(TEAM, ALICE)
    harness.clock.set(pair.created_at + PROPOSAL_LIFETIME)
    harness.runtime.services.run_due()  # raised ZoneInfoNotFoundError before
    assert sum("expired" in t for t in dm_texts(harness, ALICE)) == 1


def test_an_invitation_found_expired_while_its_asker_sleeps_is_still_told_once(
    harness: Harness,
) -> None:
    """Past its week the invitation waits for the asker's morning to be withdrawn; if the
    invited one clicks Accept (or Decline) meanwhile, it is withdrawn then and the asker
    hears of it once, never that it was declined."""
    harness.emulator.workspace.set_user_timezone(ALICE, "Asia/Tokyo")
    harness.say(ALICE, "/mentor", "@carol")
    (pair,) = harness.runtime.services.pairs.pairs_of(TEAM, ALICE)
    harness.clock.set(at_local(harness, TOKYO, 22, pair.created_at + PROPOSAL_LIFETIME))
    harness.runtime.services.run_due()
    assert not any("expired" in t for t in dm_texts(harness, ALICE))  # she is asleep
    invite = last_with(harness, CAROL, pair_blocks.ACCEPT_ACTION)
    click_in(harness, CAROL, invite, pair_blocks.ACCEPT_ACTION)
    assert harness.runtime.services.pairs.pairs_of(TEAM, ALICE)[0].state is PairState.EXPIRED
    harness.clock.set(at_local(harness, TOKYO, 8, harness.clock.now()))
    harness.runtime.services.run_due()
    assert sum("expired" in t for t in dm_texts(harness, ALICE)) == 1
    assert not any("declined" in t for t in dm_texts(harness, ALICE))
