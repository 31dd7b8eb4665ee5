"""Digests in the summary channel: after each step closes, on demand, and a wrap-up at the end."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.domain import timeline
from bot.domain.commands import SummaryScope
from bot.domain.digests import Digest, DigestDue, DigestKey, DigestKind, compose_digest
from bot.domain.errors import InvalidInput
from bot.domain.model import Plan, PlanState, Step, StepState
from bot.domain.plans import finish
from bot.services.plans import PlanView, running_view
from bot.services.ports import Clock, DeliveryFailed, Notifier, Unit, UnitOfWork

logger = logging.getLogger(__name__)


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

    def compose_for_plan(self, plan_id: int, kind: DigestKind) -> Digest:
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
        return sum(self._post_once(due, now) for due in self._due(now))

    def _finish_completed(self, now: datetime) -> None:
        with self.uow() as uow:
            for plan in uow.plans.running_all():
                if plan.state is PlanState.ACTIVE and timeline.is_complete(plan, now):
                    finish(plan, now)
                    uow.plans.save(plan)
            uow.commit()

    def _due(self, now: datetime) -> list[DigestDue]:
        """Every digest that should exist by now and does not yet."""
        due: list[DigestDue] = []
        with self.uow() as uow:
            for plan in uow.plans.needing_digests():
                assert plan.id is not None
                posted = tuple(
                    s.number
                    for s in sorted(plan.steps, key=lambda s: s.number)
                    if s.state is StepState.POSTED
                )
                if plan.state is PlanState.FINISHED:
                    if posted:
                        due.append(DigestDue(DigestKey(plan.id, DigestKind.BOOK, "book"), posted))
                elif self.policy.weekly:
                    due += self._weekly(plan, now)
                else:
                    due += [
                        DigestDue(
                            DigestKey(plan.id, DigestKind.STEP, f"step-{step.number}"),
                            (step.number,),
                        )
                        for step in timeline.digest_due_steps(plan, now)
                    ]
            existing = uow.plans.digest_keys([d.key.plan_id for d in due])
        return [d for d in due if d.key not in existing]

    def _weekly(self, plan: Plan, now: datetime) -> list[DigestDue]:
        """The digest of the week that ended at the latest weekly slot (plan's local time)."""
        assert plan.id is not None
        week = timeline.latest_week(now, plan.timezone, self.policy.weekday, self.policy.at)
        numbers = tuple(
            s.number
            for s in sorted(plan.steps, key=lambda s: s.number)
            if s.state is StepState.POSTED and s.posted_at and week.contains(s.posted_at)
        )
        key = DigestKey(plan.id, DigestKind.WEEK, f"week-{week.slot_day.isoformat()}")
        return [DigestDue(key, numbers)] if numbers else []

    def _post_once(self, due: DigestDue, now: datetime) -> int:
        key = due.key
        with self.uow() as uow:
            view = _view(uow, key.plan_id)
            target = view.group.summary_channel_id or view.group.channel_id
            summary_id = uow.summaries.claim(key, target, now)
            if summary_id is None:
                return 0  # another process has it
            steps = [view.plan.step(n) for n in due.step_numbers]
            digest = _compose(uow, view, key.kind, steps, now)
            uow.commit()
        try:
            ts_values = self.notifier.post_digest(target, digest)
        except DeliveryFailed as exc:
            logger.warning(
                "digest %s/%s for plan %s not posted (%s); will retry",
                key.kind.value,
                key.period,
                key.plan_id,
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


def _compose(
    uow: Unit, view: PlanView, kind: DigestKind, steps: list[Step], now: datetime
) -> Digest:
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
