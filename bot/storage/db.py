"""Engine creation, migrations (Alembic) and the "is the schema current?" check.

Alembic (and Mako, Pygments and every dialect it brings along) is imported only to
migrate or compare: a process that only checks its schema is current (`readalong serve`,
`tick`) reads the head revision from the migration files and the current one from the
``alembic_version`` table, as Alembic itself would (tests/storage/test_migrations.py
holds both ways to agree).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


class DatabaseNotReady(Exception):
    """The database cannot be reached or its schema is not current; the message says what to do."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned per backend: SQLite gets WAL, foreign keys and a busy timeout.

    ``hide_parameters``: a failed statement's error never carries its values (a member's
    reflection text) into a log line.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on
            # busy_timeout instead of failing with "database is locked" on upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    # 20 connections at most per process: several posting processes (32 threads each,
    # every one holding a connection only between Slack calls) stay within PostgreSQL's
    # default 100.
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    # Config's default stdout is sys.stdout as it was when alembic.config was first
    # imported (a default argument): name the current one.
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction to run migrations on.

    SQLite alters a table by rebuilding it (copy, drop, rename). With foreign keys on,
    dropping the old table would cascade into its children (a plan's reflections, steps,
    digests) or null their links, so they are off for the migration, as SQLite advises,
    and every reference is checked before it commits. The pragma only works outside a
    transaction, hence on the raw connection before it begins.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise DatabaseNotReady(
                            f"A migration left {len(broken)} broken reference(s); "
                            "nothing was changed."
                        )
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on ``engine``'s database."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def check_models(engine: Engine) -> None:
    """Raise if the ORM models and the migrations disagree (``alembic check``)."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)


@cache
def head_revision() -> str | None:
    """The newest migration: the one no other migration revises.

    Read from the files' ``revision`` and ``down_revision`` assignments (read as text, not
    imported), so that knowing it costs no Alembic import. Migrations form a line here;
    several heads (a merge not yet written) is an error, as it is for ``alembic upgrade``.
    """
    revisions: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        values = _assignments(path)
        if values.get("revision"):
            revisions[str(values["revision"])] = values.get("down_revision")
    revised = set(revisions.values())
    heads = sorted(rev for rev in revisions if rev not in revised)
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {', '.join(heads)}")
    return heads[0] if heads else None


_ASSIGNMENT = re.compile(
    r"^(?P<name>revision|down_revision)\s*(?::[^=\n]*)?=\s*(?P<value>None|\"[^\"]*\"|'[^']*')",
    re.M,
)


def _assignments(path: Path) -> dict[str, str | None]:
    """The ``revision`` and ``down_revision`` a migration file assigns at its top level."""
    found: dict[str, str | None] = {}
    for match in _ASSIGNMENT.finditer(path.read_text(encoding="utf-8")):
        value = match.group("value")
        found.setdefault(match.group("name"), None if value == "None" else value[1:-1])
    return found


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema yet), from ``alembic_version``."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        found = list(versions)
    if len(found) > 1:
        raise DatabaseNotReady(f"The database has several migration heads: {', '.join(found)}.")
    return str(found[0]) if found else None


def ensure_reachable(engine: Engine) -> str | None:
    """The database's current revision, or :class:`DatabaseNotReady` naming DATABASE_URL."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        return current_revision(engine)
    except SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown error"])[
            0
        ]
        raise DatabaseNotReady(
            f"config error: DATABASE_URL: cannot connect to {url} ({reason})"
        ) from None


def ensure_ready(engine: Engine) -> None:
    """Refuse to run on an unreachable or un-migrated database, saying which command fixes it."""
    url = engine.url.render_as_string(hide_password=True)
    current = ensure_reachable(engine)
    head = head_revision()
    if current != head:
        state = "has no schema" if current is None else f"is at migration {current}, not {head}"
        raise DatabaseNotReady(f"The database {url} {state}. Run `readalong db upgrade` first.")
