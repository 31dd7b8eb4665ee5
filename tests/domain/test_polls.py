"""The next-book poll's rules: the instant-runoff count (held to an independent count of
the same ballots, by hypothesis), the tie-break, what a ballot may say, closing times."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput, PermissionDenied
from bot.domain.model import Caller
from bot.domain.polls import (
    END_OF_DAY,
    MAX_POLL_DAYS,
    Poll,
    PollState,
    check_ranking,
    instant_runoff,
    parse_closes,
    require_closer,
)
from bot.domain.schedule import zone
from bot.services.ports import FakeClock


def reference_count(candidates: Sequence[int], ballots: Sequence[Sequence[int]]) -> int | None:
    """Instant runoff written as plainly as possible, for comparison: count first
    preferences among those left; more than half wins; else the lowest goes out, ties
    going to fewer votes in the round before (and so on back), then to the later
    proposal."""
    left = list(candidates)
    earlier_rounds: list[Counter[int]] = []
    while True:
        firsts: Counter[int] = Counter()
        for ballot in ballots:
            top = next((c for c in ballot if c in left), None)
            if top is not None:
                firsts[top] += 1
        counted = sum(firsts.values())
        if counted == 0:
            return None
        if len(left) == 1:
            return left[0]
        for c in left:
            if 2 * firsts[c] > counted:
                return c

        weakness = {
            c: (firsts[c], *(r[c] for r in reversed(earlier_rounds)), -candidates.index(c))
            for c in left
        }
        left.remove(min(left, key=weakness.__getitem__))
        earlier_rounds.append(firsts)


# --- the count, by example -------------------------------------------------------------


def test_the_plurality_leader_can_lose_once_second_choices_count() -> None:
    # 1 leads on first choices (4 of 9), but 2 and 3's voters prefer each other.
    ballots = [(1,)] * 4 + [(2, 3)] * 3 + [(3, 2)] * 2
    count = instant_runoff([1, 2, 3], ballots)
    assert count.winner == 2
    first, second = count.rounds
    assert first.votes == ((1, 4), (2, 3), (3, 2)) and first.eliminated == 3
    assert second.votes == ((1, 4), (2, 5)) and second.eliminated is None
    assert count.ballots == 9 and not first.tie_broken


def test_a_majority_on_first_choices_wins_in_one_round() -> None:
    count = instant_runoff([1, 2, 3], [(2, 1), (2,), (1, 2)])
    assert count.winner == 2 and len(count.rounds) == 1


def test_a_tie_for_last_goes_to_the_round_before() -> None:
    ballots = [(1,)] * 3 + [(2,)] * 2 + [(3,)] * 3 + [(4, 2)] + [(5, 3)] * 2 + [(5, 2)] * 2
    count = instant_runoff([1, 2, 3, 4, 5], ballots)
    # Round 1: 1:3 2:2 3:3 4:1 5:4, so 4 goes out, and its ballot counts for 2.
    assert count.rounds[0].votes == ((1, 3), (2, 2), (3, 3), (4, 1), (5, 4))
    assert count.rounds[0].eliminated == 4 and not count.rounds[0].tie_broken
    # Round 2: 1, 2 and 3 tie for last at 3; in round 1, 2 had fewer: 2 goes.
    assert count.rounds[1].votes == ((1, 3), (2, 3), (3, 3), (5, 4))
    assert count.rounds[1].eliminated == 2 and count.rounds[1].tie_broken
    assert count.winner == reference_count([1, 2, 3, 4, 5], ballots)


def test_a_tie_all_the_way_back_goes_to_the_later_proposal() -> None:
    count = instant_runoff([1, 2], [(1,), (2,)])
    assert count.rounds[0].eliminated == 2 and count.rounds[0].tie_broken
    assert count.winner == 1
    assert instant_runoff([7, 3], [(3,), (7,)]).winner == 7  # proposal order, not numbers


def test_nobody_voting_means_no_winner() -> None:
    count = instant_runoff([1, 2, 3], [])
    assert count.winner is None and count.ballots == 0 and len(count.rounds) == 1


def test_exhausted_ballots_are_counted_apart() -> None:
    ballots = [(3,), (1,), (1,), (2,), (2,)]
    count = instant_runoff([1, 2, 3], ballots)
    assert count.rounds[0].eliminated == 3
    assert count.rounds[1].exhausted == 1
    # 1 and 2 tie at 2 of 4; in round 1 they tied too; 2 is the later proposal.
    assert count.winner == 1


def test_a_ballot_naming_a_candidate_twice_or_an_unknown_one_counts_once() -> None:
    assert instant_runoff([1, 2], [(9, 2, 2, 1)]).rounds[0].votes == ((1, 0), (2, 1))


# --- the count, held to an independent one ----------------------------------------------


@st.composite
def polls(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, ...]]]:
    count = draw(st.integers(min_value=2, max_value=6))
    candidates = draw(st.permutations(list(range(1, count + 1))))
    ranking = st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True)
    ballots = draw(st.lists(ranking.map(tuple), max_size=15))
    return list(candidates), ballots


@settings(max_examples=400, deadline=None)
@given(polls())
def test_the_count_agrees_with_an_independent_count(
    poll: tuple[list[int], list[tuple[int, ...]]],
) -> None:
    candidates, ballots = poll
    count = instant_runoff(candidates, ballots)
    assert count.winner == reference_count(candidates, ballots)
    # Every round counts every ballot once, and one candidate fewer than the last.
    for n, counted in enumerate(count.rounds):
        assert sum(v for _c, v in counted.votes) + counted.exhausted == len(ballots)
        assert len(counted.votes) == len(candidates) - n
    if count.winner is not None:
        assert (count.winner, max(v for _c, v in count.rounds[-1].votes)) in count.rounds[-1].votes


# --- ballots -----------------------------------------------------------------------------


def test_a_ranking_names_each_candidate_once_and_at_most_three() -> None:
    assert check_ranking([2, 1], [1, 2, 3]) == (2, 1)
    with pytest.raises(InvalidInput) as twice:
        check_ranking([2, 2], [1, 2, 3])
    assert twice.value.field == "rank2" and "already" in twice.value.message
    with pytest.raises(InvalidInput) as empty:
        check_ranking([], [1, 2])
    assert empty.value.field == "rank1"
    with pytest.raises(InvalidInput):
        check_ranking([1, 2, 3, 4], [1, 2, 3, 4])
    with pytest.raises(InvalidInput) as unknown:
        check_ranking([5], [1, 2])
    assert "not on this ballot" in unknown.value.message


def test_only_whoever_posted_the_poll_or_an_admin_closes_it(clock: FakeClock) -> None:
    poll = Poll(1, 1, "C1", "U1", clock.now(), state=PollState.OPEN, host_user_id="UHOST")
    require_closer(poll, Caller("T", "UHOST"))
    require_closer(poll, Caller("T", "UADMIN", is_admin=True))
    with pytest.raises(PermissionDenied):
        require_closer(poll, Caller("T", "UOTHER"))


# --- when it closes ----------------------------------------------------------------------


def test_closing_times_as_members_say_them(clock: FakeClock) -> None:
    now = clock.now()
    tz = "Europe/Berlin"
    today = now.astimezone(zone(tz)).date()

    def local(moment: datetime) -> tuple[object, object]:
        shown = moment.astimezone(zone(tz))
        return shown.date(), shown.time()

    assert local(parse_closes(None, now, tz)) == (today + timedelta(days=7), END_OF_DAY)
    assert local(parse_closes("tomorrow", now, tz)) == (today + timedelta(days=1), END_OF_DAY)
    assert local(parse_closes("in 3 days at 18:00", now, tz))[0] == today + timedelta(days=3)
    assert local(parse_closes("in three days", now, tz))[0] == today + timedelta(days=3)
    friday = parse_closes("friday", now, tz).astimezone(zone(tz))
    assert friday.weekday() == 4 and 0 < (friday.date() - today).days <= 7
    same_day = today.strftime("%A").lower()  # "friday" on a Friday: next week's
    assert (local(parse_closes(same_day, now, tz))[0] - today).days == 7  # type: ignore[operator]
    iso = (today + timedelta(days=10)).isoformat()
    closes = parse_closes(f"{iso} at 18:30", now, tz).astimezone(zone(tz))
    assert closes.date().isoformat() == iso and (closes.hour, closes.minute) == (18, 30)


def test_closing_times_that_cannot_be(clock: FakeClock) -> None:
    now = clock.now()
    yesterday = (now - timedelta(days=1)).date().isoformat()
    far = (now + timedelta(days=MAX_POLL_DAYS + 2)).date().isoformat()
    for typed, said in (
        (yesterday, "already passed"),
        (far, f"at most {MAX_POLL_DAYS} days"),
        ("someday", "don't understand"),
        ("in zero days", "whole number of days"),
        ("friday at 25:00", "not a time"),
    ):
        with pytest.raises(InvalidInput) as refused:
            parse_closes(typed, now, "UTC")
        assert said in refused.value.message, typed
