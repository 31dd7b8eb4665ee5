"""Which process schedules: a PostgreSQL advisory lock, or the only process on SQLite."""

from __future__ import annotations

import logging
import zlib

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

LOCK_NAME = "readalong-scheduler"


class SingleProcessLeadership:
    """SQLite: one process runs the scheduler, so it always leads."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None

    @property
    def role(self) -> str:
        return "leader"


class AdvisoryLockLeadership:
    """Leader while holding a session-level ``pg_try_advisory_lock`` on a dedicated connection.

    If the leader dies, PostgreSQL drops its session and the lock with it; a follower's
    next :meth:`acquire` (every scheduler tick) takes over.
    """

    def __init__(self, engine: Engine, name: str = LOCK_NAME) -> None:
        self.engine = engine
        self.key = zlib.crc32(name.encode()) & 0x7FFFFFFF
        self._conn: Connection | None = None
        self._held = False

    @property
    def role(self) -> str:
        return "leader" if self._held else "follower"

    def acquire(self) -> bool:
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self._held:
                self._conn.execute(text("SELECT 1"))  # still alive, so still ours
                return True
            self._held = bool(
                self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
                ).scalar()
            )
            if self._held:
                logger.info("this process is now the scheduler leader")
            return self._held
        except SQLAlchemyError as exc:
            logger.warning("lost the scheduler lock connection: %s", exc)
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None and self._held:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except SQLAlchemyError:
                logger.warning("could not release the scheduler lock; it goes with the connection")
        self._drop()

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            try:
                self._conn.close()
            except SQLAlchemyError:
                logger.debug("closing the lock connection failed")
            self._conn = None


def leadership_for(engine: Engine) -> SingleProcessLeadership | AdvisoryLockLeadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeadership(engine)
    return SingleProcessLeadership()
