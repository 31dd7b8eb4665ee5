"""The shelf: books and their chapters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.domain.errors import NotFound
from bot.domain.model import Book, Chapter
from bot.storage.models import BookRow, ChapterRow
from bot.storage.repositories._common import flush


class SqlBooks:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, book: Book, key: str, now: datetime) -> Book:
        row = BookRow(
            workspace_id=book.workspace_id,
            title=book.title,
            author=book.author,
            book_key=key,
            added_by=book.added_by,
            created_at=now,
            chapters=[
                ChapterRow(number=c.number, title=c.title, questions=list(c.questions))
                for c in book.chapters
            ],
        )
        self.session.add(row)
        flush(self.session)
        return _book(row)

    def get(self, book_id: int) -> Book | None:
        row = self.session.get(BookRow, book_id, options=[selectinload(BookRow.chapters)])
        return _book(row) if row else None

    def many(self, book_ids: Sequence[int]) -> list[Book]:
        if not book_ids:
            return []
        rows = self.session.scalars(
            select(BookRow).where(BookRow.id.in_(book_ids)).options(selectinload(BookRow.chapters))
        )
        return [_book(r) for r in rows]

    def key_exists(self, workspace_id: int, key: str) -> bool:
        found = self.session.scalar(
            select(BookRow.id).where(BookRow.workspace_id == workspace_id, BookRow.book_key == key)
        )
        return found is not None

    def all(self, workspace_id: int) -> list[Book]:
        rows = self.session.scalars(
            select(BookRow)
            .where(BookRow.workspace_id == workspace_id)
            .options(selectinload(BookRow.chapters))
            .order_by(BookRow.id)
        )
        return [_book(r) for r in rows]

    def update(self, book: Book, key: str) -> None:
        """Write a book's title, author, key and chapters (titles and questions); chapters
        beyond the new count go, new ones come."""
        row = self.session.get_one(BookRow, book.id, options=[selectinload(BookRow.chapters)])
        row.title, row.author, row.book_key = book.title, book.author, key
        existing = {c.number: c for c in row.chapters}
        wanted = {c.number for c in book.chapters}
        for number, chapter_row in existing.items():
            if number not in wanted:
                row.chapters.remove(chapter_row)
        for chapter in book.chapters:
            kept = existing.get(chapter.number)
            if kept is None:
                row.chapters.append(
                    ChapterRow(
                        number=chapter.number,
                        title=chapter.title,
                        questions=list(chapter.questions),
                    )
                )
            else:
                kept.title = chapter.title
                kept.questions = list(chapter.questions)
        flush(self.session)

    def delete(self, book_id: int) -> None:
        row = self.session.get(BookRow, book_id)
        if row is not None:
            self.session.delete(row)
            flush(self.session)

    def set_questions(self, book_id: int, chapter: int, questions: list[str]) -> None:
        row = self.session.scalar(
            select(ChapterRow).where(ChapterRow.book_id == book_id, ChapterRow.number == chapter)
        )
        if row is None:
            raise NotFound(f"Book {book_id} has no chapter {chapter}.")
        row.questions = list(questions)


def _book(row: BookRow) -> Book:
    return Book(
        id=row.id,
        workspace_id=row.workspace_id,
        title=row.title,
        author=row.author,
        added_by=row.added_by,
        chapters=[
            Chapter(number=c.number, title=c.title, questions=list(c.questions or []))
            for c in row.chapters
        ],
    )
