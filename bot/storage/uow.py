"""The SQLAlchemy unit of work: one session, one transaction, explicit commit.

``SqlAlchemyUnitOfWork`` is shared by the services and used from many threads at once
(lazy listeners, the scheduler's posting pool). Each ``with uow as unit:`` therefore opens
its own session and returns a fresh :class:`SqlAlchemyUnit`; nothing is shared between
entries, and anything not committed is rolled back on exit.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import Duplicate
from bot.storage.repositories import (
    SqlBooks,
    SqlDiscussions,
    SqlGroups,
    SqlMembers,
    SqlPlans,
    SqlPromptQueue,
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
    """A factory of units: ``with uow as unit: … unit.commit()``, safe from any thread."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self._local = threading.local()
        self._workspace_ids: dict[str, int] = {}

    def _stack(self) -> list[SqlAlchemyUnit]:
        stack: list[SqlAlchemyUnit] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def __enter__(self) -> SqlAlchemyUnit:
        unit = SqlAlchemyUnit(self.session_factory(), self._workspace_ids)
        self._stack().append(unit)
        return unit

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack().pop().close()

    def __getattr__(self, name: str) -> Any:
        """Inside ``with uow:``, ``uow.books`` etc. mean this thread's innermost unit."""
        stack = self.__dict__["_local"].__dict__.get("stack")
        if not stack:
            raise AttributeError(f"{name!r}: use the unit of work inside `with uow as unit:`")
        return getattr(stack[-1], name)
