"""App Home's content for one member: the groups they read with, now and before.

Gathered through the ports (channel membership from the Notifier, the member's time
zone from the Directory), so the listener only renders and publishes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.model import (
    ActionItem,
    Feedback,
    Pair,
    PairState,
    PlanState,
    PlanView,
    Progress,
    Reflection,
    Role,
    Visibility,
)
from bot.domain.privacy import may_see
from bot.domain.reflections import progress
from bot.domain.schedule import usable_zone
from bot.services.ports import Clock, DeliveryFailed, Directory, Notifier, Unit, UnitOfWork
from bot.services.readers import ReaderService, ThreadLinks
from bot.services.reflections import book_titles

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HomeGroup:
    view: PlanView
    progress: Progress
    next_due: datetime | None = None  # the member's next step, at their own pace
    pace_days: int = 0
    threads: ThreadLinks | None = None  # spoiler-safe: the discussions they have read to


@dataclass(frozen=True, slots=True)
class HomePair:
    """A pair the member is in, as they may see it: the reflections written for the
    mentor (the mentee's own, or those addressed to this mentor) and the replies."""

    pair: Pair
    role: Role
    for_mentor: list[Reflection] = field(default_factory=list)
    replies: dict[int, list[Feedback]] = field(default_factory=dict)  # reflection id → replies
    open_actions: list[tuple[int, ActionItem]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Home:
    timezone: str
    now: datetime
    reading: list[HomeGroup] = field(default_factory=list)  # running plans
    finished: list[HomeGroup] = field(default_factory=list)  # the last book each group read
    reflections: list[Reflection] = field(default_factory=list)
    titles: dict[int, str] = field(default_factory=dict)  # plan id → book title
    pairs: list[HomePair] = field(default_factory=list)


class HomeService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        notifier: Notifier,
        directory: Directory,
        readers: ReaderService | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.directory = directory
        self.readers = readers or ReaderService(uow, clock, notifier, directory)

    def for_member(self, team_id: str, user_id: str) -> Home:
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            latest: dict[int, PlanView] = {}
            for group_id, plan in uow.plans.all_in_workspace(workspace_id):
                if plan.state is PlanState.CANCELLED:
                    continue
                book = uow.books.get(plan.book_id)
                assert book is not None
                latest[group_id] = PlanView(plan, book, uow.groups.by_id(group_id))
            mine = list(uow.reflections.by_author(workspace_id, user_id))
            pairs = [
                self._home_pair(uow, pair, user_id)
                for pair in uow.pairs.for_user(workspace_id, user_id)
                if pair.state is PairState.ACTIVE
            ]
            titles = {view.plan.id: view.book.title for view in latest.values() if view.plan.id}
            wanted = {r.plan_id for r in mine} | {r.plan_id for p in pairs for r in p.for_mentor}
            titles |= book_titles(uow, wanted - set(titles))
            uow.commit()
        reading: list[HomeGroup] = []
        finished: list[HomeGroup] = []
        for view in latest.values():
            wrote_here = any(r.plan_id == view.plan.id for r in mine)
            if not wrote_here and user_id not in self._members(view.group.channel_id):
                continue
            own = [r for r in mine if r.plan_id == view.plan.id]
            row = HomeGroup(view, progress(view.plan, user_id, own, view.book.chapter_count, now))
            if view.plan.state is PlanState.FINISHED:
                finished.append(row)
                continue
            position = self.readers.position_in(view, user_id)
            reading.append(
                HomeGroup(
                    view,
                    position.progress,
                    next_due=position.next_due,
                    pace_days=position.reader.pace_days,
                    threads=self.readers.threads(team_id, user_id, view.plan.id or 0),
                )
            )
        return Home(
            timezone=self._timezone(user_id),
            now=now,
            reading=reading,
            finished=finished,
            reflections=mine,
            titles=titles,
            pairs=pairs,
        )

    def _home_pair(self, uow: Unit, pair: Pair, user_id: str) -> HomePair:
        """What the member may see of their pair: the mentee's reflections written for
        the mentor (never their private ones), and the replies on them."""
        role = pair.role_of(user_id)
        assert role is not None and pair.id is not None
        written = [
            r
            for r in uow.reflections.by_author(pair.workspace_id, pair.mentee_id)
            if r.visibility is Visibility.MENTOR and may_see(r, user_id, pair)
        ]
        replies: dict[int, list[Feedback]] = {}
        for f in uow.pairs.feedback_on([r.id for r in written if r.id is not None]):
            replies.setdefault(f.reflection_id, []).append(f)
        return HomePair(
            pair,
            role,
            for_mentor=written[-10:],
            replies=replies,
            open_actions=uow.pairs.actions(pair.id, open_only=True),
        )

    def _members(self, channel_id: str) -> set[str]:
        try:
            return set(self.notifier.channel_members(channel_id))
        except DeliveryFailed as exc:
            logger.warning("could not list the members of %s: %s", channel_id, exc.reason)
            return set()

    def _timezone(self, user_id: str) -> str:
        return usable_zone(self.directory.user_timezone(user_id)) or "UTC"
