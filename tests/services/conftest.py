"""Services wired to the real unit of work (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.domain.model import Book, Cadence, Caller
from bot.services.books import BookService
from bot.services.plans import PlanService, PlanView
from bot.services.ports import FakeClock
from bot.services.reflections import ReflectionService
from bot.storage.uow import SqlAlchemyUnitOfWork

TEAM = "T1"
CHANNEL = "C1"
HOST = Caller(TEAM, "UHOST")
ADMIN = Caller(TEAM, "UADMIN", is_admin=True)
OTHER = Caller(TEAM, "UOTHER")


@pytest.fixture
def books(uow: SqlAlchemyUnitOfWork, clock: FakeClock) -> BookService:
    return BookService(uow, clock)


@pytest.fixture
def plans(uow: SqlAlchemyUnitOfWork, clock: FakeClock) -> PlanService:
    return PlanService(uow, clock)


@pytest.fixture
def reflections(uow: SqlAlchemyUnitOfWork, clock: FakeClock) -> ReflectionService:
    return ReflectionService(uow, clock)


@pytest.fixture
def book(books: BookService) -> Book:
    """Ten chapters: with three per step, steps cover 1–3, 4–6, 7–9 and 10."""
    return books.add(TEAM, "UHOST", "Middlemarch", "George Eliot", "10")


@pytest.fixture
def started(plans: PlanService, book: Book) -> PlanView:
    """Weekly on Mondays 09:00 UTC from Monday 30 Nov 2026 (the clock is 08:00 that day)."""
    return plans.start(
        HOST, CHANNEL, str(book.id), Cadence.weekly(0, time(9, 0)), 3, date(2026, 11, 30), "UTC"
    )
