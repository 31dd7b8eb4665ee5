"""Drafts: a member's text kept while the bot asks them something about it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.domain.model import Draft, Visibility
from bot.storage.models import DraftRow
from bot.storage.repositories._common import affected, flush


class SqlDrafts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, draft: Draft) -> Draft:
        row = DraftRow(
            workspace_id=draft.workspace_id,
            user_id=draft.user_id,
            channel_id=draft.channel_id,
            text=draft.text,
            chapter=draft.chapter,
            step_id=draft.step_id,
            visibility=draft.visibility.value if draft.visibility else None,
            reflection_number=draft.reflection_number,
            created_at=draft.created_at,
        )
        self.session.add(row)
        flush(self.session)
        draft.id = row.id
        return draft

    def get(self, draft_id: int) -> Draft | None:
        row = self.session.get(DraftRow, draft_id)
        if row is None:
            return None
        return Draft(
            id=row.id,
            workspace_id=row.workspace_id,
            user_id=row.user_id,
            channel_id=row.channel_id,
            text=row.text,
            chapter=row.chapter,
            step_id=row.step_id,
            visibility=Visibility(row.visibility) if row.visibility else None,
            reflection_number=row.reflection_number,
            created_at=row.created_at,
        )

    def take(self, draft_id: int) -> bool:
        """Delete the draft; True for the one caller that deleted it (a double click
        saves once)."""
        return affected(self.session.execute(delete(DraftRow).where(DraftRow.id == draft_id))) > 0

    def purge(self, before: datetime) -> int:
        """Forget drafts nobody answered since ``before``."""
        return affected(self.session.execute(delete(DraftRow).where(DraftRow.created_at < before)))
