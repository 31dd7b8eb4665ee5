"""Reading plans: start one in a group, and pause, resume, skip or finish it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain import plans as rules
from bot.domain.books import clean_questions
from bot.domain.commands import PlanOptions
from bot.domain.errors import Conflict, Duplicate, InvalidInput, NotFound
from bot.domain.model import Cadence, Caller, PairState, Plan, PlanState, PlanView, Step
from bot.domain.permissions import require_manager
from bot.domain.plans import PlanDefaults
from bot.domain.schedule import zone
from bot.services.books import find_book, require_chapter
from bot.services.ports import Clock, Notifier, Unit, UnitOfWork


@dataclass(frozen=True, slots=True)
class PlanChange:
    """The outcome of pause/resume/skip/finish: the plan after it, and the steps it touched."""

    view: PlanView
    steps: list[Step]


PAIR_CONVERSATION_ENDED = (
    "This was a mentoring pair's conversation and the pair has ended, so it starts no new "
    "book (whoever left would still read along). `/mentor @name` starts a new pair; a "
    "reading group reads in a channel."
)
STEP_GONE = "That prompt's reading plan no longer exists."
NO_PLAN = "There is no reading plan in this channel. Start one with `/book start <book>`."


__all__ = ["NO_PLAN", "PlanChange", "PlanService", "PlanView", "latest_view", "running_view"]

CANT_SEE_CHANNEL = (
    "I can't post in this conversation. In a channel, invite me first (`/invite @Readalong`), "
    "then start the plan. A direct message between two people can't have me in it: read "
    "together in a group DM with me or a private channel (`/mentor @name` makes one for a "
    "mentoring pair)."
)


class PlanService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        notifier: Notifier | None = None,
        defaults: PlanDefaults | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.defaults = defaults or PlanDefaults()

    def start_from(self, caller: Caller, channel_id: str, options: PlanOptions) -> PlanView:
        """`/book start …` or its form: fill what the member left out from the configured
        defaults (the start date: today, in the plan's zone), check that the bot can post
        in the channel, and start."""
        resolved = rules.resolve_options(options, self.defaults, self.clock.now())
        if self.notifier is not None and not self.notifier.can_post(channel_id):
            raise InvalidInput(CANT_SEE_CHANNEL)
        return self.start(
            caller,
            channel_id,
            resolved.book_ref,
            resolved.cadence,
            resolved.chapters_per_step,
            resolved.start_date,
            resolved.timezone,
        )

    def start(
        self,
        caller: Caller,
        channel_id: str,
        book_ref: str,
        cadence: Cadence,
        chapters_per_step: int,
        start_date: date,
        timezone: str,
    ) -> PlanView:
        """Start reading a book in a channel; the caller becomes the plan's host."""
        zone(timezone)
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(caller.team_id, now)
            pair = uow.pairs.latest_for_channel(workspace_id, channel_id)
            if pair is not None and pair.state is PairState.ENDED:
                raise Conflict(PAIR_CONVERSATION_ENDED)
            book = find_book(uow, workspace_id, book_ref)
            group = uow.groups.ensure(workspace_id, channel_id, now)
            assert group.id is not None
            running = uow.plans.running_for_group(group.id)
            busy = Conflict(
                "This channel is already reading a book. `/book finish` it (or `/book cancel` a "
                "plan started by mistake) before starting another."
            )
            if running is not None:
                raise busy
            plan = rules.new_plan(
                book=book,
                group_id=group.id,
                host_user_id=caller.user_id,
                cadence=cadence,
                chapters_per_step=chapters_per_step,
                start_date=start_date,
                timezone=timezone,
                now=now,
            )
            try:
                stored = uow.plans.add(plan)
                uow.commit()
            except Duplicate:  # another request started a plan here at the same moment
                raise busy from None
            return PlanView(stored, book, group)

    def current(self, team_id: str, channel_id: str) -> PlanView:
        """The channel's running (active or paused) plan, or a readable error."""
        with self.uow() as uow:
            view = running_view(uow, team_id, channel_id, self.clock.now())
            uow.commit()
            return view

    def find_current(self, team_id: str, channel_id: str) -> PlanView | None:
        try:
            return self.current(team_id, channel_id)
        except NotFound:
            return None

    def history(self, team_id: str, channel_id: str) -> list[PlanView]:
        """Every plan the channel has run, newest first."""
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            group = uow.groups.get(workspace_id, channel_id)
            if group is None or group.id is None:
                return []
            views = []
            for plan in uow.plans.for_group(group.id):
                book = uow.books.get(plan.book_id)
                assert book is not None
                views.append(PlanView(plan, book, group))
            uow.commit()
            return views

    def set_questions(
        self, caller: Caller, channel_id: str, chapter: int, questions: list[str]
    ) -> None:
        """Set a chapter's discussion questions for the book the channel is reading (host or admin)."""
        cleaned = clean_questions(questions)
        with self.uow() as uow:
            view = running_view(uow, caller.team_id, channel_id, self.clock.now())
            require_manager(view.plan, caller, "set questions for")
            require_chapter(view.book, chapter)
            uow.books.set_questions(view.plan.book_id, chapter, cleaned)
            uow.commit()

    def running_in_workspace(self, team_id: str) -> list[PlanView]:
        """Every running plan of the workspace (for App Home and the scheduler)."""
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, self.clock.now())
            views = []
            for plan in uow.plans.running_in_workspace(workspace_id):
                book = uow.books.get(plan.book_id)
                assert book is not None
                views.append(PlanView(plan, book, uow.groups.by_id(plan.group_id)))
            uow.commit()
            return views

    def for_step(self, step_id: int) -> PlanView:
        """The plan a step belongs to (a Reflect button may be clicked far from its channel)."""
        with self.uow() as uow:
            plan = uow.plans.by_step(step_id)
            if plan is None:
                raise NotFound("That prompt's plan no longer exists.")
            book = uow.books.get(plan.book_id)
            assert book is not None
            return PlanView(plan, book, uow.groups.by_id(plan.group_id))

    def channel_of(self, plan_id: int) -> str:
        """The channel a plan runs in."""
        with self.uow() as uow:
            plan = uow.plans.get(plan_id)
            if plan is None:
                raise NotFound(f"No plan {plan_id}.")
            return uow.groups.by_id(plan.group_id).channel_id

    def pause(self, caller: Caller, channel_id: str) -> PlanChange:
        return self._change(caller, channel_id, "pause", rules.pause)

    def resume(self, caller: Caller, channel_id: str) -> PlanChange:
        return self._change(caller, channel_id, "resume", rules.resume)

    def skip(self, caller: Caller, channel_id: str) -> PlanChange:
        return self._change(
            caller, channel_id, "skip a step of", lambda p, _now: [rules.skip_next(p)]
        )

    def finish(self, caller: Caller, channel_id: str) -> PlanChange:
        return self._change(caller, channel_id, "finish", rules.finish)

    def cancel(self, caller: Caller, channel_id: str) -> PlanChange:
        """Call off a plan started by mistake: nothing more is posted, and no wrap-up."""
        return self._change(caller, channel_id, "cancel", rules.cancel)

    def _change(
        self,
        caller: Caller,
        channel_id: str,
        action: str,
        apply: Callable[[Plan, datetime], list[Step]],
    ) -> PlanChange:
        now = self.clock.now()
        with self.uow() as uow:
            view = latest_view(uow, caller.team_id, channel_id, now)
            if view.plan.state is PlanState.FINISHED:
                raise NotFound(
                    f"There is no reading plan running here: “{view.book.title}” has already "
                    f"finished, so there is nothing to {action}. `/book start <book>` reads "
                    "the next one."
                )
            pair = uow.pairs.active_for_channel(view.group.workspace_id, view.group.channel_id)
            require_manager(view.plan, caller, action, pair)
            touched = apply(view.plan, now)
            uow.plans.save(view.plan)
            uow.commit()
            return PlanChange(view, touched)


def latest_view(uow: Unit, team_id: str, channel_id: str, now: datetime) -> PlanView:
    """The channel's running plan, else the last one it finished (not a cancelled one)."""
    workspace_id = uow.workspaces.ensure(team_id, now)
    group = uow.groups.get(workspace_id, channel_id)
    plan = None
    if group is not None and group.id is not None:
        plan = uow.plans.running_for_group(group.id) or uow.plans.latest_for_group(group.id)
    if group is None or plan is None:
        raise NotFound(NO_PLAN)
    book = uow.books.get(plan.book_id)
    assert book is not None
    return PlanView(plan, book, group)


def plan_of_step(uow: Unit, team_id: str, step_id: int, now: datetime) -> Plan:
    """The plan a prompt's step (a button's value) belongs to, in the caller's workspace;
    a step that is gone, or another workspace's, is the same clear no."""
    plan = uow.plans.by_step(step_id) if 0 < step_id <= 2**63 - 1 else None
    if plan is None or uow.groups.by_id(plan.group_id).workspace_id != uow.workspaces.ensure(
        team_id, now
    ):
        raise NotFound(STEP_GONE)
    return plan


def running_view(uow: Unit, team_id: str, channel_id: str, now: datetime) -> PlanView:
    """The channel's running (active or paused) plan inside an open unit of work."""
    workspace_id = uow.workspaces.ensure(team_id, now)
    group = uow.groups.get(workspace_id, channel_id)
    plan = uow.plans.running_for_group(group.id) if group and group.id else None
    if group is None or plan is None:
        raise NotFound(NO_PLAN)
    book = uow.books.get(plan.book_id)
    assert book is not None
    return PlanView(plan, book, group)
