"""Digests in the summary channel: after each step closes, on demand, and a wrap-up at the end."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import pairwise

from bot.domain.commands import SummaryScope
from bot.domain.digests import Digest, DigestKind, compose_digest
from bot.domain.errors import InvalidInput
from bot.domain.model import Plan, PlanState, Step, StepState
from bot.domain.plans import finish
from bot.domain.schedule import local_to_utc, zone
from bot.services.plans import PlanView, running_view
from bot.services.ports import Clock, DeliveryFailed, Notifier, Unit, UnitOfWork

logger = logging.getLogger(__name__)

CLOSED = {StepState.POSTED, StepState.SKIPPED, StepState.MISSED, StepState.CANCELLED}


@dataclass(frozen=True, slots=True)
class PostedDigest:
    digest: Digest
    channel_id: str
    messages: int


@dataclass(frozen=True, slots=True)
class DigestPolicy:
    """When scheduled digests go out: after each step closes, or weekly at a local time."""

    weekly: bool = False
    weekday: int = 4  # Friday
    at: time = time(17, 0)


class DigestService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, notifier: Notifier, policy: DigestPolicy | None = None
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.policy = policy or DigestPolicy()

    # --- on demand ----------------------------------------------------------------------

    def post_on_demand(self, team_id: str, channel_id: str, scope: SummaryScope) -> PostedDigest:
        """`/book summary [step n|week|book]`: compose and post to the group's summary channel."""
        now = self.clock.now()
        with self.uow() as uow:
            view = running_view(uow, team_id, channel_id, now)
            steps = _steps_for(view.plan, scope, now)
            kind = DigestKind.SO_FAR if scope.kind == DigestKind.BOOK else scope.kind
            digest = _compose(uow, view, kind, steps, now)
        target = view.group.summary_channel_id or view.group.channel_id
        posted = self.notifier.post_digest(target, digest)
        return PostedDigest(digest, target, len(posted))

    def compose_for_plan(self, plan_id: int, kind: str) -> Digest:
        """A digest of a plan, for exports and tests."""
        now = self.clock.now()
        with self.uow() as uow:
            view = _view(uow, plan_id)
            steps = [s for s in view.plan.steps if s.state is StepState.POSTED]
            return _compose(uow, view, kind, steps, now)

    # --- scheduled ----------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> int:
        """Finish plans whose last step is over, then post step digests and wrap-ups, once each."""
        now = now or self.clock.now()
        self._finish_completed(now)
        posted = 0
        for plan_id, kind, key, step_numbers in self._due(now):
            posted += self._post_once(plan_id, kind, key, step_numbers, now)
        return posted

    def _finish_completed(self, now: datetime) -> None:
        with self.uow() as uow:
            for plan in uow.plans.running_all():
                if plan.state is not PlanState.ACTIVE or not plan.steps:
                    continue
                last = max(plan.steps, key=lambda s: s.number)
                over = last.due_at + timedelta(days=plan.cadence.period_days)
                if all(s.state in CLOSED for s in plan.steps) and now >= over:
                    finish(plan, now)
                    uow.plans.save(plan)
            uow.commit()

    def _due(self, now: datetime) -> list[tuple[int, str, str, list[int]]]:
        """(plan, kind, period key, steps) of every digest that should exist by now."""
        due: list[tuple[int, str, str, list[int]]] = []
        with self.uow() as uow:
            for plan in uow.plans.needing_digests():
                assert plan.id is not None
                posted = [
                    s
                    for s in sorted(plan.steps, key=lambda s: s.number)
                    if s.state is StepState.POSTED
                ]
                if plan.state is PlanState.FINISHED:
                    if posted:
                        due.append((plan.id, DigestKind.BOOK, "book", [s.number for s in posted]))
                elif self.policy.weekly:
                    due += self._weekly(plan, posted, now)
                else:
                    due += _closed_steps(plan, now)
            existing = {(p, k, key) for p, k, key in uow.plans.digest_keys([d[0] for d in due])}
        return [d for d in due if (d[0], d[1], d[2]) not in existing]

    def _weekly(
        self, plan: Plan, posted: list[Step], now: datetime
    ) -> list[tuple[int, str, str, list[int]]]:
        """The digest of the week that ended at the latest weekly slot (plan's local time)."""
        assert plan.id is not None
        tz = zone(plan.timezone)
        today = now.astimezone(tz).date()
        slot_day = today - timedelta(days=(today.weekday() - self.policy.weekday) % 7)
        slot = local_to_utc(slot_day, self.policy.at, tz)
        if slot > now:
            slot_day -= timedelta(days=7)
            slot = local_to_utc(slot_day, self.policy.at, tz)
        week = [
            s.number
            for s in posted
            if s.posted_at and slot - timedelta(days=7) < s.posted_at <= slot
        ]
        return [(plan.id, DigestKind.WEEK, f"week-{slot_day.isoformat()}", week)] if week else []

    def _post_once(
        self, plan_id: int, kind: str, key: str, step_numbers: list[int], now: datetime
    ) -> int:
        with self.uow() as uow:
            view = _view(uow, plan_id)
            target = view.group.summary_channel_id or view.group.channel_id
            summary_id = uow.summaries.claim(plan_id, kind, key, target, now)
            if summary_id is None:
                return 0  # another process has it
            steps = [view.plan.step(n) for n in step_numbers]
            digest = _compose(uow, view, kind, steps, now)
            uow.commit()
        try:
            ts_values = self.notifier.post_digest(target, digest)
        except DeliveryFailed as exc:
            logger.warning(
                "digest %s/%s for plan %s not posted (%s); will retry",
                kind,
                key,
                plan_id,
                exc.reason,
            )
            with self.uow() as uow:
                uow.summaries.release(summary_id)
                uow.commit()
            return 0
        with self.uow() as uow:
            uow.summaries.mark_posted(summary_id, ts_values, now)
            uow.commit()
        return 1


def _closed_steps(plan: Plan, now: datetime) -> list[tuple[int, str, str, list[int]]]:
    """A digest per posted step whose next step has come (posted, skipped or missed)."""
    assert plan.id is not None
    ordered = sorted(plan.steps, key=lambda s: s.number)
    return [
        (plan.id, DigestKind.STEP, f"step-{step.number}", [step.number])
        for step, following in pairwise(ordered)
        if step.state is StepState.POSTED and following.state in CLOSED and following.due_at <= now
    ]


def _view(uow: Unit, plan_id: int) -> PlanView:
    plan = uow.plans.get(plan_id)
    if plan is None:
        raise InvalidInput(f"No plan {plan_id}.")
    book = uow.books.get(plan.book_id)
    assert book is not None
    return PlanView(plan, book, uow.groups.by_id(plan.group_id))


def _steps_for(plan: Plan, scope: SummaryScope, now: datetime) -> list[Step]:
    posted = sorted((s for s in plan.steps if s.state is StepState.POSTED), key=lambda s: s.number)
    if scope.kind == DigestKind.BOOK:
        chosen = posted
    elif scope.kind == DigestKind.WEEK:
        chosen = [s for s in posted if s.posted_at and s.posted_at >= now - timedelta(days=7)]
    elif scope.step is not None:
        if not 1 <= scope.step <= len(plan.steps):
            raise InvalidInput(
                f"This plan has steps 1–{len(plan.steps)}; there is no step {scope.step}."
            )
        chosen = [s for s in posted if s.number == scope.step]
        if not chosen:
            raise InvalidInput(
                f"Step {scope.step} has not been posted yet, so there is nothing to sum up."
            )
    else:
        chosen = posted[-1:]
    if not chosen:
        raise InvalidInput("No prompt has been posted yet, so there is nothing to sum up.")
    return chosen


def _compose(uow: Unit, view: PlanView, kind: str, steps: list[Step], now: datetime) -> Digest:
    plan_id = view.plan.id
    assert plan_id is not None
    reflections = uow.reflections.for_plan(plan_id)
    messages = uow.discussions.for_steps([s.id for s in steps if s.id is not None])
    echoes = {r.message_ts: r.id for r in reflections if r.message_ts and r.id is not None}
    counts = uow.discussions.reaction_counts(view.group.channel_id, list(echoes))
    reflection_reactions = {echoes[ts]: n for ts, n in counts.items() if echoes.get(ts) is not None}
    return compose_digest(
        kind=kind,
        plan=view.plan,
        book=view.book,
        channel_id=view.group.channel_id,
        steps=steps,
        reflections=reflections,
        messages=messages,
        reflection_reactions={k: v for k, v in reflection_reactions.items() if k is not None},
        now=now,
    )
