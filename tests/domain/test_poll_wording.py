"""What the words of a count and a chapter rest on: which earlier round (if any) broke a
round's tie for last place, and a chapter's label when its title only repeats it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.model import Chapter
from bot.domain.polls import instant_runoff, tie_decided_by

# --- which round broke a tie ------------------------------------------------------------------


def test_a_tie_broken_by_the_round_before_names_that_round() -> None:
    # Round 1: 4 goes out alone. Round 2: 1, 2 and 3 tie on 3; in round 1, 2 had fewer.
    ballots = [(1,)] * 3 + [(2,)] * 2 + [(3,)] * 3 + [(4, 2)] + [(5, 3)] * 2 + [(5, 2)] * 2
    count = instant_runoff([1, 2, 3, 4, 5], ballots)
    first, second = count.rounds[:2]
    assert not first.tie_broken and second.tie_broken and second.eliminated == 2
    assert tie_decided_by(count, 2) == 1


def test_a_tie_level_in_every_earlier_round_is_decided_by_the_proposal_order() -> None:
    count = instant_runoff([1, 2, 3], [(1,), (2,), (3, 1), (3, 2)])
    assert count.rounds[0].tie_broken and count.rounds[0].eliminated == 2
    assert tie_decided_by(count, 1) is None  # no earlier round: the later proposal


def test_a_tie_goes_back_round_by_round_to_the_first_that_separates_it() -> None:
    # Round 1: 1:2 2:2 3:2 4:1 5:3, 4 goes out. Round 2: 1:2 2:3 3:2 5:3, 1 and 3 tie and
    # were level in round 1 too: 3 (the later proposal) goes out. Round 3: 1 goes out.
    # Round 4: 2:3 5:3, level in rounds 3 and 2; in round 1, 2 had fewer.
    ballots = [(1,)] * 2 + [(2,)] * 2 + [(3,)] * 2 + [(4, 2)] + [(5,)] * 3
    count = instant_runoff([1, 2, 3, 4, 5], ballots)
    assert [r.eliminated for r in count.rounds] == [4, 3, 1, 2, None]
    assert [r.tie_broken for r in count.rounds] == [False, True, False, True, False]
    assert count.rounds[3].votes == ((2, 3), (5, 3))
    assert tie_decided_by(count, 2) is None
    assert tie_decided_by(count, 4) == 1


def test_a_round_without_a_tie_was_decided_by_no_tie_break() -> None:
    count = instant_runoff([1, 2, 3], [(1,), (1,), (2,), (2,), (3, 1)])
    assert not count.rounds[0].tie_broken
    assert tie_decided_by(count, 1) is None


@given(
    st.lists(
        st.lists(st.integers(1, 5), min_size=1, max_size=3, unique=True), min_size=1, max_size=12
    )
)
def test_the_round_named_is_one_where_the_one_out_had_fewer_than_the_others_tied(
    ballots: list[list[int]],
) -> None:
    count = instant_runoff([1, 2, 3, 4, 5], ballots)
    for counted in count.rounds:
        if not counted.tie_broken:
            continue
        out = counted.eliminated
        assert out is not None
        fewest = min(v for _c, v in counted.votes)
        tied = [c for c, v in counted.votes if v == fewest]
        assert out in tied and len(tied) > 1
        by = tie_decided_by(count, counted.number)
        level = tied
        for earlier in reversed(count.rounds[: counted.number - 1]):
            votes = dict(earlier.votes)
            least = min(votes[c] for c in level)
            narrowed = [c for c in level if votes[c] == least]
            if len(narrowed) == 1:
                assert by == earlier.number and narrowed == [out]
                break
            level = narrowed
        else:
            assert by is None and out == level[-1]


# --- a chapter's label ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "title"),
    [
        (1, "Chapter 1"),
        (1, "chapter 1"),
        (1, "CHAPTER  1"),
        (2, "Ch. 2"),
        (2, "ch 2"),
        (2, "Ch.2"),
        (3, "3"),
        (3, "3."),
        (4, "Chapter 04"),
        (5, "Chapter five"),
        (5, "Chapter 5."),
    ],
)
def test_a_title_that_is_only_the_chapters_own_label_is_shown_once(number: int, title: str) -> None:
    assert Chapter(number, title).label() == f"Chapter {number}"


@pytest.mark.parametrize(
    ("number", "title", "label"),
    [
        (1, "Chapter 2", "Chapter 1: Chapter 2"),  # another number: it says something
        (1, "1984", "Chapter 1: 1984"),
        (1, "Chapter 1: Arrival", "Chapter 1: Chapter 1: Arrival"),
        (1, "One", "Chapter 1: One"),  # a word alone is a title, not a number
        (1, "Chapters 1", "Chapter 1: Chapters 1"),
        (2, "Part 2", "Chapter 2: Part 2"),
        (3, "The Middle", "Chapter 3: The Middle"),
        (3, None, "Chapter 3"),
    ],
)
def test_any_other_title_is_kept_after_the_label(
    number: int, title: str | None, label: str
) -> None:
    assert Chapter(number, title).label() == label
