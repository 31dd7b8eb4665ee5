"""The SQLAlchemy unit of work: one session, one transaction, explicit commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import Duplicate
from bot.storage.repositories import (
    SqlBooks,
    SqlGroups,
    SqlMembers,
    SqlPlans,
    SqlPromptQueue,
    SqlReflections,
    SqlWorkspaces,
)


class SqlAlchemyUnitOfWork:
    """``with uow: … uow.commit()``; anything not committed is rolled back on exit.

    The same object can be entered again later; each entry opens a fresh session.
    """

    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self.workspaces = SqlWorkspaces(self.session)
        self.members = SqlMembers(self.session)
        self.groups = SqlGroups(self.session)
        self.books = SqlBooks(self.session)
        self.plans = SqlPlans(self.session)
        self.reflections = SqlReflections(self.session)
        self.prompts = SqlPromptQueue(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise Duplicate(str(exc.orig).splitlines()[0]) from exc

    def rollback(self) -> None:
        self.session.rollback()
