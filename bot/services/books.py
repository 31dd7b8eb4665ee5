"""Books: add, list, find, set per-chapter discussion questions."""

from __future__ import annotations

from datetime import datetime

from bot.domain.books import (
    book_key,
    clean_chapter_title,
    clean_questions,
    new_book,
    parse_chapters,
)
from bot.domain.commands import BookEdit
from bot.domain.errors import (
    Ambiguous,
    Conflict,
    Duplicate,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Suggestion,
    is_number,
)
from bot.domain.matching import match
from bot.domain.model import RUNNING_PLAN_STATES, Book, Caller, Chapter, Plan, PlanState
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
            return store_book(uow, book, now)

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

    def edit(self, caller: Caller, request: BookEdit) -> Book:
        """Change a book's title, author, chapters or chapter titles (who added it, or an
        admin). The chapter count cannot change while a plan is reading the book."""
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(caller.team_id, now)
            book = find_book(uow, workspace_id, request.book_ref)
            _require_book_keeper(book, caller, "edit")
            chapters = [Chapter(c.number, c.title, list(c.questions)) for c in book.chapters]
            if request.chapters is not None:
                fresh = parse_chapters(request.chapters)
                questions = {c.number: c.questions for c in book.chapters}
                chapters = [
                    Chapter(c.number, c.title, list(questions.get(c.number, []))) for c in fresh
                ]
                if len(chapters) != book.chapter_count:
                    _require_no_running_plan(uow, book, "change its number of chapters")
            for number, title in request.chapter_titles:
                if not 1 <= number <= len(chapters):
                    raise InvalidInput(
                        f"“{book.title}” has chapters 1–{len(chapters)}; there is no chapter {number}."
                    )
                chapters[number - 1].title = clean_chapter_title(title)
            edited = new_book(
                workspace_id,
                request.title if request.title is not None else book.title,
                request.author if request.author is not None else book.author,
                chapters,
                book.added_by,
            )
            edited.id = book.id
            key = book_key(edited.title, edited.author)
            if key != book_key(book.title, book.author) and uow.books.key_exists(workspace_id, key):
                raise Conflict(
                    f"“{edited.title}” by {edited.author} is already on the shelf. See `/book list`."
                )
            uow.books.update(edited, key)
            uow.commit()
            return edited

    def removable(self, caller: Caller, book_ref: str) -> Book:
        """The book ``book_ref`` names, if the caller may take it off the shelf now (every
        check :meth:`remove` makes, nothing changed): for asking "are you sure?"."""
        with self.uow() as uow:
            return self._removable(uow, caller, book_ref)[0]

    def remove(self, caller: Caller, book_ref: str) -> Book:
        """Take a book off the shelf (who added it, or an admin): never while a plan reads
        it, and not once a group has read it (its history keeps it). A plan started by
        mistake and cancelled, with nobody's words on it, goes with the book."""
        with self.uow() as uow:
            book, plans = self._removable(uow, caller, book_ref)
            for plan in plans:
                uow.plans.delete(plan.id or 0)
            uow.books.delete(_book_id(book))
            uow.commit()
            return book

    def _removable(self, uow: Unit, caller: Caller, book_ref: str) -> tuple[Book, list[Plan]]:
        workspace_id = uow.workspaces.ensure(caller.team_id, self.clock.now())
        book = find_book(uow, workspace_id, book_ref)
        _require_book_keeper(book, caller, "remove")
        _require_no_running_plan(uow, book, "remove it")
        plans = uow.plans.all_for_book(_book_id(book))
        read = [p for p in plans if p.state is PlanState.FINISHED]
        if read or any(uow.reflections.for_plan(p.id or 0) for p in plans):
            raise Conflict(
                f"“{book.title}” has been read here; it stays on the shelf with its history."
            )
        return book, plans

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


def store_book(uow: Unit, book: Book, now: datetime) -> Book:
    """Put a validated book on its shelf and commit; the same title and author twice is
    refused (also when two requests add it at once)."""
    key = book_key(book.title, book.author)
    duplicate = Conflict(
        f"“{book.title}” by {book.author} is already on the shelf. See `/book list`.",
        field="title",
    )
    if uow.books.key_exists(book.workspace_id, key):
        raise duplicate
    try:
        stored = uow.books.add(book, key, now)
        uow.commit()
    except Duplicate:
        raise duplicate from None
    return stored


def shelf_book_with_key(uow: Unit, workspace_id: int, key: str) -> Book | None:
    """The book on the shelf that is the same as ``key`` (:func:`book_key`), if any."""
    if not uow.books.key_exists(workspace_id, key):
        return None
    return next(
        (b for b in uow.books.all(workspace_id) if book_key(b.title, b.author) == key), None
    )


def find_book(uow: Unit, workspace_id: int, ref: str) -> Book:
    """Resolve a book reference inside an open unit of work: ``#3``/``3``, or a title as
    people type it (case, accents, curly quotes and partial titles all fine).

    Several matches: "which one?" with each as a one-click choice. None: near misses are
    suggested.
    """
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
    found = match(text, books, lambda b: b.title)
    if found.found is not None:
        return found.found
    if found.choices:
        names = ", ".join(f"#{b.id} {b.title}" for b in found.choices[:5])
        raise Ambiguous(
            f"“{text}” matches several books ({names}). Which one? Choose below, or use its number.",
            suggestions=_book_choices(ref, found.choices[:5]),
        )
    if found.suggestions:
        names = " or ".join(f"“{b.title}”" for b in found.suggestions[:3])
        raise NotFound(
            f"No book called “{text}”. Did you mean {names}? `/book list` shows the shelf.",
            suggestions=_book_choices(ref, found.suggestions[:3]),
        )
    raise missing


def _book_choices(ref: str, books: list[Book]) -> tuple[Suggestion, ...]:
    """One-click choices: the reference as typed, replaced by each book's number."""
    return tuple(
        Suggestion(ref.strip(), f"#{b.id}", f"#{b.id} {b.title} — {b.author}") for b in books
    )


def _book_id(book: Book) -> int:
    assert book.id is not None
    return book.id


def _require_book_keeper(book: Book, caller: Caller, action: str) -> None:
    if not (caller.is_admin or (book.added_by and book.added_by == caller.user_id)):
        raise PermissionDenied(f"Only whoever added “{book.title}” or an admin can {action} it.")


def _require_no_running_plan(uow: Unit, book: Book, action: str) -> None:
    running = [p for p in uow.plans.all_for_book(_book_id(book)) if p.state in RUNNING_PLAN_STATES]
    if running:
        raise Conflict(
            f"A reading plan is reading “{book.title}” right now: `/book finish` or "
            f"`/book cancel` it in its channel before you {action}."
        )


def require_chapter(book: Book, chapter: int) -> None:
    if not 1 <= chapter <= book.chapter_count:
        raise InvalidInput(
            f"“{book.title}” has chapters 1–{book.chapter_count}; there is no chapter {chapter}."
        )
