"""Digests in the summary channel: after each step closes, on demand, and a wrap-up at the end."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.domain import pace, timeline
from bot.domain.commands import SummaryScope
from bot.domain.digests import (
    Digest,
    DigestDue,
    DigestKey,
    DigestKind,
    SummaryRecord,
    compose_digest,
)
from bot.domain.errors import InvalidInput
from bot.domain.markup import Names
from bot.domain.model import Caller, Plan, PlanState, Step, StepState
from bot.domain.permissions import can_manage
from bot.domain.plans import finish
from bot.services.export import NameSources
from bot.services.fanout import DEFAULT_WORKERS, fan_out
from bot.services.plans import PlanView, latest_view
from bot.services.ports import Clock, DeliveryFailed, Directory, Notifier, Unit, UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PostedDigest:
    """A digest asked for: posted to ``channel_id`` (``messages`` of them), or, for a
    member who may not post it for everyone, only composed (``channel_id`` None) to be
    shown to them alone."""

    digest: Digest
    channel_id: str | None
    messages: int


@dataclass(frozen=True, slots=True)
class DigestPolicy:
    """When scheduled digests go out: after each step closes, or weekly at a local time."""

    weekly: bool = False
    weekday: int = 4  # Friday
    at: time = time(17, 0)
    workers: int = DEFAULT_WORKERS  # digests posted at once (POSTING_WORKERS)


class DigestService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        notifier: Notifier,
        policy: DigestPolicy | None = None,
        directory: Directory | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.policy = policy or DigestPolicy()
        self.names = NameSources(directory)

    # --- on demand ----------------------------------------------------------------------

    def post_on_demand(self, caller: Caller, channel_id: str, scope: SummaryScope) -> PostedDigest:
        """`/book summary [step n|week|book]`: compose it; the host or an admin posts it to
        the group's summary channel, anyone else gets it to read alone (nobody can flood
        the channel with digests)."""
        team_id = caller.team_id
        now = self.clock.now()
        with self.uow() as uow:
            view = latest_view(uow, team_id, channel_id, now)  # a finished book too
            pair = uow.pairs.active_for_channel(view.group.workspace_id, view.group.channel_id)
            privately = not can_manage(view.plan, caller, pair)
            steps = _steps_for(view.plan, scope, now)
            if privately:
                steps = self._unspoiled(uow, view, caller.user_id, steps)
            finished = view.plan.state is PlanState.FINISHED
            kind = (
                (DigestKind.BOOK if finished else DigestKind.SO_FAR)
                if scope.kind == DigestKind.BOOK
                else scope.kind
            )
            digest = _compose(uow, view, kind, steps, now)
            stored = self._stored_names(uow, view, digest)
        if digest.is_empty:
            raise InvalidInput(
                f"Nothing to sum up yet: nobody has shared a reflection or replied in the "
                f"thread on {digest.chapters_label}, so I haven't posted a digest."
            )
        digest = self._named(digest, stored)
        if privately:
            return PostedDigest(digest, None, 0)
        target = view.group.summary_channel_id or view.group.channel_id
        posted = self.notifier.post_digest(target, digest)
        # Recorded like a scheduled digest, so it too is re-rendered when words it quotes
        # are taken back.
        assert view.plan.id is not None
        key = DigestKey(view.plan.id, kind, f"asked-{now.isoformat()}")
        with self.uow() as uow:
            summary_id = uow.summaries.claim(key, target, now, [s.number for s in steps])
            if summary_id is not None:
                uow.summaries.mark_posted(summary_id, posted, now)
            uow.commit()
        return PostedDigest(digest, target, len(posted))

    def _unspoiled(self, uow: Unit, view: PlanView, user_id: str, steps: list[Step]) -> list[Step]:
        """A digest only for the member covers the chapters they have read (said, or
        reflected on) or asked to see anyway, as their App Home does: no spoilers."""
        plan_id = view.plan.id or 0
        reader = uow.readers.get(plan_id, user_id)
        read_to = pace.spoiler_position(
            reader,
            uow.reflections.for_plan(plan_id, author_id=user_id),
            view.plan,
            self.clock.now(),
        )
        shown_anyway = reader.revealed_through if reader else 0
        unspoiled = [s for s in steps if s.last_chapter <= read_to or s.number <= shown_anyway]
        if steps and not unspoiled:
            where = f" (you are at chapter {read_to})" if read_to else ""
            raise InvalidInput(
                f"That digest covers {steps[-1].describe_chapters()}, which you haven't read "
                f"yet{where}, so I won't spoil it. `/reflect progress ch <n>` tells me where "
                "you are."
            )
        return unspoiled

    def compose_for_plan(self, plan_id: int, kind: DigestKind) -> Digest:
        """A digest of a plan, for exports and tests."""
        now = self.clock.now()
        with self.uow() as uow:
            view = _view(uow, plan_id)
            steps = [s for s in view.plan.steps if s.state is StepState.POSTED]
            return _compose(uow, view, kind, steps, now)

    # --- scheduled ----------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> int:
        """Finish plans whose last step is over, post step digests and wrap-ups (once each),
        then bring wrap-ups up to date with reflections shared since they were posted."""
        now = now or self.clock.now()
        self._finish_completed(now)
        due = self._due(now)
        posted = sum(fan_out(lambda d: self._post_once(d, now), due, self.policy.workers))
        return posted + self.refresh_behind(now)

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
            summary_id = uow.summaries.claim(key, target, now, due.step_numbers)
            if summary_id is None:
                return 0  # another process has it
            steps = [view.plan.step(n) for n in due.step_numbers]
            digest = _compose(uow, view, key.kind, steps, now)
            if digest.is_empty:  # nothing shared: done, and never posted (nor retried)
                uow.summaries.mark_empty(summary_id, now)
                uow.commit()
                return 0
            stored = self._stored_names(uow, view, digest)
            uow.commit()
        digest = self._named(digest, stored)
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

    # --- wrap-ups that late reflections have overtaken -----------------------------------

    def refresh_behind(self, now: datetime | None = None) -> int:
        """Re-render every posted digest that what may be quoted has overtaken: a wrap-up
        older than a reflection shared late on its plan, and any digest older than its
        plan's ``quotes_changed_at`` (words deleted, made private, edited, or quoting
        turned off). ``chat.update`` its messages (or post an empty wrap-up now). Returns
        how many digests were posted for the first time."""
        now = now or self.clock.now()
        with self.uow() as uow:
            behind = uow.summaries.behind()
        return sum(self._refresh(summary, now) for summary in behind)

    def _refresh(self, summary: SummaryRecord, now: datetime) -> int:
        with self.uow() as uow:
            if not uow.summaries.take_refresh(summary.id, summary.updated_at, now):
                return 0  # another process is at it
            view = _view(uow, summary.key.plan_id)
            steps = _steps_of(view.plan, summary)
            digest = _compose(uow, view, summary.key.kind, steps, now)
            stored = self._stored_names(uow, view, digest)
            uow.commit()
        if digest.is_empty:
            if summary.message_ts:
                self._withdraw(summary, now)  # nothing may be shown any more: it goes
            return 0
        digest = self._named(digest, stored)
        try:
            if summary.message_ts:
                ts_values = self.notifier.update_digest(
                    summary.channel_id, list(summary.message_ts), digest
                )
            else:
                ts_values = self.notifier.post_digest(summary.channel_id, digest)
        except DeliveryFailed as exc:
            logger.warning(
                "digest %s of plan %s not brought up to date (%s); will retry",
                summary.key.period,
                summary.key.plan_id,
                exc.reason,
            )
            with self.uow() as uow:
                uow.summaries.give_back_refresh(summary.id, now, summary.updated_at)
                uow.commit()
            return 0
        with self.uow() as uow:
            uow.summaries.mark_updated(summary.id, ts_values, now)
            uow.commit()
        return 0 if summary.message_ts else 1

    def _withdraw(self, summary: SummaryRecord, now: datetime) -> None:
        """Delete a posted digest that has nothing left it may show."""
        try:
            for ts in summary.message_ts:
                self.notifier.delete_message(summary.channel_id, ts)
        except DeliveryFailed as exc:
            logger.warning("digest %s not withdrawn (%s); will retry", summary.id, exc.reason)
            with self.uow() as uow:
                uow.summaries.give_back_refresh(summary.id, now, summary.updated_at)
                uow.commit()
            return
        with self.uow() as uow:
            uow.summaries.mark_empty(summary.id, now)
            uow.commit()

    # --- names for the words quoted ------------------------------------------------------

    def _stored_names(self, uow: Unit, view: PlanView, digest: Digest) -> Names:
        return self.names.stored(
            uow, view.group.workspace_id, digest.mentioned_users(), digest.mentioned_channels()
        )

    def _named(self, digest: Digest, stored: Names) -> Digest:
        """The digest with the names of people and channels mentioned in its quotes."""
        names = self.names.resolve(stored, digest.mentioned_users(), digest.mentioned_channels())
        return dataclasses.replace(digest, names=names)


def _steps_of(plan: Plan, summary: SummaryRecord) -> list[Step]:
    """The steps a stored digest covers: as recorded; for rows from before steps were
    recorded, ``step-<n>`` digests cover step n and the others every posted step."""
    posted = sorted((s for s in plan.steps if s.state is StepState.POSTED), key=lambda s: s.number)
    numbers = summary.step_numbers
    if numbers is None and summary.key.period.startswith("step-"):
        tail = summary.key.period.removeprefix("step-")
        numbers = (int(tail),) if tail.isdigit() else None
    if numbers is None:
        return posted
    return [s for s in posted if s.number in set(numbers)]


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
    quotable = uow.members.quotable(view.group.workspace_id)
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
        quotable=quotable,
    )
