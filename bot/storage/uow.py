"""The SQLAlchemy unit of work: one session, one transaction, explicit commit.

``SqlAlchemyUnitOfWork`` is shared by the services and used from many threads at once
(work after an acknowledgement, the scheduler's posting pool). Each ``with uow() as unit:``
therefore opens its own session in a fresh :class:`SqlAlchemyUnit`; nothing is shared
between units, and anything not committed is rolled back when the ``with`` ends.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import Duplicate
from bot.storage.repositories import (
    SqlBooks,
    SqlDiscussions,
    SqlDrafts,
    SqlGroups,
    SqlImports,
    SqlMembers,
    SqlPairs,
    SqlPlans,
    SqlPolls,
    SqlPromptQueue,
    SqlReaders,
    SqlReflections,
    SqlSummaries,
    SqlWorkspaces,
)


class SqlAlchemyUnit:
    """One transaction over every repository."""

    def __init__(self, session: Session, workspace_ids: dict[str, int] | None = None) -> None:
        self.session = session
        self.workspaces = SqlWorkspaces(session, workspace_ids)
        self.members = SqlMembers(session)
        self.groups = SqlGroups(session)
        self.books = SqlBooks(session)
        self.plans = SqlPlans(session)
        self.reflections = SqlReflections(session)
        self.prompts = SqlPromptQueue(session)
        self.discussions = SqlDiscussions(session)
        self.summaries = SqlSummaries(session)
        self.drafts = SqlDrafts(session)
        self.pairs = SqlPairs(session)
        self.readers = SqlReaders(session)
        self.polls = SqlPolls(session)
        self.imports = SqlImports(session)

    def __enter__(self) -> SqlAlchemyUnit:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def commit(self) -> None:
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise Duplicate(str(exc.orig).splitlines()[0]) from exc

    def rollback(self) -> None:
        self.session.rollback()

    def close(self) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()


class SqlAlchemyUnitOfWork:
    """A factory of units: ``with uow() as unit: … unit.commit()``, safe from any thread.

    Each call opens its own session; nothing is shared between units but the
    process-wide cache of team id → workspace id (committed rows only).
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self._workspace_ids: dict[str, int] = {}

    def __call__(self) -> SqlAlchemyUnit:
        return SqlAlchemyUnit(self.session_factory(), self._workspace_ids)
