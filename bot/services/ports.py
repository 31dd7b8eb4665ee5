"""What the services need from the outside world, as Protocols (implemented in storage/, slack/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from bot.domain.model import Book, Group, Member, Plan, Reflection


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to: for tests and the console's virtual time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


class WorkspaceRepository(Protocol):
    def ensure(self, team_id: str, now: datetime) -> int:
        """The workspace's id, creating the row on first sight."""
        ...


class MemberRepository(Protocol):
    def ensure(self, workspace_id: int, user_id: str, now: datetime) -> Member: ...
    def get(self, workspace_id: int, user_id: str) -> Member | None: ...
    def save(self, member: Member) -> None: ...


class GroupRepository(Protocol):
    def ensure(self, workspace_id: int, channel_id: str, now: datetime) -> Group: ...
    def get(self, workspace_id: int, channel_id: str) -> Group | None: ...
    def by_id(self, group_id: int) -> Group: ...
    def save(self, group: Group) -> None: ...


class BookRepository(Protocol):
    def add(self, book: Book, key: str, now: datetime) -> Book: ...
    def get(self, book_id: int) -> Book | None: ...
    def key_exists(self, workspace_id: int, key: str) -> bool: ...
    def all(self, workspace_id: int) -> list[Book]: ...
    def set_questions(self, book_id: int, chapter: int, questions: list[str]) -> None: ...


class PlanRepository(Protocol):
    def add(self, plan: Plan) -> Plan: ...
    def get(self, plan_id: int) -> Plan | None: ...
    def running_for_group(self, group_id: int) -> Plan | None:
        """The group's active or paused plan."""
        ...

    def for_group(self, group_id: int) -> list[Plan]:
        """Every plan of the group, newest first."""
        ...

    def running_in_workspace(self, workspace_id: int) -> list[Plan]: ...

    def save(self, plan: Plan) -> None:
        """Write the plan's state and every step back."""
        ...


class ReflectionRepository(Protocol):
    def add(self, reflection: Reflection) -> Reflection: ...
    def get(self, reflection_id: int) -> Reflection | None: ...
    def save(self, reflection: Reflection) -> None: ...
    def delete(self, reflection_id: int) -> None: ...
    def for_plan(self, plan_id: int, author_id: str | None = None) -> list[Reflection]: ...
    def by_author(self, workspace_id: int, author_id: str) -> Sequence[Reflection]: ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Changes are kept only on ``commit()``."""

    # Read-only in the protocol, so implementations may use their own repository classes.
    @property
    def workspaces(self) -> WorkspaceRepository: ...
    @property
    def members(self) -> MemberRepository: ...
    @property
    def groups(self) -> GroupRepository: ...
    @property
    def books(self) -> BookRepository: ...
    @property
    def plans(self) -> PlanRepository: ...
    @property
    def reflections(self) -> ReflectionRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
