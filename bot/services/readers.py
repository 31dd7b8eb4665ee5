"""Each member at their own pace: progress, away, own pace, quiet hours, the late
joiner's welcome, spoiler-safe threads, calendars, and the group's spread.

The group's plan never moves for one member: everything here is that member's own
(their nudges, App Home, calendar), and what the group sees of it is counts, never
who is behind.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import pace
from bot.domain.calendar import plan_feed
from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.model import Caller, Member, PlanState, PlanView, Progress, StepState, Visibility
from bot.domain.notes import CalendarLink, Welcome
from bot.domain.pace import Reader, Standing
from bot.domain.permissions import can_manage
from bot.domain.reflections import progress
from bot.domain.schedule import usable_zone
from bot.services.plans import latest_view, plan_of_step, running_view
from bot.services.ports import Clock, DeliveryFailed, Directory, Notifier, Unit, UnitOfWork

logger = logging.getLogger(__name__)

CALENDAR_PATH = "/calendar/"


@dataclass(frozen=True, slots=True)
class Position:
    """Where one member is in a plan, as only they see it."""

    view: PlanView
    reader: Reader
    read_to: int
    standing: Standing
    progress: Progress
    away_until: datetime | None
    next_due: datetime | None  # their next step, at their own pace


@dataclass(frozen=True, slots=True)
class GroupStatus:
    """`/book status`: the plan, the spread as counts, and only those not behind by
    name (never who is behind); the caller's own standing."""

    view: PlanView
    spread: dict[Standing, int]
    shown: list[Progress]  # members on schedule or ahead
    mine: Position | None
    unsaid: int = 0  # members who have not said (or shown) where they are
    viewer_timezone: str | None = None  # the caller's own zone (Slack's), for their times


@dataclass(frozen=True, slots=True)
class ThreadLinks:
    """For App Home: the discussion threads a member may open, and the locked ones."""

    view: PlanView
    open_steps: list[tuple[int, str, str | None]]  # (step number, chapters, permalink)
    locked: list[tuple[int, str]]


class ReaderService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        notifier: Notifier,
        directory: Directory,
        public_url: str = "",
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.directory = directory
        self.public_url = public_url.rstrip("/")

    # ------------------------------------------------------------------ where I am

    def set_progress(self, team_id: str, user_id: str, channel_id: str, chapter: int) -> Position:
        """`/reflect progress ch 5`: the member has read up to chapter 5."""
        now = self.clock.now()
        with self.uow() as uow:
            view = latest_view(uow, team_id, channel_id, now)
            pace.check_chapter(chapter, view.book.chapter_count)
            reader = self._reader(uow, _id(view.plan.id), user_id)
            reader.read_through = chapter
            uow.readers.save(reader, now)
            uow.commit()
        return self.position(team_id, user_id, channel_id)

    def read_step(self, team_id: str, user_id: str, step_id: int) -> Position:
        """ "I've read these" on a prompt: the member has read the step's chapters."""
        now = self.clock.now()
        with self.uow() as uow:
            plan = plan_of_step(uow, team_id, step_id, now)
            group = uow.groups.by_id(plan.group_id)
            step = next(s for s in plan.steps if s.id == step_id)
            book = uow.books.get(plan.book_id)
            assert book is not None
            view = PlanView(plan, book, group)
            reader = self._reader(uow, _id(view.plan.id), user_id)
            reader.read_through = max(reader.read_through, step.last_chapter)
            uow.readers.save(reader, now)
            uow.commit()
        return self.position(team_id, user_id, group.channel_id)

    def position_in(self, view: PlanView, user_id: str) -> Position:
        """Where the member is in the plan of ``view``."""
        with self.uow() as uow:
            return self._position(uow, view, user_id, self.clock.now())

    def position(self, team_id: str, user_id: str, channel_id: str) -> Position:
        now = self.clock.now()
        with self.uow() as uow:
            view = latest_view(uow, team_id, channel_id, now)
            return self._position(uow, view, user_id, now)

    def _position(self, uow: Unit, view: PlanView, user_id: str, now: datetime) -> Position:
        plan_id = _id(view.plan.id)
        reader = self._reader(uow, _id(view.plan.id), user_id)
        mine = uow.reflections.for_plan(plan_id, author_id=user_id)
        away = uow.readers.away(view.group.workspace_id, [user_id]).get(user_id, [])
        read_to = pace.position(reader, mine, view.plan)
        own = progress(
            view.plan,
            user_id,
            mine,
            view.book.chapter_count,
            now,
            frozen=pace.frozen_steps(view.plan, away),
        )
        upcoming = [
            pace.own_due(s, reader)
            for s in view.plan.steps
            if s.state not in (StepState.SKIPPED, StepState.CANCELLED)
            and pace.own_due(s, reader) > now
        ]
        return Position(
            view,
            reader,
            read_to,
            pace.standing(read_to, view.plan, now),
            own,
            next((p.ends_at for p in away if p.covers(now)), None),
            min(upcoming, default=None),
        )

    def status(self, caller: Caller, channel_id: str) -> GroupStatus:
        """`/book status`: the group's spread as counts; by name only those not behind;
        shared reflections and what members said of their progress (never a private
        reflection) decide it."""
        now = self.clock.now()
        with self.uow() as uow:
            view = latest_view(uow, caller.team_id, channel_id, now)
            plan_id = _id(view.plan.id)
            shared = [
                r for r in uow.reflections.for_plan(plan_id) if r.visibility is Visibility.SHARED
            ]
            readers = {r.user_id: r for r in uow.readers.for_plan(plan_id)}
            members = set(self._members(channel_id)) | {r.author_id for r in shared}
            away = uow.readers.away(view.group.workspace_id, sorted(members))
            mine = (
                self._position(uow, view, caller.user_id, now)
                if caller.user_id in members
                else None
            )
        standings: dict[str, Standing] = {}
        shown: list[Progress] = []
        unsaid = 0
        for member in sorted(members):
            theirs = [r for r in shared if r.author_id == member]
            said = readers.get(member)
            if not theirs and (said is None or not (said.read_through or said.pace_days)):
                unsaid += 1  # nothing known: neither behind nor on schedule
                continue
            read_to = pace.position(said, theirs, view.plan)
            standings[member] = pace.standing(read_to, view.plan, now)
            if standings[member] is not Standing.BEHIND and theirs:
                shown.append(
                    progress(
                        view.plan,
                        member,
                        theirs,
                        view.book.chapter_count,
                        now,
                        frozen=pace.frozen_steps(view.plan, away.get(member, [])),
                    )
                )
        shown.sort(key=lambda p: (-p.chapters_reflected, p.user_id))
        return GroupStatus(
            view,
            pace.spread(standings.values()),
            shown,
            mine,
            unsaid,
            viewer_timezone=usable_zone(self.directory.user_timezone(caller.user_id)),
        )

    # ------------------------------------------------------------------ away, pace, quiet

    def go_away(
        self, team_id: str, user_id: str, *, until: date | None = None, days: int | None = None
    ) -> datetime:
        """No nudges until the start of ``until`` (or ``days`` from today) in the member's
        own time zone; their streaks are frozen meanwhile. Returns when they are back."""
        now = self.clock.now()
        timezone = self._timezone(user_id)
        today = now.astimezone(ZoneInfo(timezone)).date()
        until = until or today + timedelta(days=days or 1)
        pace.check_away_until(until, today)
        back = datetime.combine(until, time(0, 0), tzinfo=ZoneInfo(timezone))
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            uow.members.ensure(workspace_id, user_id, now)
            uow.readers.go_away(workspace_id, user_id, now, back)
            uow.commit()
        return back

    def come_back(self, team_id: str, user_id: str) -> bool:
        now = self.clock.now()
        with self.uow() as uow:
            back = uow.readers.come_back(uow.workspaces.ensure(team_id, now), user_id, now)
            uow.commit()
            return back

    def set_pace(self, team_id: str, user_id: str, channel_id: str, days: int) -> Position:
        """Read ``days`` behind the group (0: back to its pace). The group's prompts do
        not move; the member's nudges, App Home and calendar follow."""
        now = self.clock.now()
        with self.uow() as uow:
            view = running_view(uow, team_id, channel_id, now)
            pace.check_pace(days, view.plan)
            reader = self._reader(uow, _id(view.plan.id), user_id)
            if days == 0 and reader.pace_days == 0:
                raise Conflict("You are already at the group's pace.")
            reader.pace_days = days
            uow.readers.save(reader, now)
            uow.commit()
        return self.position(team_id, user_id, channel_id)

    def set_quiet_hours(self, team_id: str, user_id: str, on: bool) -> Member:
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            member = uow.members.ensure(workspace_id, user_id, now)
            member.quiet_hours = on
            uow.members.save(member)
            uow.commit()
            return member

    # ------------------------------------------------------------------ joining late

    def welcome(self, team_id: str, channel_id: str, user_id: str) -> bool:
        """A member joined a channel mid-book: a private welcome, once per plan."""
        now = self.clock.now()
        with self.uow() as uow:
            try:
                view = running_view(uow, team_id, channel_id, now)
            except NotFound:
                return False
            current = pace.group_step(view.plan, now)
            if current is None or user_id == view.plan.host_user_id:
                return False  # nothing posted yet: they join at the start like everyone
            if self.directory.person(user_id).is_bot:
                return False
            if not uow.readers.claim_welcome(_id(view.plan.id), user_id, now):
                return False
            uow.commit()
        following = view.plan.next_step
        note = Welcome(
            channel_id=channel_id,
            book_title=view.book.title,
            book_author=view.book.author,
            group_step=current.number,
            step_count=len(view.plan.steps),
            group_chapters=current.describe_chapters(),
            next_due=following.due_at if following else None,
            timezone=self._timezone(user_id),
        )
        try:
            self.notifier.send_note(user_id, note)
        except DeliveryFailed as exc:
            logger.warning("welcome to %s not sent: %s", user_id, exc.reason)
            return False
        return True

    # ------------------------------------------------------------------ spoiler-safe

    def threads(self, team_id: str, user_id: str, plan_id: int) -> ThreadLinks:
        """The steps whose threads the member has read up to (with links), and the rest."""
        now = self.clock.now()
        with self.uow() as uow:
            plan = uow.plans.get(plan_id)
            if plan is None:
                raise NotFound("That reading plan no longer exists.")
            group = uow.groups.by_id(plan.group_id)
            book = uow.books.get(plan.book_id)
            assert book is not None
            view = PlanView(plan, book, group)
            position = self._position(uow, view, user_id, now)
        with self.uow() as uow:
            mine = uow.reflections.for_plan(plan_id, author_id=user_id)
        read_to = pace.spoiler_position(position.reader, mine, plan, now)
        open_steps, locked = pace.readable_steps(plan, read_to, position.reader.revealed_through)
        return ThreadLinks(
            view,
            [
                (
                    s.number,
                    s.describe_chapters(),
                    self.directory.permalink(group.channel_id, s.message_ts)
                    if s.message_ts
                    else None,
                )
                for s in open_steps
            ],
            [(s.number, s.describe_chapters()) for s in locked],
        )

    def reveal(self, team_id: str, user_id: str, plan_id: int, step_number: int) -> None:
        """ "Show anyway": the member opens a later step's thread, spoilers and all."""
        now = self.clock.now()
        with self.uow() as uow:
            plan = uow.plans.get(plan_id)
            if plan is None:
                raise NotFound("That reading plan no longer exists.")
            group = uow.groups.by_id(plan.group_id)
            if group.workspace_id != uow.workspaces.ensure(team_id, now):
                raise NotFound("That reading plan no longer exists.")
            reader = self._reader(uow, _id(plan.id), user_id)
            reader.revealed_through = max(reader.revealed_through, step_number)
            uow.readers.save(reader, now)
            uow.commit()

    # ------------------------------------------------------------------ calendars

    def calendar_link(
        self, caller: Caller, channel_id: str, *, whole_group: bool = False, reset: bool = False
    ) -> CalendarLink:
        """A secret link to the member's calendar (or, for the host, the group's): sent
        by DM. Only its hash is kept, so asking again gives a new link (the old one stops
        working); ``reset`` does that on purpose."""
        now = self.clock.now()
        with self.uow() as uow:
            view = latest_view(uow, caller.team_id, channel_id, now)
            if view.plan.state is PlanState.CANCELLED:
                raise NotFound("That plan was cancelled: there is no calendar to give.")
            pair = uow.pairs.active_for_channel(view.group.workspace_id, channel_id)
            if whole_group and not can_manage(view.plan, caller, pair):
                raise InvalidInput("The group's calendar is for the plan's host: `/book calendar`.")
            group_id = view.group.id or 0
            had = uow.readers.revoke_calendars(group_id, caller.user_id, whole_group, now)
            secret = secrets.token_urlsafe(24)
            uow.readers.add_calendar(
                view.group.workspace_id, group_id, caller.user_id, whole_group, _hash(secret), now
            )
            uow.commit()
        link = CalendarLink(
            f"{self.public_url}{CALENDAR_PATH}{secret}.ics", view.book.title, whole_group, had > 0
        )
        self.notifier.send_note(caller.user_id, link)
        return link

    def calendar_feed(self, secret: str) -> bytes | None:
        """The feed for a secret, or None (unknown, revoked, guessed: all the same)."""
        if not secret or len(secret) > 100:
            return None
        now = self.clock.now()
        with self.uow() as uow:
            found = uow.readers.calendar_by_hash(_hash(secret))
            if found is None:
                return None
            group = uow.groups.by_id(found.group_id)
            plan = uow.plans.running_for_group(found.group_id) or uow.plans.latest_for_group(
                found.group_id
            )
            if plan is None:
                return None
            book = uow.books.get(plan.book_id)
            assert book is not None
            reader = None
            if not found.whole_group:  # their own feed, its own event ids from the first fetch
                reader = self._reader(uow, _id(plan.id), found.user_id)
        links = {
            s.number: link
            for s in plan.steps
            if s.message_ts
            and (link := self.directory.permalink(group.channel_id, s.message_ts)) is not None
        }
        name = f"{book.title} (Readalong)" + ("" if found.whole_group else ", your pace")
        return plan_feed(plan, book, reader=reader, links=links, now=now, name=name)

    # ------------------------------------------------------------------ internals

    def _reader(self, uow: Unit, plan_id: int, user_id: str) -> Reader:
        """The member's own state in the plan (a fresh one until they said anything)."""
        return uow.readers.get(plan_id, user_id) or Reader(plan_id, user_id)

    def _members(self, channel_id: str) -> list[str]:
        try:
            return self.notifier.channel_members(channel_id)
        except DeliveryFailed as exc:
            logger.warning("could not list the members of %s: %s", channel_id, exc.reason)
            return []

    def _timezone(self, user_id: str) -> str:
        return usable_zone(self.directory.user_timezone(user_id)) or "UTC"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("entity has not been stored")
    return value
