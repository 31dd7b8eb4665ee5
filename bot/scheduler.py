"""The scheduler: APScheduler wakes the process up; the database says what is due.

It keeps no state a restart could lose. Each tick, the leader (PostgreSQL: whoever holds
the advisory lock; SQLite: the one process) does everything due now: prompts, reminders,
digests, pairs' and polls' timers. Every other process shares the posting (``post``:
prompts and reminders), so adding processes adds posting threads; the row claims (taken
with ``SKIP LOCKED``) keep each post single and spread the work between them.

Ticks fall on whole multiples of the interval from the minute, so with the default 30 s
a prompt due at 09:00 is picked up at 09:00:00, not up to 30 s later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.observability import PROMPTS, SCHEDULER_LAG, SCHEDULER_TICKS
from bot.services.prompts import TickReport

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

logger = logging.getLogger(__name__)

FIRST_TICK = "scheduler: first tick"  # logged once per process, as its first tick begins


class Leadership(Protocol):
    def acquire(self) -> bool: ...
    def release(self) -> None: ...
    @property
    def role(self) -> str: ...


def tick_origin(now: datetime | None = None) -> datetime:
    """The whole minute ticks count from (an hour back, so the first tick is the next
    multiple of the interval, not one interval after start): prompts fall due on whole
    minutes, and ticks land on them."""
    now = now or datetime.now(UTC)
    return now.replace(second=0, microsecond=0) - timedelta(hours=1)


def record_tick(report: TickReport) -> None:
    for outcome, count in report.counts().items():
        if count:
            PROMPTS.labels(outcome.value).inc(count)
    SCHEDULER_LAG.set(report.max_lag_seconds)


class PromptScheduler:
    def __init__(
        self,
        run_due: Callable[[], TickReport],
        leadership: Leadership,
        interval_seconds: float,
        post: Callable[[], TickReport] | None = None,
    ) -> None:
        self.run_due = run_due
        self.post = post  # what a follower does (None: nothing)
        self.leadership = leadership
        self.interval_seconds = interval_seconds
        # Made by start(): a process that never schedules (`serve --no-scheduler`, the
        # console's manual ticks) never imports APScheduler.
        self._scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()
        self._ticked = False

    @property
    def role(self) -> str:
        return self.leadership.role

    def tick(self) -> TickReport | None:
        """One pass: post what is due if this process leads. Never raises."""
        if not self._lock.acquire(blocking=False):
            return None  # the previous tick is still running
        try:
            if not self._ticked:
                self._ticked = True
                logger.info(FIRST_TICK)
            if self.leadership.acquire():
                SCHEDULER_TICKS.labels("leader").inc()
                report = self.run_due()
            else:
                SCHEDULER_TICKS.labels("follower").inc()
                if self.post is None:
                    return None
                report = self.post()
            record_tick(report)
            if (
                report.posted
                or report.missed
                or report.retrying
                or report.reminded
                or report.digests
            ):
                logger.info(
                    "tick: %d posted (%d late, %d recovered), %d retrying, %d missed, %d reminders, %d digests",
                    len(report.posted),
                    len(report.late),
                    len(report.recovered),
                    len(report.retrying),
                    len(report.missed),
                    report.reminded,
                    report.digests,
                )
            return report
        except Exception:
            logger.exception("scheduler tick failed; the next one will try again")
            return None
        finally:
            self._lock.release()

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.interval_seconds, start_date=tick_origin(), timezone=UTC),
            id="post-due-prompts",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            replace_existing=True,
        )
        self._scheduler.start()
        logger.info("scheduler started (every %ss)", self.interval_seconds)

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.leadership.release()
