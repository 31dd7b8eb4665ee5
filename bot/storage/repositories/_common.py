"""What every repository shares: one way to insert-or-ignore, one way to count changed rows."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Table, TextClause, bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Duplicate
from bot.storage.models import Base


def flush(session: Session) -> None:
    """Flush, turning a unique-key violation into the domain's :class:`Duplicate`."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Duplicate(str(exc.orig).splitlines()[0]) from exc


def affected(result: Any) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


@lru_cache(maxsize=32)
def _insert_sql(table: Table, columns: tuple[str, ...], returning: str | None) -> TextClause:
    """The same SQL on both backends, as text: SQLAlchemy's dialect-specific ``insert()``
    with ``on_conflict_do_nothing()`` has no cache key, so it would be compiled per call."""
    names = ", ".join(columns)
    params = ", ".join(f":{c}" for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({params}) ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {returning}"
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def insert_or_ignore(session: Session, model: type[Base], **values: object) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL): whether a row went in.

    The one way a repository writes a row that may already exist (an event delivered
    twice, a workspace first used by two requests at once). No savepoint and no ORM
    flush; a concurrent insert of the same key waits for the other transaction, then
    does nothing.
    """
    table = cast(Table, model.__table__)
    result = session.execute(_insert_sql(table, tuple(values), None), values)
    return affected(result) > 0


def insert_or_ignore_returning_id(
    session: Session, model: type[Base], **values: object
) -> int | None:
    """Like :func:`insert_or_ignore`, returning the new row's id (None when it existed)."""
    table = cast(Table, model.__table__)
    result = session.execute(_insert_sql(table, tuple(values), "id"), values)
    found = result.scalar()
    return int(found) if found is not None else None
