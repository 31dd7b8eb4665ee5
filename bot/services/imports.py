"""Books from EPUB files: the title, author and chapter titles read from the table of
contents, the chapters picked by the member (front matter left out by default).

A file shared with the bot in a DM is checked before anything is downloaded (its name,
type and size, as Slack gives them), downloaded through the Notifier with the bot's
token, read, and kept as a pending import until its member picks the chapters in a form;
the form's submission adds the book and uses the pending import up in one transaction
(a second submission adds nothing). Whatever goes wrong, the member gets a clear answer
in their DM, and nothing is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from bot.domain.books import MAX_AUTHOR, MAX_TITLE, new_book
from bot.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from bot.domain.imports import (
    IMPORT_LIFETIME_DAYS,
    MAX_EPUB_BYTES,
    PendingImport,
    chapters_from,
    check_picker,
    default_picks,
)
from bot.domain.model import Book
from bot.domain.notes import DirectMessageHelp, ImportReady, ImportRefused
from bot.services.books import store_book
from bot.services.ports import Clock, DeliveryFailed, Notifier, UnitOfWork

if TYPE_CHECKING:
    from bot.epub import EpubContents

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SharedFile:
    """A file as a ``file_share`` message event describes it."""

    id: str
    name: str
    size: int | None
    url: str | None  # url_private_download
    filetype: str = ""
    mimetype: str = ""


@dataclass(frozen=True, slots=True)
class PickForm:
    """What the chapter picker shows: the pending import and the entries picked already."""

    pending: PendingImport
    picked: list[int]


def is_epub(file: SharedFile) -> bool:
    return (
        file.filetype.lower() == "epub"
        or file.mimetype.lower() == "application/epub+zip"
        or PurePosixPath(file.name).suffix.lower() == ".epub"
    )


def read_book_file(data: bytes, filename: str) -> EpubContents:
    """An EPUB's title, author and table of contents (EbookLib loads only now)."""
    from bot.epub import read_epub

    return read_epub(data, filename)


class ImportService:
    def __init__(self, uow: UnitOfWork, clock: Clock, notifier: Notifier) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier

    def receive_shared(
        self, team_id: str, user_id: str, file: SharedFile, *, delivery: str | None = None
    ) -> PendingImport | None:
        """A file a member sent the bot in a DM: read it and send them the chapter picker,
        or tell them why not. Returns the pending import, if there is one.

        ``delivery`` (the event's id and the file's): a delivery Slack repeats is done once.
        """
        if not self._first_delivery(delivery):
            return None
        try:
            pending = self._read_shared(team_id, user_id, file)
        except DomainError as exc:
            self.notifier.send_note(user_id, ImportRefused(file.name, exc.message))
            return None
        self.notifier.send_note(user_id, ImportReady(pending, len(default_picks(pending.entries))))
        return pending

    def answer_typed(self, team_id: str, user_id: str, *, delivery: str | None = None) -> None:
        """A member typed in their DM with the bot: say what the DM is for (once per
        delivery)."""
        if self._first_delivery(delivery):
            self.notifier.send_note(user_id, DirectMessageHelp())

    def _first_delivery(self, delivery: str | None) -> bool:
        """Is this the first time this delivery (an event, and a file in it) is handled?
        Recorded like any event the bot keeps (``processed_events``)."""
        if delivery is None:
            return True
        with self.uow() as uow:
            first = uow.discussions.claim_event(delivery[:64], self.clock.now())
            uow.commit()
        return first

    def _read_shared(self, team_id: str, user_id: str, file: SharedFile) -> PendingImport:
        from bot.epub import size_refusal

        if not is_epub(file):
            raise InvalidInput(
                f"I read EPUB files, to list a book's chapters; “{file.name}” is not one. "
                "Send me the book as an .epub file, or add it with `/book add`."
            )
        too_big = size_refusal(file.size or 0)
        if too_big is not None:
            raise too_big  # from Slack's size: nothing is downloaded
        if not file.url:
            raise InvalidInput(
                f"Slack did not give me “{file.name}” to download; please send it again."
            )
        try:
            data = self.notifier.download_file(file.url, MAX_EPUB_BYTES)
        except DeliveryFailed as exc:
            logger.warning("a shared file could not be downloaded: %s", exc.reason)
            raise InvalidInput(
                f"I could not download “{file.name}” from Slack ({exc.reason}); please "
                "send it again in a moment."
            ) from None
        contents = read_book_file(data, file.name)
        check_picker(contents.entries)
        return self._keep(team_id, user_id, file.name, contents)

    def _keep(
        self, team_id: str, user_id: str, filename: str, contents: EpubContents
    ) -> PendingImport:
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            pending = uow.imports.add(
                PendingImport(
                    workspace_id=workspace_id,
                    user_id=user_id,
                    filename=_cut(filename, 200),
                    title=_cut(contents.title, MAX_TITLE),
                    author=_cut(contents.author, MAX_AUTHOR),
                    entries=list(contents.entries),
                    created_at=now,
                )
            )
            uow.imports.purge(now - timedelta(days=IMPORT_LIFETIME_DAYS))
            uow.commit()
            return pending

    def pick_form(self, team_id: str, user_id: str, import_id: int) -> PickForm:
        """The member's pending import, for the chapter picker."""
        pending = self._pending(team_id, user_id, import_id)
        return PickForm(pending, default_picks(pending.entries))

    def finish(
        self,
        team_id: str,
        user_id: str,
        import_id: int,
        title: str,
        author: str,
        picked: list[int],
    ) -> Book:
        """Add the book with the picked entries as its chapters; the pending import is
        used up in the same transaction (a second submission adds nothing)."""
        pending = self._pending(team_id, user_id, import_id)
        chapters = chapters_from(pending.entries, picked)
        now = self.clock.now()
        with self.uow() as uow:
            book = new_book(pending.workspace_id, title, author, chapters, user_id)
            if not uow.imports.take(import_id):
                raise Conflict("That book was added already; `/book list` shows the shelf.")
            return store_book(uow, book, now)

    def add_from_file(
        self,
        team_id: str,
        data: bytes,
        filename: str,
        *,
        picked: list[int] | None = None,
        title: str | None = None,
        author: str | None = None,
    ) -> Book:
        """`readalong book import`: the book in ``data`` with the picked entries (by
        default those that look like chapters) as its chapters."""
        contents = read_book_file(data, filename)
        if not contents.entries:
            check_picker(contents.entries)  # the refusal for a book without contents
        chapters = chapters_from(
            contents.entries, default_picks(contents.entries) if picked is None else picked
        )
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            book = new_book(
                workspace_id,
                _cut(title or contents.title, MAX_TITLE),
                _cut(author or contents.author, MAX_AUTHOR),
                chapters,
                None,
            )
            return store_book(uow, book, now)

    def workspace_for_import(self, team_id: str | None) -> str:
        """The workspace a book from the command line goes to: the one named, else the
        only one there is."""
        if team_id:
            return team_id
        with self.uow() as uow:
            teams = uow.workspaces.teams()
        if len(teams) == 1:
            return teams[0]
        if not teams:
            raise InvalidInput("No workspace has used Readalong yet: name one with --workspace T….")
        raise InvalidInput(
            f"There are {len(teams)} workspaces ({', '.join(teams)}): name one with --workspace."
        )

    def _pending(self, team_id: str, user_id: str, import_id: int) -> PendingImport:
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            found = uow.imports.get(import_id) if 0 < import_id <= 2**63 - 1 else None
            if found is None or found.user_id != user_id or found.workspace_id != workspace_id:
                raise NotFound(
                    "That import has expired or was finished already. Send me the file again."
                )
            return found


def preview(data: bytes, filename: str) -> tuple[EpubContents, list[int]]:
    """What `readalong book import` lists before adding: the contents and default picks."""
    contents = read_book_file(data, filename)
    return contents, default_picks(contents.entries)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
