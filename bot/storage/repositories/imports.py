"""Books read from EPUB files, waiting for their members to pick the chapters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.domain.imports import PendingImport, TocEntry
from bot.storage.models import BookImportRow
from bot.storage.repositories._common import affected, flush


class SqlImports:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, pending: PendingImport) -> PendingImport:
        row = BookImportRow(
            workspace_id=pending.workspace_id,
            user_id=pending.user_id,
            filename=pending.filename,
            title=pending.title,
            author=pending.author,
            entries=[[e.title, e.depth] for e in pending.entries],
            created_at=pending.created_at,
        )
        self.session.add(row)
        flush(self.session)
        pending.id = row.id
        return pending

    def get(self, import_id: int) -> PendingImport | None:
        row = self.session.get(BookImportRow, import_id)
        if row is None:
            return None
        return PendingImport(
            id=row.id,
            workspace_id=row.workspace_id,
            user_id=row.user_id,
            filename=row.filename,
            title=row.title,
            author=row.author,
            entries=[TocEntry(str(title), int(depth)) for title, depth in row.entries or []],
            created_at=row.created_at,
        )

    def take(self, import_id: int) -> bool:
        """Delete the pending import; True for the one caller that deleted it (a form
        submitted twice adds the book once)."""
        result = self.session.execute(delete(BookImportRow).where(BookImportRow.id == import_id))
        return affected(result) > 0

    def purge(self, before: datetime) -> int:
        """Forget imports nobody finished since ``before``."""
        return affected(
            self.session.execute(delete(BookImportRow).where(BookImportRow.created_at < before))
        )
