"""BookService on the real database: add, duplicates, find, questions."""

from __future__ import annotations

import pytest

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.model import Chapter
from bot.services.books import BookService

from .conftest import TEAM


def test_add_with_a_count_and_read_back(books: BookService) -> None:
    book = books.add(TEAM, "U1", "Middlemarch", "George Eliot", "12")
    assert book.id is not None
    assert book.chapter_count == 12
    assert [b.id for b in books.all(TEAM)] == [book.id]
    again = books.find(TEAM, str(book.id))
    assert (again.title, again.author, again.added_by, again.workspace_id) == (
        "Middlemarch",
        "George Eliot",
        "U1",
        book.workspace_id,
    )
    assert [c.number for c in again.chapters] == list(range(1, 13))


def test_add_with_titles(books: BookService) -> None:
    book = books.add(TEAM, None, "Dubliners", "James Joyce", "The Sisters; An Encounter; Araby")
    stored = books.find(TEAM, f"#{book.id}")
    assert [(c.number, c.title) for c in stored.chapters] == [
        (1, "The Sisters"),
        (2, "An Encounter"),
        (3, "Araby"),
    ]
    assert stored.added_by is None


def test_add_with_a_chapter_list(books: BookService) -> None:
    book = books.add(TEAM, "U1", "Poems", "Anon", [Chapter(1, "One"), Chapter(2)])
    assert [(c.number, c.title) for c in books.find(TEAM, "Poems").chapters] == [
        (1, "One"),
        (2, None),
    ]
    assert book.chapter_count == 2


@pytest.mark.parametrize(
    ("title", "author", "chapters", "words"),
    [
        ("", "Eliot", "3", "needs a title"),
        ("Middlemarch", "  ", "3", "needs an author"),
        ("Middlemarch", "Eliot", "0", "at least one chapter"),
        ("Middlemarch", "Eliot", "One;;Three", "empty"),
        ("Middlemarch", "Eliot", "", "count"),
    ],
)
def test_add_rejects_bad_input_and_stores_nothing(
    books: BookService, title: str, author: str, chapters: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        books.add(TEAM, "U1", title, author, chapters)
    assert books.all(TEAM) == []


@pytest.mark.parametrize(
    ("title", "author"),
    [
        ("Middlemarch", "George Eliot"),
        ("middlemarch", "GEORGE ELIOT"),
        ("  Middlemarch ", "George \t Eliot"),
    ],
)
def test_duplicates_are_refused(books: BookService, title: str, author: str) -> None:
    books.add(TEAM, "U1", "Middlemarch", "George Eliot", "3")
    with pytest.raises(Conflict, match=r"is already on the shelf\. See `/book list`"):
        books.add(TEAM, "U2", title, author, "5")
    assert [b.chapter_count for b in books.all(TEAM)] == [3]


def test_different_words_are_a_different_book(books: BookService) -> None:
    books.add(TEAM, "U1", "Middlemarch", "George Eliot", "3")
    books.add(TEAM, "U1", "Middle march", "George Eliot", "3")
    assert len(books.all(TEAM)) == 2


def test_same_title_different_author_is_allowed(books: BookService) -> None:
    books.add(TEAM, "U1", "Poems", "Emily Dickinson", "3")
    books.add(TEAM, "U1", "Poems", "Walt Whitman", "3")
    assert [b.author for b in books.all(TEAM)] == ["Emily Dickinson", "Walt Whitman"]


def test_same_book_in_another_workspace_is_allowed(books: BookService) -> None:
    first = books.add(TEAM, "U1", "Middlemarch", "George Eliot", "3")
    second = books.add("T2", "U9", "Middlemarch", "George Eliot", "3")
    assert first.workspace_id != second.workspace_id
    assert [b.id for b in books.all("T2")] == [second.id]


def test_find_by_id_title_and_prefix(books: BookService) -> None:
    waves = books.add(TEAM, "U1", "The Waves", "Virginia Woolf", "9")
    years = books.add(TEAM, "U1", "The Years", "Virginia Woolf", "11")
    light = books.add(TEAM, "U1", "To the Lighthouse", "Virginia Woolf", "3")
    assert books.find(TEAM, str(waves.id)).id == waves.id
    assert books.find(TEAM, f"#{years.id}").id == years.id
    assert books.find(TEAM, f"  #{light.id} ").id == light.id
    assert books.find(TEAM, "the  WAVES").id == waves.id  # exact, case and space blind
    assert books.find(TEAM, "to the").id == light.id  # unique prefix
    assert books.find(TEAM, "The Y").id == years.id


def test_exact_title_wins_over_prefix(books: BookService) -> None:
    short = books.add(TEAM, "U1", "Emma", "Jane Austen", "3")
    books.add(TEAM, "U1", "Emma Bovary Revisited", "Someone", "3")
    assert books.find(TEAM, "emma").id == short.id


def test_ambiguous_prefix_lists_the_candidates(books: BookService) -> None:
    waves = books.add(TEAM, "U1", "The Waves", "Virginia Woolf", "9")
    years = books.add(TEAM, "U1", "The Years", "Virginia Woolf", "11")
    with pytest.raises(InvalidInput, match="matches several books") as caught:
        books.find(TEAM, "The")
    assert f"#{waves.id} The Waves" in caught.value.message
    assert f"#{years.id} The Years" in caught.value.message


@pytest.mark.parametrize(
    "ref", ["Ulysses", "#999", "999", "99999999999999999999999", "#99999999999999999999"]
)
def test_unknown_book_is_not_found(books: BookService, ref: str) -> None:
    books.add(TEAM, "U1", "The Waves", "Virginia Woolf", "9")
    with pytest.raises(NotFound, match="`/book list` shows the shelf"):
        books.find(TEAM, ref)


def test_empty_reference_is_invalid(books: BookService) -> None:
    with pytest.raises(InvalidInput, match="Name a book"):
        books.find(TEAM, "  ")


def test_a_numeric_title_is_found_by_title(books: BookService) -> None:
    # "1984" is a title, not book #1984.
    orwell = books.add(TEAM, "U1", "1984", "George Orwell", "3")
    assert books.find(TEAM, "1984").id == orwell.id
    with pytest.raises(NotFound, match="no book #1984"):
        books.find(TEAM, "#1984")


def test_another_workspaces_book_is_not_found_by_id(books: BookService) -> None:
    theirs = books.add("T2", "U9", "Secret", "Someone", "3")
    with pytest.raises(NotFound, match=f"no book #{theirs.id}"):
        books.find(TEAM, str(theirs.id))
    with pytest.raises(NotFound):
        books.find(TEAM, "Secret")


def test_set_questions(books: BookService) -> None:
    book = books.add(TEAM, "U1", "Middlemarch", "George Eliot", "3")
    updated = books.set_questions(
        TEAM, "Middlemarch", 2, [" Why Dorothea? ", "", "Who is Casaubon?"]
    )
    assert updated.chapter(2).questions == ["Why Dorothea?", "Who is Casaubon?"]
    stored = books.find(TEAM, str(book.id))
    assert [c.questions for c in stored.chapters] == [[], ["Why Dorothea?", "Who is Casaubon?"], []]
    books.set_questions(TEAM, str(book.id), 2, ["Only this?"])
    assert books.find(TEAM, str(book.id)).chapter(2).questions == ["Only this?"]


@pytest.mark.parametrize("chapter", [0, 4, -1])
def test_set_questions_on_a_missing_chapter(books: BookService, chapter: int) -> None:
    books.add(TEAM, "U1", "Middlemarch", "George Eliot", "3")
    with pytest.raises(InvalidInput, match=f"has chapters 1–3; there is no chapter {chapter}"):
        books.set_questions(TEAM, "Middlemarch", chapter, ["Why?"])


def test_set_questions_needs_a_question_and_a_known_book(books: BookService) -> None:
    books.add(TEAM, "U1", "Middlemarch", "George Eliot", "3")
    with pytest.raises(InvalidInput, match="at least one question"):
        books.set_questions(TEAM, "Middlemarch", 1, ["  "])
    with pytest.raises(NotFound):
        books.set_questions(TEAM, "Ulysses", 1, ["Why?"])
