"""Messages about a book read from a file: ready to pick its chapters, or refused."""

from __future__ import annotations

from bot.domain.imports import PendingImport
from bot.domain.model import Book
from bot.domain.text import plural
from bot.slack.blocks.base import Message, actions, button, context, section
from bot.slack.blocks.books import book_line
from bot.slack.text import escape

PICK_ACTION = "import_pick"  # value: the pending import's id


def import_ready(pending: PendingImport, picked: int) -> Message:
    entries = plural(len(pending.entries), "entry", "entries")
    return Message(
        f"Read {pending.title}: pick its chapters",
        [
            section(
                f":open_book: I read *{escape(pending.title)}* by {escape(pending.author)} "
                f"from “{escape(pending.filename)}”: its table of contents has {entries}, "
                f"{picked} of them look like chapters (front matter, acknowledgements, the "
                "index and the like are left out)."
            ),
            actions(button("Pick the chapters", PICK_ACTION, str(pending.id), style="primary")),
            context("The form lets you change which entries are chapters, and the title."),
        ],
    )


def import_refused(filename: str, reason: str) -> Message:
    return Message(
        f"Could not import {filename}",
        [section(f":warning: {escape(reason)}")],
    )


def book_imported(book: Book) -> Message:
    return Message(
        f"Added {book.title} to the shelf",
        [
            section(f":books: Added to the shelf: {book_line(book)}"),
            context(f"Start it in a channel with `/book start {book.id}`."),
        ],
    )


def direct_message_help() -> Message:
    return Message(
        "What I do here",
        [
            section(
                ":wave: Here I send you reminders, your exports and replies. Send me a book "
                "as an EPUB file and I'll read its chapters for the shelf. Everything else "
                "works with `/book` and `/reflect` (`/book help`, `/reflect help`), best in "
                "your group's channel."
            )
        ],
    )
