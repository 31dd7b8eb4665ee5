"""Mentoring pairs' rules (issue 11): who may pair, parsing `/mentor`, who may see what,
and the pair's time rules. Dates come from a fixed clock value, never today's date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import commands as cmd
from bot.domain import pairs as rules
from bot.domain.errors import InvalidInput
from bot.domain.model import Pair, PairState, Reflection, Role, Visibility
from bot.domain.privacy import (
    check_visibility,
    default_visibility,
    may_discuss,
    may_see,
    shows_to_mentor,
    visibility_choices,
)

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


def pair(state: PairState = PairState.ACTIVE) -> Pair:
    return Pair(1, "UMENTEE", "UMENTOR", "UMENTEE", NOW, state=state, accepted_at=NOW)


def reflection(visibility: Visibility, author: str = "UMENTEE") -> Reflection:
    return Reflection(1, 1, author, "words", visibility, NOW, id=7, number=1)


@pytest.mark.parametrize(
    ("person", "message"),
    [
        (rules.Person("UASKER", found=True), "yourself"),
        (rules.Person("UOTHER", found=False), "can't find"),
        (rules.Person("UBOT", found=True, is_bot=True), "Bots can't"),
        (rules.Person("UGONE", found=True, deleted=True), "deactivated"),
    ],
)
def test_nobody_pairs_with_themselves_a_bot_a_stranger_or_a_leaver(
    person: rules.Person, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        rules.check_partner("UASKER", person)


def test_roles_follow_what_the_asker_named() -> None:
    assert rules.roles_for("UA", "UB", Role.MENTOR) == ("UA", "UB")  # B mentors A
    assert rules.roles_for("UA", "UB", Role.MENTEE) == ("UB", "UA")  # A mentors B


def test_mentor_commands_take_slacks_mentions_never_look_alike_text() -> None:
    assert cmd.parse_mentor("<@U0BOB0001|bob>") == cmd.MentorAsk("U0BOB0001", Role.MENTOR)
    assert cmd.parse_mentor("<@U0BOB0001>") == cmd.MentorAsk("U0BOB0001", Role.MENTOR)
    assert cmd.parse_mentor("mentee <@U0BOB0001|bob>") == cmd.MentorAsk("U0BOB0001", Role.MENTEE)
    assert cmd.parse_mentor("offer <@W0BOB0001|bob>") == cmd.MentorAsk("W0BOB0001", Role.MENTEE)
    for typed in ("@bob", "&lt;@U0BOB0001&gt;", "ask @bob"):
        with pytest.raises(InvalidInput, match="not a mention"):
            cmd.parse_mentor(typed)
    assert cmd.parse_mentor("action Read ch 3 &amp; write") == cmd.MentorAction("Read ch 3 & write")
    assert cmd.parse_mentor("done #2") == cmd.MentorDone(2)
    assert cmd.parse_mentor("") == cmd.Simple("help")
    assert cmd.parse_mentor("LIST") == cmd.Simple("mentor-list")
    assert isinstance(cmd.parse_mentor("lst"), cmd.Typo)
    with pytest.raises(InvalidInput):
        cmd.parse_mentor("done soon")


def test_for_my_mentor_is_a_keyword_and_never_eats_prose() -> None:
    parsed = cmd.parse_reflect("mentor: Need to talk to Bob about this 1:1")
    assert isinstance(parsed, cmd.ReflectWrite)
    assert (parsed.visibility, parsed.text) == (
        Visibility.MENTOR,
        "Need to talk to Bob about this 1:1",
    )
    prose = cmd.parse_reflect("Mentor said the value network matters")
    assert isinstance(prose, cmd.ReflectWrite)
    assert prose.visibility is None and prose.text.startswith("Mentor said")


def test_who_sees_a_reflection_written_for_the_mentor() -> None:
    active = pair()
    for_mentor = reflection(Visibility.MENTOR)
    assert may_see(for_mentor, "UMENTEE", active) and may_see(for_mentor, "UMENTOR", active)
    assert not may_see(for_mentor, "USTRANGER", active)
    assert not may_see(for_mentor, "UMENTOR", None)  # no pair: nobody but the author
    assert not may_see(reflection(Visibility.PRIVATE), "UMENTOR", active)
    assert shows_to_mentor(for_mentor, active)
    assert not shows_to_mentor(for_mentor, pair(PairState.ENDED))
    assert not shows_to_mentor(reflection(Visibility.SHARED), active)
    # The mentor's own reflection is never "for the mentor".
    assert not shows_to_mentor(reflection(Visibility.MENTOR, author="UMENTOR"), active)


def test_only_the_two_talk_about_what_the_mentee_shows_the_mentor() -> None:
    active = pair()
    assert may_discuss(reflection(Visibility.MENTOR), active, "UMENTOR")
    assert may_discuss(reflection(Visibility.SHARED), active, "UMENTEE")
    assert not may_discuss(reflection(Visibility.PRIVATE), active, "UMENTOR")
    assert not may_discuss(reflection(Visibility.MENTOR), active, "USTRANGER")
    assert not may_discuss(reflection(Visibility.MENTOR), pair(PairState.ENDED), "UMENTOR")


def test_the_default_is_for_the_mentor_only_for_a_mentee_in_an_active_pair() -> None:
    active = pair()
    assert default_visibility(active, "UMENTEE") is Visibility.MENTOR
    assert default_visibility(active, "UMENTOR") is Visibility.SHARED
    assert default_visibility(None, "UMENTEE") is Visibility.SHARED
    assert default_visibility(pair(PairState.ENDED), "UMENTEE") is Visibility.SHARED
    assert Visibility.MENTOR in visibility_choices(active, "UMENTEE")
    with pytest.raises(InvalidInput, match="For my mentor"):
        check_visibility(Visibility.MENTOR, active, "UMENTOR")
    with pytest.raises(InvalidInput, match="For my mentor"):
        check_visibility(Visibility.MENTOR, None, "UMENTEE")


def test_a_proposal_expires_after_a_week() -> None:
    proposed = pair(PairState.PROPOSED)
    assert not rules.proposal_expired(
        proposed, NOW + rules.PROPOSAL_LIFETIME - timedelta(seconds=1)
    )
    assert rules.proposal_expired(proposed, NOW + rules.PROPOSAL_LIFETIME)
    assert not rules.proposal_expired(pair(), NOW + timedelta(days=30))


def test_a_quiet_pair_is_flagged_once_per_quiet_spell() -> None:
    active = pair()
    last = NOW
    assert not rules.should_flag_quiet(active, last, NOW + timedelta(days=20), 21)
    assert rules.should_flag_quiet(active, last, NOW + timedelta(days=21), 21)
    active.quiet_flagged_at = NOW + timedelta(days=21)
    assert not rules.should_flag_quiet(active, last, NOW + timedelta(days=40), 21)
    # Activity since the flag, then quiet again: a new spell, flagged again.
    later = NOW + timedelta(days=30)
    assert rules.should_flag_quiet(active, later, later + timedelta(days=21), 21)
    assert not rules.should_flag_quiet(pair(PairState.ENDED), last, NOW + timedelta(days=99), 21)


def test_goals_as_typed_one_per_line_a_few_short_ones() -> None:
    assert rules.clean_goals("- Spot disruption\n\n2. Write in public\n• Ship it") == [
        "Spot disruption",
        "Write in public",
        "Ship it",
    ]
    with pytest.raises(InvalidInput, match="5 goals"):
        rules.clean_goals("\n".join(f"goal {i}" for i in range(6)))
    with pytest.raises(InvalidInput, match="200 characters"):
        rules.clean_goals("x" * 201)
    with pytest.raises(InvalidInput, match="Write the action item"):
        rules.clean_limited("   ", 300, "the action item")
