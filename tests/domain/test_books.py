"""Book rules: chapter specs, titles and authors, the duplicate key, questions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.books import (
    MAX_AUTHOR,
    MAX_CHAPTER_TITLE,
    MAX_CHAPTERS,
    MAX_QUESTION,
    MAX_QUESTIONS,
    book_key,
    clean_questions,
    new_book,
    parse_chapters,
)
from bot.domain.errors import InvalidInput
from bot.domain.model import Chapter


def test_a_count_gives_numbered_chapters() -> None:
    chapters = parse_chapters(" 3 ")
    assert chapters == [Chapter(1), Chapter(2), Chapter(3)]
    assert chapters[0].label() == "Chapter 1"


def test_titles_separated_by_semicolons() -> None:
    chapters = parse_chapters("Intro ;  The Middle;End")
    assert [(c.number, c.title) for c in chapters] == [(1, "Intro"), (2, "The Middle"), (3, "End")]
    assert chapters[1].label() == "Chapter 2: The Middle"


def test_a_single_title_is_one_chapter() -> None:
    assert parse_chapters("Prologue") == [Chapter(1, "Prologue")]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "count"),
        ("   ", "count"),
        ("0", "at least one chapter"),
        ("00", "at least one chapter"),
        (str(MAX_CHAPTERS + 1), f"at most {MAX_CHAPTERS}"),
        ("Intro;;End", "empty"),
        ("Intro; ;End", "empty"),
        ("Intro;", "empty"),
        (";Intro", "empty"),
        ("x" * (MAX_CHAPTER_TITLE + 1), f"at most {MAX_CHAPTER_TITLE}"),
        (";".join(["t"] * (MAX_CHAPTERS + 1)), f"at most {MAX_CHAPTERS}"),
    ],
)
def test_bad_chapter_specs(spec: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse_chapters(spec)


def test_a_non_ascii_digit_is_a_title_not_a_crash() -> None:
    # "²".isdigit() is True but int("²") raises: it must not be read as a count.
    assert parse_chapters("²") == [Chapter(1, "²")]


@given(st.integers(1, MAX_CHAPTERS))
def test_count_property(count: int) -> None:
    assert [c.number for c in parse_chapters(str(count))] == list(range(1, count + 1))


def test_new_book_normalises_spaces() -> None:
    book = new_book(1, "  The   Waves ", " Virginia\tWoolf ", [Chapter(1)], "U1")
    assert (book.title, book.author, book.added_by, book.id) == (
        "The Waves",
        "Virginia Woolf",
        "U1",
        None,
    )


@pytest.mark.parametrize(
    ("title", "author", "chapters", "words"),
    [
        ("", "Woolf", [Chapter(1)], "needs a title"),
        ("   ", "Woolf", [Chapter(1)], "needs a title"),
        ("The Waves", "", [Chapter(1)], "needs an author"),
        ("The Waves", " \t", [Chapter(1)], "needs an author"),
        ("The Waves", "Woolf", [], "at least one chapter"),
        ("x" * 201, "Woolf", [Chapter(1)], "at most 200"),
        ("The Waves", "x" * (MAX_AUTHOR + 1), [Chapter(1)], f"at most {MAX_AUTHOR}"),
    ],
)
def test_new_book_rejects(title: str, author: str, chapters: list[Chapter], words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        new_book(1, title, author, chapters, None)


def test_book_key_is_case_and_space_blind() -> None:
    assert book_key("The  Waves", "Virginia Woolf") == book_key("the waves", " VIRGINIA   woolf ")
    assert book_key("The Waves", "Woolf") != book_key("The Waves", "Someone Else")
    # Title and author cannot bleed into each other.
    assert book_key("A B", "C") != book_key("A", "B C")


def test_clean_questions() -> None:
    assert clean_questions(["  Why   now? ", "", "  ", "Who?"]) == ["Why now?", "Who?"]
    with pytest.raises(InvalidInput, match="at least one question"):
        clean_questions(["", "  "])
    with pytest.raises(InvalidInput, match=f"At most {MAX_QUESTIONS}"):
        clean_questions([f"Q{i}?" for i in range(MAX_QUESTIONS + 1)])
    with pytest.raises(InvalidInput, match=f"at most {MAX_QUESTION}"):
        clean_questions(["x" * (MAX_QUESTION + 1)])


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ('"Pride & Prejudice"', "Pride & Prejudice"),
        ("“Pride & Prejudice”", "Pride & Prejudice"),
        ("‘Salem’s Lot’", "Salem’s Lot"),
        ("'Dune'", "Dune"),
        ("«Le Petit Prince»", "Le Petit Prince"),
        ("„Der Process“", "Der Process"),
        ('  "  Spaced  "  ', "Spaced"),
        # Quotes that are part of the title stay.
        ("'Salem's Lot", "'Salem's Lot"),
        ('"Hello" Goodbye', '"Hello" Goodbye'),
        ('The "Best" Book', 'The "Best" Book'),
        ('"Quoted" and "again"', '"Quoted" and "again"'),
    ],
)
def test_quotes_typed_around_a_title_or_author_are_not_part_of_it(typed: str, stored: str) -> None:
    book = new_book(1, typed, typed, [Chapter(1)], "U1")
    assert (book.title, book.author) == (stored, stored)


def test_a_title_of_quotes_alone_is_no_title() -> None:
    with pytest.raises(InvalidInput, match="needs a title"):
        new_book(1, '""', "Jane Austen", [Chapter(1)], "U1")
