"""Which process schedules, and which posting processes are alive.

Leadership: a PostgreSQL advisory lock, or the only process on SQLite.

Presence (:class:`WorkerPresence`, PostgreSQL): a posting process holds a session-level
advisory lock for its worker id on a connection of its own. When the process dies,
PostgreSQL ends its session and the lock goes with it, so another process can tell at
once that claims made under that worker id were abandoned (:func:`live_workers`),
instead of waiting for their lease. The two use different key spaces: the scheduler
lock one bigint key, worker locks two int4 keys (``WORKER_LOCK_CLASS``, then 32 bits of
the worker id).
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
import zlib
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

LOCK_NAME = "readalong-scheduler"
WORKER_LOCK_CLASS = zlib.crc32(b"readalong-worker") & 0x7FFFFFFF
_WORKER_ID = re.compile(r"[0-9a-f]{8,}")


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
            _end_session(self._conn)
            self._conn = None


def _end_session(conn: Connection) -> None:
    """Close the connection for real, ending its PostgreSQL session and every session-level
    lock in it (``close()`` alone would hand it back to the pool, locks and all)."""
    try:
        conn.invalidate()
        conn.close()
    except SQLAlchemyError:
        logger.debug("closing a lock connection failed")


def leadership_for(engine: Engine) -> SingleProcessLeadership | AdvisoryLockLeadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeadership(engine)
    return SingleProcessLeadership()


# ---------------------------------------------------------------------- worker presence


def worker_of(token: str) -> str:
    """The worker id of a claim token (``worker:batch``)."""
    return token.split(":", 1)[0]


def worker_lock_key(worker_id: str) -> int | None:
    """The second key of ``worker_id``'s advisory lock, unsigned (as ``pg_locks.objid``
    shows it); None for an id that never holds one (not hex)."""
    if not _WORKER_ID.fullmatch(worker_id):
        return None
    return int(worker_id[:8], 16)


def _int4(key: int) -> int:
    return key - (1 << 32) if key >= 1 << 31 else key


class WorkerPresence:
    """PostgreSQL: session-level advisory locks that say "these workers are alive".

    Held on one connection of their own (autocommit, never in a transaction), taken by
    :meth:`announce` and given up by :meth:`release`, by the engine's ``dispose()``, or by
    the process's death. A lost connection (a PostgreSQL restart) is replaced, and the
    locks taken again, at the next :meth:`announce`. Meanwhile other processes may take
    this process's claims for abandoned; that is safe (see ``PromptService``): a claim is
    only taken over once no post of it can still be in flight, and a lost claim is
    noticed before the next post.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._workers: set[str] = set()
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def announce(self, worker_id: str) -> bool:
        """Hold ``worker_id``'s lock (again, on a new connection if the old one was lost);
        True if held."""
        if worker_lock_key(worker_id) is None:
            raise ValueError(f"worker id {worker_id!r} is not hex")
        with self._lock:
            self._workers.add(worker_id)
            for attempt in (1, 2):  # a lost connection is replaced at once
                try:
                    self._take_locks()
                    return worker_id in self._held
                except SQLAlchemyError as exc:
                    logger.warning("lost the worker lock connection (%d): %s", attempt, exc)
                    self._drop()
            return False

    def _take_locks(self) -> None:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._held = set()
        else:
            self._conn.execute(text("SELECT 1"))  # the session, and so its locks, live
        for worker in sorted(self._workers - self._held):
            taken = self._conn.execute(
                text("SELECT pg_try_advisory_lock(:cls, :key)"),
                {"cls": WORKER_LOCK_CLASS, "key": _int4(worker_lock_key(worker) or 0)},
            ).scalar()
            if taken:
                self._held.add(worker)
            else:  # two live workers whose ids share 32 bits: the other one keeps it
                logger.warning("worker lock for %s is held by another session", worker)

    def release(self) -> None:
        """Give every lock up (closing the session does)."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        self._held = set()
        if self._conn is not None:
            _end_session(self._conn)
            self._conn = None


_presences: weakref.WeakKeyDictionary[Engine, WorkerPresence] = weakref.WeakKeyDictionary()
_presences_lock = threading.Lock()


def worker_presence(engine: Engine) -> WorkerPresence:
    """The process's :class:`WorkerPresence` on ``engine``'s database (one per engine,
    released when the engine is disposed)."""
    with _presences_lock:
        presence = _presences.get(engine)
        if presence is None:
            presence = WorkerPresence(engine)
            _presences[engine] = presence
            event.listen(engine, "engine_disposed", _release_presence)
        return presence


def _release_presence(engine: Engine) -> None:
    presence = _presences.get(engine)
    if presence is not None:
        presence.release()


def live_workers(session: Session, worker_ids: Iterable[str]) -> set[str]:
    """Those of ``worker_ids`` whose lock a session of this database holds (PostgreSQL)."""
    keys = {worker: worker_lock_key(worker) for worker in worker_ids}
    if not any(key is not None for key in keys.values()):
        return set()
    held = set(
        session.scalars(
            text(
                "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory'"
                " AND objsubid = 2 AND granted AND classid::bigint = :cls"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"cls": WORKER_LOCK_CLASS},
        )
    )
    return {worker for worker, key in keys.items() if key is not None and key in held}
