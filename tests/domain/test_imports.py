"""Which entries of a table of contents are chapters, and the chapter list the picks make."""

from __future__ import annotations

import pytest

from bot.domain.books import MAX_CHAPTER_TITLE
from bot.domain.errors import InvalidInput
from bot.domain.imports import (
    MAX_PICKER_ENTRIES,
    TocEntry,
    chapters_from,
    check_picker,
    default_picks,
    describe_picks,
    is_matter,
    parse_picks,
)


def titles(entries: list[TocEntry], picks: list[int]) -> list[str]:
    return [entries[i].title for i in picks]


def test_front_and_back_matter_are_left_out() -> None:
    for title in (
        "Cover",
        "Title Page",
        "Copyright",
        "Table of Contents",
        "Dedication",
        "Acknowledgments",
        "ACKNOWLEDGEMENTS",
        "About the Author",
        "Also by Ursula K. Le Guin",
        "Index",
        "Notes",
        "Bibliography",
        "Appendix B: Maps",
        "List of Illustrations",
        "Praise for The Dispossessed",
    ):
        assert is_matter(title), title
    for title in ("Chapter 1", "Prologue", "Introduction", "Epilogue", "The Index Card"):
        assert not is_matter(title), title


def test_parts_give_way_to_their_chapters_and_sections_stay_inside() -> None:
    entries = [
        TocEntry("Cover"),
        TocEntry("Prologue"),
        TocEntry("Part I", 0),
        TocEntry("One", 1),
        TocEntry("Two", 1),
        TocEntry("Book Two", 0),
        TocEntry("Three", 1),
        TocEntry("Four", 0),
        TocEntry("4.1 A section", 1),
        TocEntry("4.2 Another", 1),
        TocEntry("The Second Half", 0),  # an unnamed part: its children read as chapters
        TocEntry("Chapter 5", 1),
        TocEntry("Index"),
    ]
    assert titles(entries, default_picks(entries)) == [
        "Prologue",
        "One",
        "Two",
        "Three",
        "Four",
        "Chapter 5",
    ]


def test_picks_become_numbered_chapters_with_their_titles() -> None:
    entries = [TocEntry("A"), TocEntry("B" * 200), TocEntry("C")]
    chapters = chapters_from(entries, [2, 1, 2])
    assert [(c.number, c.title) for c in chapters] == [(1, "B" * 149 + "…"), (2, "C")]
    assert len(chapters[0].title or "") == MAX_CHAPTER_TITLE
    with pytest.raises(InvalidInput):
        chapters_from(entries, [])


def test_picks_typed_as_ranges() -> None:
    assert parse_picks("2-4, 6", 8) == [1, 2, 3, 5]
    assert describe_picks([1, 2, 3, 5, 7]) == "2-4, 6, 8"
    for typed in ("0", "2-9", "x", "3-"):
        with pytest.raises(InvalidInput):
            parse_picks(typed, 8)


def test_the_picker_needs_a_table_of_contents_it_can_show() -> None:
    with pytest.raises(InvalidInput) as empty:
        check_picker([])
    assert "no table of contents" in empty.value.message
    with pytest.raises(InvalidInput) as many:
        check_picker([TocEntry(str(n)) for n in range(MAX_PICKER_ENTRIES + 1)])
    assert "readalong book import" in many.value.message
