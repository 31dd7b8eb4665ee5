"""Shared fixtures: a migrated database per backend, a fake clock, a unit of work.

Every test that asks for ``engine`` (directly or through ``uow``) runs once on SQLite and,
when ``TEST_DATABASE_URL`` names a PostgreSQL database (``.ci/run`` sets it), once more on
PostgreSQL. That database is wiped at the start of the run: point it at a throwaway one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from bot.services.ports import FakeClock
from bot.storage.db import make_engine, upgrade
from bot.storage.models import Base
from bot.storage.uow import SqlAlchemyUnitOfWork
from tests.process_helpers import POSTGRES_URL, psycopg_url, wipe_public_schema

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own beside ``url``'s
    (``<name>_gw0``…), made afresh; the single-process run uses ``url`` itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(psycopg_url(url))
    name = f"{base.database}_{worker}"
    admin = make_engine(base.render_as_string(hide_password=False))
    with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def _fresh_postgres(url: str) -> Engine:
    engine = make_engine(_worker_database(url), pool_size=5, max_overflow=10)
    wipe_public_schema(engine)
    return engine


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database migrated to head with Alembic (not create_all), one per backend."""
    if request.param == "postgresql":
        eng = _fresh_postgres(POSTGRES_URL)
    else:
        path = tmp_path_factory.mktemp("db") / "readalong.db"
        eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    yield eng
    eng.dispose()
    if request.param == "postgresql" and eng.url.database != make_url(POSTGRES_URL).database:
        _drop_database(eng.url.render_as_string(hide_password=False))


@pytest.fixture
def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def clean_engine(engine: Engine) -> Engine:
    """The session's engine with every table emptied, so each test starts from nothing."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    return engine


@pytest.fixture
def session_factory(clean_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(clean_engine, expire_on_commit=False)


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(session_factory)


@pytest.fixture
def clock() -> FakeClock:
    """Monday 30 November 2026, 08:00 UTC."""
    return FakeClock(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


pytest_plugins = ["tests.harness"]
