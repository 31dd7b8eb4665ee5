"""Messages about the shelf."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.model import Book
from bot.slack.blocks.base import Message, context, header, notice, section, text_sections
from bot.slack.text import escape


def book_line(book: Book) -> str:
    return (
        f"*#{book.id}* {escape(book.title)} — {escape(book.author)} "
        f"({book.chapter_count} chapter{'s' if book.chapter_count != 1 else ''})"
    )


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
        f"{len(books)} books on the shelf",
        [header(":books: The shelf"), *text_sections(book_line(b) for b in books)],
    )
