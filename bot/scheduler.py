"""The scheduler: APScheduler wakes the process up; the database says what is due.

It keeps no state a restart could lose. Each tick, if this process leads, it asks the
prompt service to post whatever is due now. Several processes may run one; the
leadership lock (PostgreSQL) keeps all but one idle, and the row-level claims make a
double post impossible even if two ticks overlap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC
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


def record_tick(report: TickReport) -> None:
    for outcome, count in report.counts().items():
        if count:
            PROMPTS.labels(outcome.value).inc(count)
    SCHEDULER_LAG.set(report.max_lag_seconds)


class PromptScheduler:
    def __init__(
        self, run_due: Callable[[], TickReport], leadership: Leadership, interval_seconds: float
    ) -> None:
        self.run_due = run_due
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
            if not self.leadership.acquire():
                SCHEDULER_TICKS.labels("follower").inc()
                return None
            SCHEDULER_TICKS.labels("leader").inc()
            report = self.run_due()
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
            IntervalTrigger(seconds=self.interval_seconds, timezone=UTC),
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
