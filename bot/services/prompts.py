"""Posting chapter prompts exactly once, retrying failures, catching up after downtime, reminding.

The database decides who posts what: a step is claimed by a conditional UPDATE (only one
process can win it), marked posted only once Slack answered ok, and released with a
retry time when Slack failed. A claim abandoned by a crashed process is taken over after
``lease``; before posting again, the channel is checked for the prompt the crashed process
may already have posted (prompts carry the step id in their message metadata).

A batch's steps are claimed together but posted one after another, so a claim that
has waited half a lease for its turn is renewed just before its post: a step still
queued in a live process is never taken for abandoned, and one another process took
over meanwhile is left to it. The lease therefore only has to be twice as long as one
step's Slack calls (``find_prompt`` and the post), however long a batch takes.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import timeline
from bot.domain.model import Book, Plan, Reflection, Step, StepState, Visibility
from bot.domain.prompts import DEFAULT_QUESTIONS, Due, classify_due, prompt_content, retry_delay
from bot.services.ports import Clock, DeliveryFailed, DueStep, Notifier, Unit, UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PromptPolicy:
    grace: timedelta = timedelta(hours=12)  # missed by more than this: catch-up instead of a post
    late_after: timedelta = timedelta(
        minutes=10
    )  # missed by more than this: posted with a "late" note
    lease: timedelta = timedelta(
        minutes=5
    )  # a claim (renewed before each post) older than this was abandoned by a dead process
    reminder_lead: timedelta = timedelta(hours=24)  # remind this long before the next step
    batch: int = 200
    workers: int = 8
    questions: tuple[str, ...] = DEFAULT_QUESTIONS


class TickOutcome(enum.Enum):
    """What became of one claimed step in a tick."""

    POSTED = "posted"
    LATE = "late"  # posted, with a "posted late" note
    RECOVERED = "recovered"  # found already in the channel (posted before a crash)
    RETRYING = "retrying"  # Slack failed; a retry time is stored
    MISSED = "missed"  # too old: listed in a catch-up message
    LOST = "lost"  # another process took the claim over


@dataclass
class TickReport:
    posted: list[int] = field(default_factory=list)
    late: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)  # claims another process took over
    reminded: int = 0
    digests: int = 0
    max_lag_seconds: float = 0.0  # how late the latest-posted prompt of this tick was

    def record(self, outcome: TickOutcome, step_id: int) -> None:
        """Count ``step_id`` under ``outcome`` (a late post counts as posted too)."""
        {
            TickOutcome.POSTED: self.posted,
            TickOutcome.LATE: self.late,
            TickOutcome.RECOVERED: self.recovered,
            TickOutcome.RETRYING: self.retrying,
            TickOutcome.MISSED: self.missed,
            TickOutcome.LOST: self.lost,
        }[outcome].append(step_id)
        if outcome is TickOutcome.LATE:
            self.posted.append(step_id)

    def counts(self) -> dict[TickOutcome, int]:
        """How many steps ended in each outcome (late ones once, under LATE)."""
        return {
            TickOutcome.POSTED: len(self.posted) - len(self.late),
            TickOutcome.LATE: len(self.late),
            TickOutcome.RECOVERED: len(self.recovered),
            TickOutcome.RETRYING: len(self.retrying),
            TickOutcome.MISSED: len(self.missed),
            TickOutcome.LOST: len(self.lost),
        }

    def merge(self, other: TickReport) -> None:
        self.posted += other.posted
        self.late += other.late
        self.recovered += other.recovered
        self.retrying += other.retrying
        self.missed += other.missed
        self.lost += other.lost
        self.reminded += other.reminded
        self.max_lag_seconds = max(self.max_lag_seconds, other.max_lag_seconds)


@dataclass(frozen=True, slots=True)
class _Job:
    due: DueStep
    plan: Plan
    book: Book
    late: bool


class PromptService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, notifier: Notifier, policy: PromptPolicy | None = None
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.policy = policy or PromptPolicy()
        self.worker_id = uuid.uuid4().hex[:12]

    def run_due(self, now: datetime | None = None) -> TickReport:
        """Everything due at ``now``: prompts (on time, late, or caught up) and reminders."""
        now = now or self.clock.now()
        report = TickReport()
        while True:
            batch = self._post_batch(now)
            report.merge(batch)
            if not (batch.posted or batch.recovered or batch.missed or batch.retrying):
                break
            if (
                len(batch.posted) + len(batch.recovered) + len(batch.missed) + len(batch.retrying)
                < self.policy.batch
            ):
                break
        report.reminded = self.send_reminders(now)
        return report

    # --- prompts ----------------------------------------------------------------------

    def _post_batch(self, now: datetime) -> TickReport:
        report = TickReport()
        stale_before = now - self.policy.lease
        token = f"{self.worker_id}:{uuid.uuid4().hex[:8]}"
        with self.uow() as uow:
            candidates = uow.prompts.candidates(now, stale_before, self.policy.batch)
            won = set(uow.prompts.claim([c.step_id for c in candidates], token, now, stale_before))
            mine = [c for c in candidates if c.step_id in won]
            too_old = [
                c
                for c in mine
                if classify_due(c.due_at, now, self.policy.grace, self.policy.late_after)
                is Due.MISSED
            ]
            uow.prompts.mark_missed([c.step_id for c in too_old])
            uow.commit()
            claimed = [c for c in mine if c not in too_old]
            jobs = self._jobs(uow, claimed, now)
            missed_plans = self._load_plans(uow, {c.plan_id for c in too_old})
        if too_old:
            report.missed = [c.step_id for c in too_old]
            self._catch_up(too_old, missed_plans)
        if not jobs:
            return report
        # Channels in parallel; within a channel, steps strictly in order, one at a time.
        by_channel: dict[str, list[_Job]] = defaultdict(list)
        for job in sorted(jobs, key=lambda j: (j.due.due_at, j.due.number)):
            by_channel[job.due.channel_id].append(job)
        workers = max(1, min(self.policy.workers, len(by_channel)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prompt") as pool:
            per_channel = list(
                pool.map(
                    lambda chain: self._deliver_in_order(chain, token, now), by_channel.values()
                )
            )
        for job, outcome in (pair for chain in per_channel for pair in chain):
            report.record(outcome, job.due.step_id)
            if outcome is not TickOutcome.RETRYING:
                report.max_lag_seconds = max(
                    report.max_lag_seconds, (now - job.due.due_at).total_seconds()
                )
        return report

    def _load_plans(self, uow: Unit, plan_ids: set[int]) -> dict[int, tuple[Plan, Book]]:
        """The plans and their books, in four queries for the whole batch."""
        plans = uow.plans.many(sorted(plan_ids))
        books = {b.id: b for b in uow.books.many(sorted({p.book_id for p in plans}))}
        return {p.id: (p, books[p.book_id]) for p in plans if p.id and p.book_id in books}

    def _jobs(self, uow: Unit, claimed: Sequence[DueStep], now: datetime) -> list[_Job]:
        plans = self._load_plans(uow, {c.plan_id for c in claimed})
        jobs = []
        for due in claimed:
            plan, book = plans[due.plan_id]
            late = (
                classify_due(due.due_at, now, self.policy.grace, self.policy.late_after) is Due.LATE
            )
            jobs.append(_Job(due, plan, book, late))
        return jobs

    def _deliver_in_order(
        self, chain: list[_Job], token: str, now: datetime
    ) -> list[tuple[_Job, TickOutcome]]:
        """Post one channel's steps in order; after a failure, later ones wait for it."""
        outcomes: list[tuple[_Job, TickOutcome]] = []
        for index, job in enumerate(chain):
            outcome = self._deliver(job, token, now)
            outcomes.append((job, outcome))
            if outcome is TickOutcome.RETRYING:
                with self.uow() as uow:
                    retry_at = now + retry_delay(job.due.attempts + 1, None)
                    for later in chain[index + 1 :]:
                        uow.prompts.release(later.due.step_id, token, retry_at)
                        outcomes.append((later, TickOutcome.RETRYING))
                    uow.commit()
                break
        return outcomes

    def _deliver(self, job: _Job, token: str, now: datetime) -> TickOutcome:
        """Post one claimed step; returns what became of it."""
        due = job.due
        started = self.clock.now()
        if started - now >= self.policy.lease / 2:
            # The claim (taken at ``now``) is getting old while this step waited its turn:
            # renew it, so that the post has half a lease at least; lost means taken over.
            with self.uow() as uow:
                renewed = uow.prompts.renew(due.step_id, token, started)
                uow.commit()
            if not renewed:
                logger.warning("step %s was taken over by another process; leaving it", due.step_id)
                return TickOutcome.LOST
        step = job.plan.step(due.number)
        content = prompt_content(
            job.plan, job.book, step, late=job.late, defaults=self.policy.questions
        )
        recovered = False
        try:
            ts = None
            if due.attempts > 0:
                # It was claimed before: a crashed process may have posted it already.
                ts = self.notifier.find_prompt(
                    due.channel_id, due.step_id, due.due_at - timedelta(minutes=1)
                )
                recovered = ts is not None
            if ts is None:
                ts = self.notifier.post_prompt(due.channel_id, content)
        except DeliveryFailed as exc:
            delay = retry_delay(due.attempts + 1, exc.retry_after)
            logger.warning(
                "prompt for step %s not posted (%s); retrying in %s", due.step_id, exc.reason, delay
            )
            with self.uow() as uow:
                uow.prompts.release(due.step_id, token, now + delay)
                uow.commit()
            return TickOutcome.RETRYING
        except Exception:
            logger.exception("prompt for step %s failed unexpectedly; will retry", due.step_id)
            with self.uow() as uow:
                uow.prompts.release(due.step_id, token, now + retry_delay(due.attempts + 1, None))
                uow.commit()
            return TickOutcome.RETRYING
        with self.uow() as uow:
            uow.prompts.mark_posted(due.step_id, token, ts, now, job.late)
            uow.commit()
        self._echo_waiting_reflections(job, step, ts)
        if recovered:
            return TickOutcome.RECOVERED
        return TickOutcome.LATE if job.late else TickOutcome.POSTED

    def _echo_waiting_reflections(self, job: _Job, step: Step, thread_ts: str) -> None:
        """Shared reflections written before the prompt existed join its thread now."""
        plan_id = job.plan.id
        assert plan_id is not None
        with self.uow() as uow:
            waiting = [
                r
                for r in uow.reflections.for_plan(plan_id)
                if r.step_number == step.number
                and r.visibility is Visibility.SHARED
                and not r.message_ts
            ]
        for reflection in waiting:
            try:
                ts = self.notifier.post_reflection(job.due.channel_id, thread_ts, reflection, step)
            except DeliveryFailed as exc:
                logger.warning(
                    "reflection %s not echoed into the new thread: %s", reflection.id, exc.reason
                )
                continue
            with self.uow() as uow:
                saved = uow.reflections.get(reflection.id or 0)
                if saved is not None and not saved.message_ts:
                    saved.message_ts = ts
                    uow.reflections.save(saved)
                    uow.commit()

    def _catch_up(self, too_old: Sequence[DueStep], plans: dict[int, tuple[Plan, Book]]) -> None:
        by_plan: dict[int, list[DueStep]] = defaultdict(list)
        for due in too_old:
            by_plan[due.plan_id].append(due)
        for plan_id, dues in by_plan.items():
            if plan_id not in plans:
                continue
            plan, book = plans[plan_id]
            missed_numbers = {d.number for d in dues}
            missed = [s for s in plan.steps if s.number in missed_numbers]
            following = next(
                (
                    s
                    for s in plan.steps
                    if s.state is StepState.PENDING and s.number not in missed_numbers
                ),
                None,
            )
            try:
                self.notifier.post_catch_up(
                    dues[0].channel_id, book.title, missed, plan.timezone, following
                )
            except DeliveryFailed as exc:
                logger.warning("catch-up message for plan %s not posted: %s", plan_id, exc.reason)

    # --- reminders ----------------------------------------------------------------------

    def send_reminders(self, now: datetime) -> int:
        """DM members who have not reflected on the latest posted step, once, before the next one."""
        sent = 0
        with self.uow() as uow:
            plans = uow.prompts.posted_unreminded()
            work: list[tuple[Plan, Book, Step, str, list[Reflection], set[str]]] = []
            for plan in plans:
                step = _latest_posted(plan)
                if (
                    step is None
                    or step.reminded_at is not None
                    or now < timeline.reminder_at(plan, step, self.policy.reminder_lead)
                ):
                    continue
                book = uow.books.get(plan.book_id)
                group = uow.groups.by_id(plan.group_id)
                assert plan.id is not None and book is not None and step.id is not None
                if not uow.prompts.claim_reminder(step.id, now):
                    continue
                reflections = uow.reflections.for_plan(plan.id)
                muted = uow.members.muted(group.workspace_id)
                work.append((plan, book, step, group.channel_id, reflections, muted))
            uow.commit()
        for plan, book, step, channel_id, reflections, muted in work:
            done = {r.author_id for r in reflections if r.step_number == step.number}
            content = prompt_content(plan, book, step, defaults=self.policy.questions)
            try:
                members = self.notifier.channel_members(channel_id)
            except DeliveryFailed as exc:
                logger.warning(
                    "could not list members of %s for reminders: %s", channel_id, exc.reason
                )
                continue
            for user_id in members:
                if user_id in done or user_id in muted:
                    continue
                try:
                    self.notifier.remind(user_id, channel_id, step.message_ts, content)
                    sent += 1
                except DeliveryFailed as exc:
                    logger.warning("reminder to %s failed: %s", user_id, exc.reason)
        return sent


def _latest_posted(plan: Plan) -> Step | None:
    posted = [s for s in plan.steps if s.state is StepState.POSTED]
    return max(posted, key=lambda s: s.number, default=None)
