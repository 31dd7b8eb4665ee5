"""Messages about the shelf."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.model import Book
from bot.domain.text import plural
from bot.slack.blocks.base import (
    Message,
    actions,
    button,
    context,
    header,
    notice,
    section,
    text_sections,
)
from bot.slack.text import escape


def book_line(book: Book) -> str:
    return f"*#{book.id}* {escape(book.title)} — {escape(book.author)} ({plural(book.chapter_count, 'chapter')})"


def book_saved(book: Book, *, edited: bool) -> Message:
    if not edited:
        return book_added(book)
    return Message(
        f"Updated {book.title}",
        [
            section(f":pencil2: Updated: {book_line(book)}"),
            context(f"`/book edit {book.id}` to change it again."),
        ],
    )


REMOVE_ACTION = "book_remove"  # value: the book's id


def remove_question(book: Book) -> Message:
    """Taking a book off the shelf is for everyone: one more click to be sure."""
    return Message(
        f"Remove {book.title} from the shelf?",
        [
            section(
                f":wastebasket: Remove *{escape(book.title)}* by {escape(book.author)} from the "
                "shelf? Nobody is reading it, and it cannot be undone."
            ),
            actions(button(f"Remove “{book.title}”", REMOVE_ACTION, str(book.id), style="danger")),
        ],
    )


def book_removed(book: Book) -> Message:
    return notice(f"Took “{book.title}” by {book.author} off the shelf.")


def book_added(book: Book) -> Message:
    line = book_line(book)
    return Message(
        f"Added {book.title} to the shelf",
        [
            section(f":books: Added to the shelf: {line}"),
            context("Start it here with `/book start " + str(book.id) + "`."),
        ],
    )


def book_list(books: Sequence[Book]) -> Message:
    if not books:
        return notice(
            "The shelf is empty. Add a book with `/book add <title> | <author> | <chapters>`."
        )
    return Message(
        f"{plural(len(books), 'book')} on the shelf",
        [header(":books: The shelf"), *text_sections(book_line(b) for b in books)],
    )
