"""Posting chapter prompts exactly once, in order, retrying failures, catching up, reminding.

The database decides who posts what: a step is claimed by a conditional UPDATE (only one
process can win it), marked posted only once Slack answered ok, and released with a
retry time when Slack failed. Before posting again a step claimed before, the channel
is checked for the prompt a crashed process may already have posted (prompts carry the
step id in their message metadata).

Throughput: Slack answers a post in 100-300 ms, so a process keeps ``workers`` posts in
flight (threads waiting on Slack), claiming the next batch as threads free up; on
PostgreSQL every process does so (see ``bot.scheduler``).

Order is a database fact too: a step can be claimed only once every earlier step of its
plan is closed, or together with them (see the queue). A batch's steps are claimed
together and posted one after another per channel, in plan order; when one fails, the
later ones of its plan are given back to wait for it.

Retries: the retry time counts from the moment Slack failed, never earlier than its
Retry-After, and the backoff grows with Slack's failures of that post (``failures``),
not with claims: a process that crashed while posting says nothing about Slack.

Abandoned claims. Just before each post the claim is renewed (``claimed_at``) and
marked in flight until ``flight`` later: one post, with its channel pacing, is over by
then (Slack answered, or the client gave up). Another process takes a claim over

* when it is older than ``lease``, whatever became of its process (a process that is
  alive but slow loses it: its renewal before the next post fails, and it posts no
  more of it); or
* at once when the process that made it is gone (PostgreSQL: its worker lock is free;
  SQLite, one posting process: another worker claimed it before this process started),
  unless a post of it may still be in flight: then once ``flight`` has passed.

Either way no post of the old claimant can land after the taker checked the channel,
so the prompt is posted once: the old claimant posts only right after a renewal its
own claim survived, and that post is over before the claim can be taken (one post
takes less than ``flight``, and less than ``lease``). Knowing who is gone only makes
recovery faster; a live process wrongly taken for gone loses nothing but its queue.
"""

from __future__ import annotations

import enum
import logging
import queue
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.domain import pace, timeline
from bot.domain.model import Book, Plan, PlanState, Step, StepState, Visibility
from bot.domain.pace import DueNudge
from bot.domain.prompts import (
    DEFAULT_QUESTIONS,
    Due,
    PromptContent,
    classify_due,
    prompt_content,
    retry_delay,
)
from bot.domain.schedule import usable_zone
from bot.services.echoes import EchoService
from bot.services.fanout import DEFAULT_WORKERS, fan_out
from bot.services.ports import (
    Clock,
    DeliveryFailed,
    Directory,
    DueStep,
    Notifier,
    Unit,
    UnitOfWork,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PromptPolicy:
    # Missed by more than this: listed in a catch-up message instead of posted.
    grace: timedelta = timedelta(hours=12)
    # Missed by more than this: posted with a "late" note.
    late_after: timedelta = timedelta(minutes=10)
    # A claim not renewed for this long is taken over, whoever holds it.
    lease: timedelta = timedelta(minutes=5)
    # The longest one post takes from its claim's renewal (pacing plus the Slack client's
    # timeout): a claim of a process that is gone is taken over once this has passed.
    flight: timedelta = timedelta(seconds=60)
    reminder_lead: timedelta = timedelta(hours=24)  # remind this long before the next step
    batch: int = 200
    # Posts in flight at once (POSTING_WORKERS): see bot.services.fanout.
    workers: int = DEFAULT_WORKERS
    # A 429 whose Retry-After is at most this is waited out and the post sent again at
    # once (claim renewed first); a longer one stores a retry time for a later tick.
    inline_retry: timedelta = timedelta(seconds=5)
    inline_retries: int = 3
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
    pairs: int = 0  # mentoring-pair messages due (expired invitations, look-backs, quiet)
    polls: int = 0  # next-book polls closed (and counted) at their time
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


@dataclass(frozen=True, slots=True)
class _Job:
    due: DueStep
    plan: Plan
    book: Book
    late: bool
    paired: bool = False  # a mentoring pair reads here: its open action items may go in


@dataclass(frozen=True, slots=True)
class _Delivery:
    """What became of one job; ``ts`` when it is in the channel (to be marked posted)."""

    job: _Job
    outcome: TickOutcome
    ts: str | None = None


class PromptService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        notifier: Notifier,
        policy: PromptPolicy | None = None,
        directory: Directory | None = None,
        wait: Callable[[float], None] = time.sleep,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.policy = policy or PromptPolicy()
        self.directory = directory  # members' own time zones, for their nudges
        self.wait = wait  # how a Retry-After is waited out (tests advance a fake clock)
        self.echoes = EchoService(uow, clock, notifier)
        self.worker_id = uuid.uuid4().hex[:12]
        # When this process (its posting part) started: on SQLite, claims another worker
        # made before it were left by a process that is gone (there is one posting process).
        self.started = clock.now()

    def run_due(self, now: datetime | None = None) -> TickReport:
        """Everything due at ``now``: prompts (on time, late, or caught up) and reminders."""
        now = now or self.clock.now()
        report = self.post_due(now)
        report.reminded = self.send_reminders(now)
        return report

    # --- prompts ----------------------------------------------------------------------

    def post_due(self, now: datetime | None = None) -> TickReport:
        """Post every prompt due at ``now``, ``workers`` posts at a time.

        Claims are taken a batch at a time, and the next batch only once fewer channels
        than ``workers`` are still waiting for a thread: the pool never idles while steps
        are due, and a process holds few claims it is not working on, so the steps spread
        over every posting process (each claims rows the others have not locked).
        """
        now = now or self.clock.now()
        report = TickReport()
        workers = max(1, self.policy.workers)
        done: queue.SimpleQueue[tuple[str, list[_Delivery]]] = queue.SimpleQueue()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prompt") as pool:
            running = 0  # chains submitted and not yet reported on the queue
            more = True
            while more or running:
                if more and running < workers:
                    token = f"{self.worker_id}:{uuid.uuid4().hex[:8]}"
                    chains, more = self._claim_batch(now, token, report)
                    for chain in chains:
                        pool.submit(self._run_chain, chain, token, now, done)
                    running += len(chains)
                    if more and running < workers:
                        continue
                if not running:
                    continue
                finished = [done.get()]
                while True:  # and whatever else finished meanwhile: settled together
                    try:
                        finished.append(done.get_nowait())
                    except queue.Empty:
                        break
                running -= len(finished)
                self._settle(finished, now, report)
        return report

    def _run_chain(
        self,
        chain: list[_Job],
        token: str,
        now: datetime,
        done: queue.SimpleQueue[tuple[str, list[_Delivery]]],
    ) -> None:
        """A pool thread: post one channel's chain and report it on ``done``, always (a
        failure past the per-post handling leaves its claims to be taken over)."""
        deliveries: list[_Delivery] = []
        try:
            deliveries = self._deliver_in_order(chain, token, now)
        except Exception:
            logger.exception("posting to %s failed unexpectedly", chain[0].due.channel_id)
        finally:
            done.put((token, deliveries))

    def _settle(
        self, finished: list[tuple[str, list[_Delivery]]], now: datetime, report: TickReport
    ) -> None:
        """Mark what is in the channels posted, in one transaction for all that finished
        together (a crash before it: the prompts are found in channel history, never
        posted twice); then shared reflections written meanwhile join their threads."""
        posted = [(token, d) for token, chain in finished for d in chain if d.ts is not None]
        if posted:
            with self.uow() as uow:
                uow.prompts.mark_posted_many(
                    [(d.job.due.step_id, token, d.ts or "", d.job.late) for token, d in posted],
                    now,
                )
                waiting = uow.reflections.unechoed(sorted({d.job.due.plan_id for _, d in posted}))
                uow.commit()
            for _, d in posted:
                if (d.job.due.plan_id, d.job.due.number) in waiting:
                    self._echo_waiting_reflections(d.job, d.job.plan.step(d.job.due.number))
        for _, chain in finished:
            for d in chain:
                report.record(d.outcome, d.job.due.step_id)
                if d.outcome not in (TickOutcome.RETRYING, TickOutcome.LOST):
                    report.max_lag_seconds = max(
                        report.max_lag_seconds, (now - d.job.due.due_at).total_seconds()
                    )

    def _claim_batch(
        self, now: datetime, token: str, report: TickReport
    ) -> tuple[list[list[_Job]], bool]:
        """Claim up to a batch of due steps under ``token``: the too-old ones are listed
        in a catch-up message now; the others come back as one chain per channel, in plan
        order. Also says whether more may be due (a full batch, some of it won)."""
        stale_before = now - self.policy.lease
        with self.uow() as uow:
            uow.prompts.announce(self.worker_id)
            candidates = uow.prompts.candidates(
                now,
                stale_before,
                self.policy.batch,
                worker_id=self.worker_id,
                started=self.started,
            )
            won = set(
                uow.prompts.claim(
                    [c.step_id for c in candidates],
                    token,
                    now,
                    stale_before,
                    worker_id=self.worker_id,
                    started=self.started,
                )
            )
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
            for due in too_old:
                report.record(TickOutcome.MISSED, due.step_id)
            self._catch_up(too_old, missed_plans)
        # Channels in parallel; within a channel, steps strictly in plan order, one at a time.
        by_channel: dict[str, list[_Job]] = defaultdict(list)
        for job in sorted(jobs, key=lambda j: (j.due.plan_id, j.due.number)):
            by_channel[job.due.channel_id].append(job)
        return list(by_channel.values()), len(candidates) >= self.policy.batch and bool(won)

    def _load_plans(self, uow: Unit, plan_ids: set[int]) -> dict[int, tuple[Plan, Book]]:
        """The plans and their books, in four queries for the whole batch."""
        plans = uow.plans.many(sorted(plan_ids))
        books = {b.id: b for b in uow.books.many(sorted({p.book_id for p in plans}))}
        return {p.id: (p, books[p.book_id]) for p in plans if p.id and p.book_id in books}

    def _jobs(self, uow: Unit, claimed: Sequence[DueStep], now: datetime) -> list[_Job]:
        """What each claimed step needs to be posted, in a few queries for the batch."""
        plans = self._load_plans(uow, {c.plan_id for c in claimed})
        paired = uow.pairs.active_channels([c.channel_id for c in claimed])
        jobs = []
        for due in claimed:
            plan, book = plans[due.plan_id]
            late = (
                classify_due(due.due_at, now, self.policy.grace, self.policy.late_after) is Due.LATE
            )
            jobs.append(
                _Job(
                    due,
                    plan,
                    book,
                    late,
                    paired=due.channel_id in paired,
                )
            )
        return jobs

    def _deliver_in_order(self, chain: list[_Job], token: str, now: datetime) -> list[_Delivery]:
        """Post one channel's steps in order. After a failure the later ones are given back
        to wait for it (until its retry time); after a takeover, to whoever took it."""
        deliveries: list[_Delivery] = []
        for index, job in enumerate(chain):
            delivery, retry_at = self._deliver(job, token)
            deliveries.append(delivery)
            if delivery.outcome in (TickOutcome.RETRYING, TickOutcome.LOST):
                later = chain[index + 1 :]
                if later:
                    with self.uow() as uow:
                        for other in later:
                            uow.prompts.release(other.due.step_id, token, retry_at)
                        uow.commit()
                    deliveries.extend(_Delivery(other, delivery.outcome) for other in later)
                break
        return deliveries

    def _deliver(self, job: _Job, token: str) -> tuple[_Delivery, datetime | None]:
        """Post one claimed step; returns what became of it (and when to retry it). It is
        marked posted by whoever settles the delivery."""
        due = job.due
        step = job.plan.step(due.number)
        content = prompt_content(
            job.plan, job.book, step, late=job.late, defaults=self.policy.questions
        )
        if job.paired:
            content = self._with_open_actions(content, job.plan, due.channel_id)
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
                ts = self._post(due, token, content)
                if ts is None:
                    logger.warning(
                        "step %s was taken over by another process; leaving it", due.step_id
                    )
                    return _Delivery(job, TickOutcome.LOST), None
        except DeliveryFailed as exc:
            retry_at = self._failed(due, token, exc.reason, exc.retry_after)
            return _Delivery(job, TickOutcome.RETRYING), retry_at
        except Exception:
            logger.exception("prompt for step %s failed unexpectedly", due.step_id)
            retry_at = self._failed(due, token, "unexpected error", None)
            return _Delivery(job, TickOutcome.RETRYING), retry_at
        if recovered:
            return _Delivery(job, TickOutcome.RECOVERED, ts), None
        return _Delivery(job, TickOutcome.LATE if job.late else TickOutcome.POSTED, ts), None

    def _with_open_actions(
        self, content: PromptContent, plan: Plan, channel_id: str
    ) -> PromptContent:
        """A pair's prompt reminds them of their open action items ("Last time you
        planned to …"), only where nobody but the two reads the conversation."""
        with self.uow() as uow:
            workspace_id = uow.groups.by_id(plan.group_id).workspace_id
            pair = uow.pairs.active_for_channel(workspace_id, channel_id)
            items = uow.pairs.actions(pair.id, open_only=True) if pair and pair.id else []
        if pair is None or not items:
            return content
        try:
            readers = set(self.notifier.channel_members(channel_id))
        except DeliveryFailed as exc:
            logger.warning("members of %s unknown (%s): no action items", channel_id, exc.reason)
            return content
        if not readers <= set(pair.people):
            return content  # someone else reads this conversation: the items stay private
        return replace(
            content, pair_id=pair.id, open_actions=tuple((n, i.text) for n, i in items[:5])
        )

    def _post(self, due: DueStep, token: str, content: PromptContent) -> str | None:
        """Post the prompt, each attempt right after a renewal of the claim (None: the
        claim was taken over). A short Retry-After (a 429: Slack took nothing) is waited
        out and the post sent again; a longer one, or too many, raise DeliveryFailed."""
        for attempt in range(self.policy.inline_retries + 1):
            if not self._renew_for_post(due, token):
                return None
            try:
                return self.notifier.post_prompt(due.channel_id, content)
            except DeliveryFailed as exc:
                pause = exc.retry_after
                if (
                    pause is None
                    or attempt == self.policy.inline_retries
                    or pause > self.policy.inline_retry.total_seconds()
                ):
                    raise
                logger.info("prompt for step %s rate limited; again in %.1fs", due.step_id, pause)
                self.wait(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _renew_for_post(self, due: DueStep, token: str) -> bool:
        """Renew the claim just before its post, marked in flight until the post is over
        for sure; False if another process took the claim over meanwhile."""
        moment = self.clock.now()
        with self.uow() as uow:
            renewed = uow.prompts.renew(due.step_id, token, moment, moment + self.policy.flight)
            uow.commit()
        return renewed

    def _failed(self, due: DueStep, token: str, reason: str, retry_after: float | None) -> datetime:
        """Give a step back after Slack failed its post; returns its retry time, counted
        from now (the failure), one more failure of this post for the backoff."""
        failed_at = self.clock.now()
        retry_at = failed_at + retry_delay(due.failures + 1, retry_after)
        logger.warning(
            "prompt for step %s not posted (%s); retrying in %s",
            due.step_id,
            reason,
            retry_at - failed_at,
        )
        with self.uow() as uow:
            uow.prompts.release(due.step_id, token, retry_at, failed=True)
            uow.commit()
        return retry_at

    def _echo_waiting_reflections(self, job: _Job, step: Step) -> None:
        """Shared reflections written before the prompt was marked posted join its thread
        now, through the one echo path (claimed in the database: never twice)."""
        plan_id = job.plan.id
        assert plan_id is not None
        with self.uow() as uow:
            waiting = [
                r.id
                for r in uow.reflections.for_plan(plan_id)
                if r.step_number == step.number
                and r.visibility is Visibility.SHARED
                and not r.message_ts
                and r.id is not None
            ]
        for reflection_id in waiting:
            self.echoes.sync(reflection_id)

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
        """Nudge members who have not reflected: each at their own time (their pace,
        their time zone's waking hours), never while away or muted, at most once."""
        self._plan_nudges(now)
        return self._send_due_nudges(now)

    def _plan_nudges(self, now: datetime) -> None:
        """At a step's reminder time, one nudge row per member who has not reflected,
        due when it suits them (claimed per step: planned once)."""
        with self.uow() as uow:
            plans = uow.prompts.posted_unreminded()
            work: list[tuple[Plan, Step, str, int, set[str]]] = []
            for plan in plans:
                step = _latest_posted(plan)
                if (
                    step is None
                    or step.reminded_at is not None
                    or now < timeline.reminder_at(plan, step, self.policy.reminder_lead)
                ):
                    continue
                group = uow.groups.by_id(plan.group_id)
                assert plan.id is not None and step.id is not None
                if not uow.prompts.claim_reminder(step.id, now):
                    continue
                done = {
                    r.author_id
                    for r in uow.reflections.for_plan(plan.id)
                    if r.step_number == step.number
                }
                skip = done | uow.members.muted(group.workspace_id)
                work.append((plan, step, group.channel_id, group.workspace_id, skip))
            uow.commit()
        fan_out(lambda item: self._plan_step_nudges(*item), work, self.policy.workers)

    def _plan_step_nudges(
        self, plan: Plan, step: Step, channel_id: str, workspace_id: int, skip: set[str]
    ) -> None:
        try:
            members = [m for m in self.notifier.channel_members(channel_id) if m not in skip]
        except DeliveryFailed as exc:
            logger.warning("could not list members of %s for reminders: %s", channel_id, exc.reason)
            return
        timezones = {m: self._timezone(m) for m in members}
        with self.uow() as uow:
            readers = {r.user_id: r for r in uow.readers.for_plan(plan.id or 0)}
            any_hour = uow.members.without_quiet_hours(workspace_id)
            for member in members:
                due = pace.nudge_at(
                    plan,
                    step,
                    readers.get(member),
                    self.policy.reminder_lead,
                    timezones[member],
                    quiet_hours=member not in any_hour,
                )
                uow.readers.plan_nudge(step.id or 0, member, due)
            uow.commit()

    def _send_due_nudges(self, now: datetime) -> int:
        with self.uow() as uow:
            due = uow.readers.due_nudges(now)
        return sum(fan_out(lambda nudge: self._send_nudge(nudge, now), due, self.policy.workers))

    def _send_nudge(self, nudge: DueNudge, now: datetime) -> bool:
        """Claim one nudge (another process may have it), send it, and say so."""
        with self.uow() as uow:
            if not uow.readers.claim_nudge(nudge.nudge_id):
                return False
            uow.commit()
        delivered = False
        try:
            delivered = self._nudge(nudge, now)
        finally:
            with self.uow() as uow:
                uow.readers.finish_nudge(nudge.nudge_id, delivered, now)
                uow.commit()
        return delivered

    def _nudge(self, nudge: DueNudge, now: datetime) -> bool:
        """Send one nudge, unless the member has reflected, muted or gone away since."""
        with self.uow() as uow:
            plan = uow.plans.by_step(nudge.step_id)
            if plan is None or plan.state is not PlanState.ACTIVE or plan.id is None:
                return False
            group = uow.groups.by_id(plan.group_id)
            step = next(s for s in plan.steps if s.id == nudge.step_id)
            reflected = any(
                r.step_number == step.number
                for r in uow.reflections.for_plan(plan.id, author_id=nudge.user_id)
            )
            muted = nudge.user_id in uow.members.muted(group.workspace_id)
            away = pace.is_away(
                uow.readers.away(group.workspace_id, [nudge.user_id]).get(nudge.user_id, []), now
            )
            reader = uow.readers.get(plan.id, nudge.user_id)
            book = uow.books.get(plan.book_id)
        if reflected or muted or away or book is None:
            return False
        content = prompt_content(plan, book, step, defaults=self.policy.questions)
        if reader is not None and reader.pace_days and content.deadline is not None:
            content = replace(content, deadline=pace.own_deadline(plan, step, reader))
        try:
            self.notifier.remind(nudge.user_id, group.channel_id, step.message_ts, content)
        except DeliveryFailed as exc:
            logger.warning("reminder to %s failed: %s", nudge.user_id, exc.reason)
            return False
        return True

    def _timezone(self, user_id: str) -> str | None:
        """The member's own time zone, when Slack knows one we can use."""
        return usable_zone(self.directory.user_timezone(user_id)) if self.directory else None


def _latest_posted(plan: Plan) -> Step | None:
    posted = [s for s in plan.steps if s.state is StepState.POSTED]
    return max(posted, key=lambda s: s.number, default=None)
