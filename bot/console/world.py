"""The console's world: SQLite, the loopback Slack emulator and the real bolt app, in one process.

Nothing here bypasses the bolt app. Slash commands, events, button clicks and modal
submissions travel as signed HTTP requests from :class:`SlackAppClient` to the app's
``/slack/events`` endpoint; what the app answers lands in the emulated workspace, which
the console then reads. Time is a :class:`FakeClock` shared by the bot and the emulator;
moving it runs what the scheduler would have run in between.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from bot.bootstrap import Runtime, build_runtime
from bot.config import ConfigError, Settings
from bot.console import persist
from bot.domain import pace, timeline
from bot.domain.errors import InvalidInput
from bot.domain.model import Caller, PairState, PlanState
from bot.domain.pairs import PROPOSAL_LIFETIME
from bot.domain.schedule import local_to_utc, parse_timezone, zone
from bot.emulator import payloads
from bot.emulator.client import AppResponse, SlackAppClient
from bot.emulator.models import Channel, Message, User
from bot.emulator.server import SlackEmulator
from bot.emulator.workspace import SlackError
from bot.services.ports import FakeClock, UnitOfWork
from bot.serving import HttpServer
from bot.storage.db import make_engine, upgrade
from bot.storage.uow import SqlAlchemyUnitOfWork

logger = logging.getLogger(__name__)

#: Virtual time starts here on a fresh database: a Monday morning, an hour before the
#: default prompt time, so ``/book start …`` then ``:advance 1h`` shows the first prompt.
DEFAULT_START_DAY = (2026, 12, 7)
DEFAULT_START_TIME = time(8, 0)
#: The scheduler runs at least this often while the clock moves (besides every moment
#: something falls due), for work this console does not know how to foresee: the retry
#: of a poll's result whose post failed (after the claim's lease).
MAX_TICK_GAP = timedelta(hours=12)
DRAIN_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Member:
    """A seeded workspace member the person at the console can act as."""

    user_id: str
    name: str
    real_name: str
    is_admin: bool = False


MEMBERS = (
    Member("U0ALICE0001", "alice", "Alice Host", is_admin=True),
    Member("U0BOB000001", "bob", "Bob Reader"),
    Member("U0CAROL0001", "carol", "Carol Reader"),
)
CLUB_ID = "C0BOOKCLUB1"
CLUB_NAME = "book-club"

#: manifest.yaml's ``features.app_home.messages_tab_read_only_enabled`` (a test holds the
#: two together). Read-only, people could read the bot's DMs and click their buttons, but
#: Slack would show no composer; it is writable, so members can send the bot a book's EPUB
#: (and type slash commands there).
MESSAGES_TAB_READ_ONLY = False
READ_ONLY_DM = (
    "Sending messages to this app has been turned off: its Messages tab is read-only "
    "(manifest.yaml). Buttons here work; type slash commands in a channel or group DM."
)
#: Slack's old username rule, which keeps a name one mention-able word: @dave.smith.
MEMBER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,20}")
RESERVED_NAMES = frozenset({"channel", "here", "everyone", "slackbot", "dm", "group"})
#: A group DM holds at most 9 people, the app counted.
MAX_GROUP_DM = 9
GROUP_NEEDS_OTHERS = "A group DM needs someone besides you: :group bob [carol …]"
CONVERSATION_HINT = ":where lists yours"


class ConsoleError(Exception):
    """Something the person typed cannot be done; the message says why."""


def default_start(timezone: str) -> datetime:
    """Monday 7 December 2026, 08:00 in ``timezone``: fixed, so demos are reproducible."""
    return datetime(*DEFAULT_START_DAY, DEFAULT_START_TIME.hour, tzinfo=ZoneInfo(timezone))


class ConsoleWorld:
    """One workspace (``#book-club``, a few members, and whoever and whatever the person at
    the console adds: members, channels, private channels, group DMs, DMs), the bot, and a
    virtual clock.

    Use as a context manager; every action waits for the work the app's listeners handed
    over after their acks (``executor.drain()``), so what the bot does is visible as soon
    as a call returns.
    """

    def __init__(
        self,
        settings: Settings,
        db_path: Path,
        *,
        start: datetime | None = None,
        remember_time: bool = True,
    ) -> None:
        self.db_path = db_path.resolve()
        self.timezone = settings.default_timezone
        self.zone = ZoneInfo(self.timezone)
        self.remember = remember_time
        self.saved = persist.load(self.db_path) if remember_time else None
        self.resumed = self.saved is not None
        moment = start or (self.saved.now if self.saved else default_start(self.timezone))
        if self.saved and moment < self.saved.now:
            raise ConsoleError(
                f"--start: this database's console already reached {self.saved.now:%Y-%m-%d %H:%M};"
                " time only moves forward (or use another --db)."
            )
        self.clock = FakeClock(moment)
        self._base_settings = settings
        self._stack = ExitStack()
        self.emulator: SlackEmulator
        self.runtime: Runtime
        self.uow: UnitOfWork  # read-only here: when things fall due
        self.slack: SlackAppClient
        self.settings: Settings

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> ConsoleWorld:
        try:
            self._open()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{self.db_path}"
        engine = make_engine(url)
        try:
            upgrade(engine)  # migrated on first use, a no-op afterwards
        finally:
            engine.dispose()
        clock = self.clock
        emulator = SlackEmulator(clock=lambda: clock.now().timestamp())
        try:  # SLACK_EMULATOR_LATENCY etc.: try the bot against Slack's latency and limits
            emulator.configure(os.environ)
        except ValueError as exc:
            raise ConfigError(f"config error: {exc}") from None
        for member in MEMBERS:
            emulator.add_user(
                member.user_id,
                member.name,
                real_name=member.real_name,
                tz=self.timezone,
                is_admin=member.is_admin,
            )
        emulator.add_channel(
            CLUB_ID, CLUB_NAME, members=[*(m.user_id for m in MEMBERS), emulator.bot_user_id]
        )
        if self.saved is not None:
            persist.restore_people(emulator.workspace, self.saved.members, self.saved.conversations)
            persist.restore(emulator.workspace, self.saved.messages)
        # Event and file ids of this session must differ from every earlier session's:
        # the bot remembers handled event ids and would take a reused one for a repeat.
        emulator.workspace.skip_ids(secrets.randbelow(36**8))
        emulator.start()
        self._stack.callback(emulator.stop)
        self.emulator = emulator
        secret = secrets.token_hex(16)
        self.settings = dataclasses.replace(
            self._base_settings,
            slack_bot_token=emulator.bot_token,
            slack_signing_secret=secret,
            slack_api_url=emulator.api_url,
            slack_app_token=None,
            slack_client_id=None,
            slack_client_secret=None,
            database_url=url,
            scheduler_enabled=False,
            # One post at a time: what is due shows in the same order every run (a
            # transcript can be replayed), and one member at a keyboard is no fan-out.
            posting_workers=1,
        )
        runtime = build_runtime(self.settings, clock=self.clock)
        self._stack.callback(runtime.close)
        self.runtime = runtime
        self.uow = SqlAlchemyUnitOfWork(runtime.session_factory)
        server = HttpServer(runtime.wsgi, "127.0.0.1", 0).start()
        runtime.serving_at(server.url)
        # Waitress notices a closed socket only at its next 1 s poll: don't wait for that.
        self._stack.callback(
            lambda: threading.Thread(
                target=server.stop, name="console-http-stop", daemon=True
            ).start()
        )
        self.slack = SlackAppClient(emulator, f"{server.url}/slack/events", secret)
        self._stack.callback(self.slack.close)

    def close(self) -> None:
        """Save the time and the messages (for the next session on this database), then stop."""
        if self.remember and hasattr(self, "emulator"):
            try:
                persist.save(self.db_path, self.clock.now(), self.emulator.workspace)
            except OSError as exc:
                logger.warning("could not save the console state: %s", exc)
        self._stack.close()

    # ------------------------------------------------------------------ who and where

    @property
    def team_id(self) -> str:
        return self.emulator.team_id

    @property
    def bot_user_id(self) -> str:
        return self.emulator.bot_user_id

    def now(self) -> datetime:
        """The virtual time, in the console's time zone."""
        return self.clock.now().astimezone(self.zone)

    def members(self) -> list[User]:
        """The people one can act as (no bots)."""
        return [u for u in self.emulator.workspace.users() if not u.is_bot and not u.deleted]

    def user(self, user_id: str) -> User:
        return self.emulator.workspace.user(user_id)

    def find_member(self, name: str) -> User | None:
        """The member called ``name`` (``alice``, ``@alice``, ``Alice`` or an id), if any."""
        wanted = name.strip().lstrip("@").lower()
        for user in self.members():
            if wanted in (user.name.lower(), user.id.lower()):
                return user
        return None

    def user_id(self, name: str) -> str:
        """The id of the member called ``name`` (``alice``, ``@alice`` or an id)."""
        found = self.find_member(name)
        if found is not None:
            return found.id
        names = ", ".join(u.name for u in self.members())
        handle = name.strip().lstrip("@").lower()
        can_join = MEMBER_NAME.fullmatch(handle) and handle not in RESERVED_NAMES
        hint = f" (:as {handle} creates them)" if can_join else ""
        raise ConsoleError(f"There is no member called {name!r}{hint}. Members: {names}.")

    def is_bot_name(self, name: str) -> bool:
        bot = self.user(self.bot_user_id)
        return name.strip().lstrip("@").lower() in (bot.name.lower(), bot.id.lower(), "bot")

    def ensure_member(self, name: str, *, timezone: str | None = None) -> tuple[str, bool]:
        """The member called ``name``, created in the workspace if new: (id, created).

        A new member's name is a Slack handle (lower case, one word); their id is made from
        it (``U0…``, the same every time, so transcripts are reproducible), their real name
        from its parts, their time zone ``timezone`` (checked) or the console's.
        """
        found = self.find_member(name)
        if found is not None:
            return found.id, False
        handle = name.strip().lstrip("@").lower()
        if not MEMBER_NAME.fullmatch(handle):
            raise ConsoleError(
                f"{name.strip()!r} can't be a member's name: one word of letters, digits, "
                "'.', '_' or '-' (at most 21), e.g. dave or dave.smith."
            )
        if self.is_bot_name(handle) or handle in RESERVED_NAMES:
            raise ConsoleError(
                f"{handle!r} is taken (Slack keeps it for itself); pick another name."
            )
        workspace = self.emulator.workspace
        user_id = _member_id(handle, lambda candidate: workspace.has_user(candidate))
        real_name = " ".join(part.capitalize() for part in re.split(r"[._-]+", handle) if part)
        zone = self.check_timezone(timezone) if timezone else self.timezone
        workspace.add_user(user_id, handle, real_name=real_name or handle, tz=zone)
        return user_id, True

    def check_timezone(self, text: str) -> str:
        """``text`` as the canonical IANA zone Slack would store for a member, or why not."""
        try:
            return parse_timezone(text)
        except InvalidInput as exc:
            hint = next((s.replacement for s in exc.suggestions), None)
            raise ConsoleError(
                f"{text.strip()!r} is not an IANA time zone such as Asia/Tokyo or "
                "America/New_York" + (f"; did you mean {hint}?" if hint else ".")
            ) from None

    def set_timezone(self, user_id: str, timezone: str) -> None:
        """The member's Slack time zone (``users.info`` ``tz``), checked with :meth:`check_timezone`."""
        self.emulator.workspace.set_user_timezone(user_id, self.check_timezone(timezone))

    def timezone_of(self, user_id: str) -> str:
        """``Asia/Tokyo (Japan Standard Time, UTC+09:00)``, as Slack describes it now."""
        info = self.emulator.workspace.user_json(self.user(user_id))
        offset = int(info["tz_offset"])
        sign = "+" if offset >= 0 else "-"
        hours, minutes = divmod(abs(offset) // 60, 60)
        return f"{info['tz']} ({info['tz_label']}, UTC{sign}{hours:02d}:{minutes:02d})"

    def channel(self, channel_id: str) -> Channel:
        return self.emulator.workspace.channel(channel_id)

    def channels(self) -> list[Channel]:
        return self.emulator.workspace.channels()

    def dm_channel(self, user_id: str) -> str | None:
        """The bot's DM with ``user_id``, if the bot ever opened one."""
        workspace = self.emulator.workspace
        return workspace.dm_channel(user_id) if workspace.has_dm(user_id) else None

    # ------------------------------------------------------------------ conversations

    def is_member(self, user_id: str, channel_id: str) -> bool:
        return user_id in self.channel(channel_id).members

    def is_bot_dm(self, channel_id: str) -> bool:
        """A member's DM with the bot: the app's Messages tab."""
        return self.channel(channel_id).im_user is not None

    def conversations_of(self, user_id: str) -> list[Channel]:
        """The conversations ``user_id`` is in, oldest first, their DM with the bot last."""
        mine = [c for c in self.channels() if user_id in c.members and c.im_user is None]
        return [*mine, self.channel(self.emulator.workspace.dm_channel(user_id))]

    def label(self, channel_id: str, viewer: str) -> str:
        """How ``viewer`` reads the conversation: ``#book-club``, ``🔒#mentoring``,
        ``group(alice,bob)``, ``dm`` (their DM with the bot) or ``dm(bob)``."""
        channel = self.channel(channel_id)
        if channel.im_user is not None:
            return "dm"
        if channel.is_im:
            others = [m for m in channel.members if m != viewer] or channel.members
            return f"dm({self.user(others[0]).name})"
        if channel.is_mpim:
            people = [self.user(m).name for m in channel.members if m != self.bot_user_id]
            return f"group({','.join(people)})"
        return ("🔒#" if channel.is_private else "#") + channel.name

    def open_bot_dm(self, user_id: str) -> str:
        """The member opens the app's Messages tab (``app_home_opened``, tab ``messages``)."""
        self._checked(self.slack.app_home_opened(user_id, tab="messages"), "the Messages tab")
        return self.emulator.workspace.dm_channel(user_id)

    def open_person_dm(self, user_id: str, other_id: str) -> str:
        """The DM between two people; the bot is not in it and cannot be."""
        return self.emulator.workspace.person_dm(user_id, other_id)

    def open_group(self, user_id: str, others: list[str]) -> tuple[str, bool]:
        """A group DM of ``user_id``, ``others`` and the bot: (id, created)."""
        people = list(dict.fromkeys([user_id, *others]))
        if len(people) < 2:
            raise ConsoleError(GROUP_NEEDS_OTHERS)
        if len(people) + 1 > MAX_GROUP_DM:
            raise ConsoleError(
                f"A group DM holds at most {MAX_GROUP_DM} people, readalong included: "
                f"name up to {MAX_GROUP_DM - 2} others (or use :private <name> …)."
            )
        workspace = self.emulator.workspace
        wanted = {*people, self.bot_user_id}
        existed = any(c.is_mpim and set(c.members) == wanted for c in self.channels())
        return workspace.mpim_channel(people, creator=user_id), not existed

    def find_channel(self, name: str) -> Channel | None:
        """The channel (public or private) called ``name``."""
        channel_id = self.emulator.workspace.channel_id_by_name(name)
        return self.channel(channel_id) if channel_id else None

    def open_channel(self, user_id: str, name: str) -> tuple[str, str]:
        """Switch to, join or create the public channel ``name`` (the bot invited to a new
        one): (id, ``"here"`` | ``"joined"`` | ``"created"``)."""
        channel = self.find_channel(name)
        if channel is not None and channel.is_private:
            if user_id in channel.members:
                return channel.id, "here"
            raise ConsoleError(_taken(name))
        if channel is not None:
            if user_id in channel.members:
                return channel.id, "here"
            self._join(user_id, channel.id, inviter=None)
            return channel.id, "joined"
        channel_id = self._create(user_id, name, is_private=False)
        return channel_id, "created"

    def open_private(
        self, user_id: str, name: str, others: list[str]
    ) -> tuple[str, bool, list[str]]:
        """Switch to (inviting ``others`` not in it yet) or create the private channel
        ``name`` with ``others`` and the bot: (id, created, who was invited)."""
        channel = self.find_channel(name)
        if channel is not None and not channel.is_private:
            raise ConsoleError(f"#{name} is a public channel: :channel {name} goes there.")
        if channel is not None and user_id not in channel.members:
            raise ConsoleError(_taken(name))
        created = channel is None
        channel_id = (
            channel.id if channel is not None else self._create(user_id, name, is_private=True)
        )
        invited = []
        for other in dict.fromkeys(others):
            if other != user_id and not self.is_member(other, channel_id):
                self._join(other, channel_id, inviter=user_id)
                invited.append(other)
        return channel_id, created, invited

    def _create(self, user_id: str, name: str, *, is_private: bool) -> str:
        """A person creates the channel, then invites the bot (``/invite @readalong``)."""
        try:
            channel_id = self.emulator.workspace.create_conversation(
                name, creator=user_id, is_private=is_private
            )
        except SlackError as exc:
            raise ConsoleError(_channel_name_refused(name, exc.error)) from None
        self._join(self.bot_user_id, channel_id, inviter=user_id)
        return channel_id

    def _join(self, user_id: str, channel_id: str, *, inviter: str | None) -> None:
        try:
            response = self.slack.member_joins(user_id, channel_id, inviter=inviter)
        except ValueError as exc:
            raise ConsoleError(str(exc)) from None
        if response is not None:
            self._checked(response, "the join")

    def names(self) -> dict[str, str]:
        """Every user and channel id mapped to its name, for rendering mentions."""
        out = {u.id: u.name for u in self.emulator.workspace.users()}
        out.update({c.id: c.name for c in self.channels() if not c.is_im and not c.is_mpim})
        out.update({c.id: self.label(c.id, "") for c in self.channels() if c.is_mpim})
        return out

    def file_text(self, file_id: str) -> str | None:
        """The content of a file the bot uploaded."""
        for record in self.emulator.uploaded_files():
            if record.id == file_id:
                return record.text
        return None

    # ------------------------------------------------------------------ acting as a member

    def drain(self) -> None:
        """Wait for the work the app's listeners started after their acks to finish."""
        if not self.runtime.executor.drain(timeout=DRAIN_TIMEOUT):
            raise ConsoleError("The bot is still busy after 30 s; its answer may come later.")

    def _checked(self, response: AppResponse, what: str) -> AppResponse:
        self.drain()
        if response.status != 200:
            raise ConsoleError(f"The app answered {what} with HTTP {response.status}.")
        return response

    def slash(self, user_id: str, channel_id: str, line: str) -> None:
        """Type a slash command (``/book list``) in a conversation."""
        if MESSAGES_TAB_READ_ONLY and self.is_bot_dm(channel_id):
            raise ConsoleError(READ_ONLY_DM)
        command, _, text = line.strip().partition(" ")
        command = command.lower()  # Slack's command names are lower case: /Book is /book
        response = self.slack.slash_command(
            command, text.strip(), user_id=user_id, channel_id=channel_id
        )
        if response.status == 404:
            self.drain()
            raise ConsoleError(
                f"Readalong has no {command} command; try /book help or /reflect help."
            )
        self._checked(response, command)
        answer = response.json() if response.body.strip().startswith(b"{") else None
        if isinstance(answer, dict) and (answer.get("text") or answer.get("blocks")):
            # An app may answer in the ack itself; Slack shows that as an ephemeral.
            self.emulator.workspace.post_ephemeral(
                channel_id,
                user_id,
                text=str(answer.get("text") or ""),
                blocks=answer.get("blocks"),
                response_type="ephemeral",
            )

    def post(self, user_id: str, channel_id: str, text: str, thread_ts: str | None) -> str:
        """Post a message (a reply when ``thread_ts``); the bot gets the message event when it
        is in the conversation (Slack sends it nothing from a DM between two people)."""
        if MESSAGES_TAB_READ_ONLY and self.is_bot_dm(channel_id):
            raise ConsoleError(READ_ONLY_DM)
        try:
            wire = payloads.typed_message(self.emulator.workspace, text)
            if not self.slack.app_hears(channel_id):
                return self.slack.user_posts_unheard(user_id, channel_id, wire, thread_ts=thread_ts)
            ts, response = self.slack.user_posts(user_id, channel_id, wire, thread_ts=thread_ts)
        except ValueError as exc:
            raise ConsoleError(str(exc)) from None
        self._checked(response, "the message")
        return ts

    def react(self, user_id: str, channel_id: str, ts: str, emoji: str) -> None:
        """Add a reaction; the bot gets ``reaction_added`` where it is a member."""
        try:
            if not self.slack.app_hears(channel_id):
                self.slack.user_reacts_unheard(user_id, channel_id, ts, emoji)
                return
            response = self.slack.user_reacts(user_id, channel_id, ts, emoji)
        except ValueError as exc:
            raise ConsoleError(str(exc)) from None
        self._checked(response, "the reaction")

    def click(self, user_id: str, message: Message, action_id: str, block_id: str | None) -> None:
        """Click a button on a message: a ``block_actions`` request."""
        try:
            response = self.slack.block_action(
                user_id=user_id,
                channel_id=message.channel,
                message_ts=message.ts,
                action_id=action_id,
                block_id=block_id,
            )
        except ValueError as exc:
            raise ConsoleError(str(exc)) from None
        self._checked(response, "the click")

    def click_home(self, user_id: str, action_id: str, block_id: str | None, value: str) -> None:
        """Click a button in the member's App Home (``container.type: view``)."""
        view = self.emulator.home_view(user_id)
        if view is None:
            raise ConsoleError("Open your App Home first: :home")
        response = self.slack.view_block_action(
            user_id=user_id,
            view_id=str(view["id"]),
            action_id=action_id,
            value=value,
            block_id=block_id,
        )
        self._checked(response, "the click")

    def open_modal(self, user_id: str) -> dict[str, Any] | None:
        """The modal on top of the member's stack, if one is open."""
        views = self.emulator.open_views(user_id)
        return views[-1] if views else None

    def submit(self, user_id: str, view_id: str, values: dict[str, dict[str, Any]]) -> Any:
        """Submit a modal (``view_submission``); returns the app's JSON answer, if any."""
        try:
            response = self.slack.view_submission(view_id, values, user_id=user_id)
        except ValueError as exc:
            raise ConsoleError(str(exc)) from None
        self._checked(response, "the form")
        try:
            return response.json()
        except ValueError:
            return None

    def cancel(self, user_id: str, view: dict[str, Any]) -> None:
        """Close a modal without submitting it; Slack tells the app only if it asked to know."""
        if view.get("notify_on_close"):
            self._checked(self.slack.view_closed(str(view["id"]), user_id=user_id), "closing")
        else:
            self.emulator.workspace.close_view(str(view["id"]), clear=True)

    def open_home(self, user_id: str) -> dict[str, Any] | None:
        """Open the App Home tab (``app_home_opened``); returns the view the bot published."""
        self._checked(self.slack.app_home_opened(user_id), "App Home")
        return self.emulator.home_view(user_id)

    # ------------------------------------------------------------------ time

    def advance_to(self, target: datetime) -> int:
        """Move the clock to ``target``, running the scheduler's work at every due moment.

        The real scheduler ticks every ``scheduler_interval_seconds``; the console ticks
        only when it would find something due (and at ``target``), so one long jump shows
        the same messages at the same times as many short ones. Returns how many
        scheduler ticks ran. Time only moves forward.
        """
        now = self.clock.now()
        if target.tzinfo is None:
            target = target.replace(tzinfo=self.zone)
        if target < now:
            raise ConsoleError("Time only moves forward here.")
        # The scheduler's first tick after now does what became due meanwhile (a digest
        # to bring up to date after an edit, …), however far the clock then moves.
        first = now + timedelta(seconds=self.settings.scheduler_interval_seconds)
        ticks = 0
        while (moment := self._next_moment(self.clock.now(), target, first)) is not None:
            self.clock.set(moment)
            self.tick()
            ticks += 1
        self.clock.set(target)
        self.tick()
        return ticks + 1

    def tick(self) -> None:
        """What one scheduler run does now: prompts, reminders, digests."""
        self.runtime.services.run_due()
        self.drain()

    def _next_moment(self, after: datetime, end: datetime, *also: datetime) -> datetime | None:
        """The next moment in (after, end) when something may fall due, or a regular tick."""
        moments = [after + MAX_TICK_GAP, *also, *self.due_moments(after, end)]
        upcoming = [m for m in moments if after < m < end]
        return min(upcoming, default=None)

    def due_moments(self, after: datetime, end: datetime) -> Iterator[datetime]:
        """Every moment (some may be past) when what the scheduler runs each tick
        (``Services.run_due``) may find something due, as the database stands: prompts,
        their retries, reminders, each member's planned nudge, the end of a plan, step
        and weekly digests, polls closing, and pairs' messages (expired invitations,
        look-backs, quiet pairs) at the first moment their recipients are awake.

        Work that is planned at one of these moments (a member's nudge, at the
        reminder time) shows here once it is planned, so the clock stops at the moment
        it was planned for as well."""
        services = self.runtime.services
        lead = timedelta(hours=self.settings.reminder_lead_hours)
        weekly = services.digests.policy
        for view in services.plans.running_in_workspace(self.team_id):
            yield from timeline.moments_of_interest(view.plan, lead)
            if weekly.weekly:
                yield _next_weekly_slot(after, view.plan.timezone, weekly.weekday, weekly.at)
        yield from services.polls.closing_times(self.team_id)  # polls close
        with self.uow() as uow:  # nudges, at each member's own time (limited: earliest first)
            yield from (n.due_at for n in uow.readers.due_nudges(end) if n.due_at > after)
        for due, people in self._pair_messages(after):
            yield from self._waking_moments(due, people)

    def _pair_messages(self, after: datetime) -> list[tuple[datetime, Sequence[str]]]:
        """(due, recipients) of each message a pair's timers will send, as
        ``PairService.run_due`` decides it: an invitation nobody answered, the look-back
        once the pair's book is finished (with goals agreed), a quiet pair to the admins."""
        services = self.runtime.services
        messages: list[tuple[datetime, Sequence[str]]] = []
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(self.team_id, self.clock.now())
            for pair in uow.pairs.in_workspace(workspace_id, [PairState.PROPOSED]):
                messages.append((pair.created_at + PROPOSAL_LIFETIME, [pair.proposed_by]))
            active = uow.pairs.in_workspace(workspace_id, [PairState.ACTIVE])
            for pair in active:
                if pair.look_back_asked_at is not None or not pair.goals or not pair.channel_id:
                    continue
                group = uow.groups.get(workspace_id, pair.channel_id)
                if group is None or group.id is None:
                    continue
                plan = uow.plans.running_for_group(group.id) or uow.plans.latest_for_group(group.id)
                if plan is not None and plan.state is PlanState.FINISHED:
                    messages.append((plan.finished_at or after, pair.people))
        policy = services.pairs.policy
        admins = sorted(policy.admins)
        if admins and active:
            for row in services.pairs.cohort(Caller(self.team_id, admins[0])):
                flagged = row.pair.quiet_flagged_at
                if flagged is None or flagged < row.last_activity:
                    quiet_from = row.last_activity + timedelta(days=policy.quiet_days)
                    messages.append((quiet_from, admins))
        return messages

    def _waking_moments(self, due: datetime, people: Iterable[str]) -> Iterator[datetime]:
        """When a message due at ``due`` may first go to ``people`` (``pace.time_to_tell``):
        at ``due``, when one of them wakes (08:00 in their zone) within the day it may
        wait, or once it has waited that day."""
        latest = due + pace.MAX_WAIT_FOR_WAKING
        yield due
        yield latest
        workspace = self.emulator.workspace
        for person in people:
            timezone = workspace.user(person).tz if workspace.has_user(person) else None
            if not timezone:
                continue
            try:
                tz = zone(timezone)
            except InvalidInput:
                continue
            day = due.astimezone(tz).date()
            while day <= latest.astimezone(tz).date():
                yield local_to_utc(day, pace.QUIET_UNTIL, tz)
                day += timedelta(days=1)


def _next_weekly_slot(after: datetime, timezone: str, weekday: int, at: time) -> datetime:
    """The first weekly digest slot (``weekday`` at ``at`` in ``timezone``) after ``after``."""
    latest = timeline.latest_week(after, timezone, weekday, at)
    return local_to_utc(latest.slot_day + timedelta(days=7), at, zone(timezone))


def _member_id(handle: str, taken: Callable[[str], bool]) -> str:
    """``U0`` and nine base-36 characters from the name, like the seeded ``U0ALICE0001``."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for attempt in range(1000):
        seed = handle if attempt == 0 else f"{handle}#{attempt}"
        number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
        out = ""
        for _ in range(9):
            number, rest = divmod(number, 36)
            out += digits[rest]
        candidate = "U0" + out
        if not taken(candidate):
            return candidate
    raise ConsoleError(f"Could not find a free user id for {handle!r}.")


def _taken(name: str) -> str:
    return (
        f"#{name} is taken by a channel you are not in (private channels are only seen by "
        "their members); pick another name."
    )


_NAME_REFUSALS = {
    "invalid_name_required": "Say which channel: a name such as mentoring.",
    "invalid_name_maxlength": "A channel's name has at most 80 characters.",
    "invalid_name_punctuation": "A channel's name needs a letter or a digit.",
    "name_taken": "That name is taken (by a channel or a member); pick another.",
}


def _channel_name_refused(name: str, error: str) -> str:
    return _NAME_REFUSALS.get(
        error,
        f"{name!r} can't be a channel's name: lower-case letters, digits, '-' and '_' "
        "only, no spaces or dots (Slack says {error}).".replace("{error}", error),
    )
