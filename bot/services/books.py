"""Books: add, list, find, set per-chapter discussion questions."""

from __future__ import annotations

from bot.domain.books import book_key, clean_questions, new_book, parse_chapters
from bot.domain.errors import Conflict, Duplicate, InvalidInput, NotFound, is_number
from bot.domain.model import Book, Chapter
from bot.services.ports import Clock, Unit, UnitOfWork

MAX_ID = 2**63 - 1  # the largest id SQLite INTEGER / PostgreSQL BIGINT can hold


class BookService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def add(
        self,
        team_id: str,
        user_id: str | None,
        title: str,
        author: str,
        chapters: str | list[Chapter],
    ) -> Book:
        """Add a book to the workspace's shelf; the same title and author twice is refused."""
        chapter_list = parse_chapters(chapters) if isinstance(chapters, str) else chapters
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            book = new_book(workspace_id, title, author, chapter_list, user_id)
            key = book_key(book.title, book.author)
            duplicate = Conflict(
                f"“{book.title}” by {book.author} is already on the shelf. See `/book list`."
            )
            if uow.books.key_exists(workspace_id, key):
                raise duplicate
            try:
                stored = uow.books.add(book, key, now)
                uow.commit()
            except Duplicate:
                raise duplicate from None
            return stored

    def all(self, team_id: str) -> list[Book]:
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, self.clock.now())
            books = uow.books.all(workspace_id)
            uow.commit()
            return books

    def find(self, team_id: str, ref: str) -> Book:
        """A book by id (``3`` or ``#3``) or by title (exact, else a unique start of one)."""
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, self.clock.now())
            uow.commit()
            return find_book(uow, workspace_id, ref)

    def set_questions(
        self, team_id: str, book_ref: str, chapter: int, questions: list[str]
    ) -> Book:
        cleaned = clean_questions(questions)
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, self.clock.now())
            book = find_book(uow, workspace_id, book_ref)
            require_chapter(book, chapter)
            assert book.id is not None
            uow.books.set_questions(book.id, chapter, cleaned)
            uow.commit()
            book.chapter(chapter).questions = cleaned
            return book


def find_book(uow: Unit, workspace_id: int, ref: str) -> Book:
    """Resolve a book reference inside an open unit of work."""
    text = " ".join(ref.split())
    if not text:
        raise InvalidInput("Name a book by its number or title. `/book list` shows them.")
    number = text.removeprefix("#")
    missing = NotFound(f"No book called “{text}”. `/book list` shows the shelf.")
    if is_number(number):
        # Ids beyond BIGINT would make the database raise instead of finding nothing.
        book = uow.books.get(int(number)) if int(number) <= MAX_ID else None
        if book is not None and book.workspace_id == workspace_id:
            return book
        missing = NotFound(f"There is no book #{number}. `/book list` shows the shelf.")
        if text.startswith("#"):
            raise missing
        # A bare number may also be a title ("1984"): fall through to the title search.
    books = uow.books.all(workspace_id)
    wanted = text.casefold()
    exact = [b for b in books if b.title.casefold() == wanted]
    candidates = exact or [b for b in books if b.title.casefold().startswith(wanted)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise missing
    names = ", ".join(f"#{b.id} {b.title}" for b in candidates[:5])
    raise InvalidInput(f"“{text}” matches several books ({names}); use the number.")


def require_chapter(book: Book, chapter: int) -> None:
    if not 1 <= chapter <= book.chapter_count:
        raise InvalidInput(
            f"“{book.title}” has chapters 1–{book.chapter_count}; there is no chapter {chapter}."
        )
