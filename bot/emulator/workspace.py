"""The emulated workspace's state: users, channels, messages, views, triggers, URLs.

Everything here is guarded by one re-entrant lock (``Workspace.lock``); the HTTP layer
and the app-facing client both go through these methods. Operations that Slack would
refuse raise :class:`SlackError` carrying Slack's error code.
"""

from __future__ import annotations

import copy
import itertools
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.emulator.models import Channel, Message, Team, UploadedFile, User

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60.0
MAX_MODAL_STACK = 3


class SlackError(Exception):
    """A refusal in Slack's words: ``{"ok": false, "error": error, ...}``."""

    def __init__(
        self,
        error: str,
        *,
        messages: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Slack would answer with."""
        body: dict[str, Any] = {"ok": False, "error": self.error}
        body.update(self.extra)
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


@dataclass
class Trigger:
    """A ``trigger_id`` handed to the app with a command or interaction."""

    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    """A ``response_url`` handed to the app; up to 5 posts within 30 minutes."""

    kind: str  # "commands" or "actions"
    channel_id: str
    user_id: str
    issued_at: float
    message_ts: str | None = None
    source_ephemeral: bool = False
    uses: int = 0
    last_ephemeral_ts: str | None = None


@dataclass
class ViewRecord:
    """A view the app opened, pushed or published, as Slack returns it (``view``)."""

    user_id: str
    view: dict[str, Any]
    is_open: bool = True

    @property
    def kind(self) -> str:
        return str(self.view.get("type"))


@dataclass
class _State:
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    history: dict[str, list[Message]] = field(default_factory=dict)
    ephemerals: list[Message] = field(default_factory=list)
    views: dict[str, ViewRecord] = field(default_factory=dict)
    modal_stacks: dict[str, list[str]] = field(default_factory=dict)
    home_views: dict[str, str] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    response_urls: dict[str, ResponseUrl] = field(default_factory=dict)
    response_url_posts: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    upload_tokens: dict[str, str] = field(default_factory=dict)  # token -> file id


_TZ_LABELS = {
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "UTC": "Coordinated Universal Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "IST": "India Standard Time",
    "JST": "Japan Standard Time",
    "KST": "Korean Standard Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
    "NZST": "New Zealand Standard Time",
    "NZDT": "New Zealand Daylight Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "WET": "Western European Time",
    "WEST": "Western European Summer Time",
    "HST": "Hawaii-Aleutian Standard Time",
    "AKST": "Alaska Standard Time",
    "AKDT": "Alaska Daylight Time",
    "SAST": "South Africa Standard Time",
}

#: Slack's channel names: lower-case letters, digits, hyphens and underscores, at most 80.
CHANNEL_NAME_MAX = 80
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")


class Workspace:
    """In-memory Slack workspace. All public methods are thread-safe.

    It can hold several workspaces (teams) of one app: users and conversations share
    one store (Slack's ids are globally unique) and each conversation names its team.
    A Web API call runs :meth:`acting_as` its token's team, which decides what it sees.
    """

    def __init__(
        self,
        *,
        team_id: str,
        team_domain: str,
        team_name: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        clock: Callable[[], float],
    ) -> None:
        self.lock = threading.RLock()
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.clock = clock
        self.base_url = "http://127.0.0.1"
        self.escaped_commands: frozenset[str] = frozenset()
        self._s = _State()
        self._last_micros = 0
        self._ids = itertools.count(1)
        self.teams: dict[str, Team] = {team_id: Team(team_id, team_name, team_domain)}
        self._acting = threading.local()

    # ------------------------------------------------------------------ teams

    def add_team(self, team_id: str, name: str, domain: str) -> Team:
        """Register another workspace of the app (ValueError if the id is taken)."""
        with self.lock:
            if team_id in self.teams:
                raise ValueError(f"workspace {team_id} already exists")
            team = self.teams[team_id] = Team(team_id, name, domain)
            return team

    def team(self, team_id: str) -> Team:
        with self.lock:
            return self.teams[team_id]

    @property
    def acting_team(self) -> str:
        """The team of the call being handled on this thread (else the primary one)."""
        acting: str | None = getattr(self._acting, "team_id", None)
        return acting or self.team_id

    @contextmanager
    def acting_as(self, team_id: str) -> Iterator[None]:
        """Handle a call for ``team_id``: what it creates is that team's, and it sees
        only that team's conversations (per thread, so concurrent calls do not mix)."""
        previous = getattr(self._acting, "team_id", None)
        self._acting.team_id = team_id
        try:
            yield
        finally:
            self._acting.team_id = previous

    def team_of(self, channel: Channel) -> str:
        """The team a conversation is in."""
        return channel.team_id or self.team_id

    # ------------------------------------------------------------------ ids and time

    def next_ts(self) -> str:
        """A fresh message ts, ``"%d.%06d"`` from the clock, strictly increasing."""
        with self.lock:
            micros = max(int(self.clock() * 1_000_000), self._last_micros + 1)
            self._last_micros = micros
            return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def issue_after(self, micros: int) -> None:
        """The next ts issued will be later than ``micros`` (a restored history's last)."""
        with self.lock:
            self._last_micros = max(self._last_micros, micros)

    def skip_ids(self, count: int) -> None:
        """Start issuing ids further on: a new session on an old database must not reuse
        the event ids an earlier session's events were recorded under."""
        with self.lock:
            self._ids = itertools.count(next(self._ids) + count)

    def new_id(self, prefix: str) -> str:
        """A Slack-looking id: prefix + 10 upper-case alphanumerics."""
        with self.lock:
            n = next(self._ids)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        out = ""
        while n:
            n, r = divmod(n, 36)
            out = digits[r] + out
        return prefix + "0" + out.rjust(9, "0")

    # ------------------------------------------------------------------ seeding

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "Europe/Berlin",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
    ) -> None:
        with self.lock:
            self._s.users[user_id] = User(
                id=user_id,
                name=name,
                real_name=real_name if real_name is not None else name,
                tz=tz,
                is_admin=is_admin,
                is_owner=is_owner,
                is_bot=is_bot,
            )

    def set_user_timezone(self, user_id: str, tz: str) -> None:
        """The member changed their time zone (Slack's profile setting; ``users.info`` ``tz``)."""
        with self.lock:
            self.user(user_id).tz = tz

    def add_conversation(self, channel: Channel) -> None:
        """Put a conversation back as it was (ids, kind, members), e.g. a saved one; an
        existing one with that id takes its members. Every member must be a user."""
        with self.lock:
            for member in channel.members:
                self.user(member)
            existing = self._s.channels.get(channel.id)
            if existing is not None:
                existing.members = list(channel.members)
                return
            self._s.channels[channel.id] = copy.deepcopy(channel)
            self._s.history.setdefault(channel.id, [])

    def _unused_id(self, prefix: str) -> str:
        with self.lock:
            while True:
                candidate = self.new_id(prefix)
                if candidate not in self._s.channels and candidate not in self._s.users:
                    return candidate

    def create_conversation(self, name: str, *, creator: str, is_private: bool = False) -> str:
        """A person creates a channel (as ``conversations.create`` does): its creator is its
        only member. Refused in Slack's words: ``invalid_name_required``,
        ``invalid_name_maxlength``, ``invalid_name_punctuation``, ``invalid_name_specials``
        (upper case included), ``name_taken``."""
        with self.lock:
            self.user(creator)
            if not name:
                raise SlackError("invalid_name_required")
            if len(name) > CHANNEL_NAME_MAX:
                raise SlackError("invalid_name_maxlength")
            if not _CHANNEL_NAME.fullmatch(name):
                raise SlackError("invalid_name_specials")
            if not name.strip("-_"):
                raise SlackError("invalid_name_punctuation")
            team_id = self.acting_team
            taken = any(
                c.name == name
                for c in self._s.channels.values()
                if not c.is_im and self.team_of(c) == team_id
            ) or any(u.name == name for u in self._s.users.values())
            if taken:
                raise SlackError("name_taken")
            # New channels get C ids, private ones too (G ids are from before 2021).
            channel_id = self._unused_id("C")
            self.add_channel(channel_id, name, is_private=is_private, members=[creator])
            return channel_id

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        members: Iterable[str] = (),
        team_id: str | None = None,
    ) -> None:
        """``team_id``: the team it is in (default: the acting one, outside a call the
        primary); it must be registered."""
        with self.lock:
            team = team_id or self.acting_team
            if team not in self.teams:
                raise ValueError(f"unknown workspace {team}")
            channel = Channel(
                id=channel_id,
                name=name,
                created=int(self.clock()),
                is_private=is_private,
                members=[],
                team_id=team,
            )
            self._s.channels[channel_id] = channel
            self._s.history.setdefault(channel_id, [])
            for member in members:
                self.join(channel_id, member)

    def join(self, channel_id: str, user_id: str) -> None:
        with self.lock:
            channel = self.channel(channel_id)
            self.user(user_id)
            if user_id not in channel.members:
                channel.members.append(user_id)
            if not channel.creator:
                channel.creator = user_id

    # ------------------------------------------------------------------ lookups

    def user(self, user_id: str) -> User:
        """The user, or ``SlackError("user_not_found")``."""
        with self.lock:
            user = self._s.users.get(user_id)
            if user is None:
                raise SlackError("user_not_found")
            return user

    def has_user(self, user_id: str) -> bool:
        with self.lock:
            return user_id in self._s.users

    def has_channel(self, channel_id: str) -> bool:
        with self.lock:
            return channel_id in self._s.channels

    def user_id_by_name(self, name: str) -> str | None:
        """The id of the user whose ``name`` (or real name) is ``name`` (``@`` optional)."""
        wanted = name.lstrip("@").lower()
        with self.lock:
            for user in self._s.users.values():
                if user.name.lower() == wanted:
                    return user.id
            for user in self._s.users.values():
                if user.real_name.lower() == wanted:
                    return user.id
            return None

    def channel_id_by_name(self, name: str) -> str | None:
        """The id of the channel named ``name`` (``#`` optional)."""
        wanted = name.lstrip("#").lower()
        with self.lock:
            for channel in self._s.channels.values():
                if channel.name.lower() == wanted and not channel.is_im:
                    return channel.id
            return None

    def users(self) -> list[User]:
        with self.lock:
            return [copy.copy(u) for u in self._s.users.values()]

    def channels(self) -> list[Channel]:
        with self.lock:
            return [copy.deepcopy(c) for c in self._s.channels.values()]

    def channel(self, channel_id: str) -> Channel:
        """The conversation, or ``SlackError("channel_not_found")``."""
        with self.lock:
            channel = self._s.channels.get(channel_id)
            if channel is None:
                raise SlackError("channel_not_found")
            return channel

    def resolve_channel(self, value: str) -> Channel:
        """A channel for a ``channel`` argument: a C/G/D id, a user id (→ DM) or a name."""
        with self.lock:
            if value in self._s.channels:
                return self._s.channels[value]
            if value in self._s.users:
                return self.channel(self.dm_channel(value))
            if value.startswith("#"):
                wanted, team_id = value.lstrip("#").lower(), self.acting_team
                for channel in self._s.channels.values():
                    if (
                        channel.name.lower() == wanted
                        and not channel.is_im
                        and self.team_of(channel) == team_id
                    ):
                        return channel
            raise SlackError("channel_not_found")

    def find_channel_id(self, value: str) -> str | None:
        """The conversation a ``channel`` argument names, if it exists (creating none):
        a conversation id, or a user id with a DM already open."""
        with self.lock:
            if value in self._s.channels:
                return value
            if value in self._s.users:
                for channel in self._s.channels.values():
                    if channel.is_im and channel.im_user == value:
                        return channel.id
            return None

    def bot_can_see(self, channel: Channel) -> bool:
        """Public channels are open to the bot (chat:write.public); others need membership."""
        return not (channel.is_private or channel.is_im or channel.is_mpim) or (
            self.bot_user_id in channel.members
        )

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel (``D…``) with ``user_id``, created on first use."""
        with self.lock:
            self.user(user_id)
            for channel in self._s.channels.values():
                if channel.is_im and channel.im_user == user_id:
                    return channel.id
            channel_id = self._unused_id("D")
            self._s.channels[channel_id] = Channel(
                id=channel_id,
                name=user_id,
                created=int(self.clock()),
                is_private=True,
                is_im=True,
                members=[user_id, self.bot_user_id],
                im_user=user_id,
                creator=user_id,
                team_id=self.acting_team,
            )
            self._s.history[channel_id] = []
            return channel_id

    def has_dm(self, user_id: str) -> bool:
        with self.lock:
            return any(c.is_im and c.im_user == user_id for c in self._s.channels.values())

    def person_dm(self, user_id: str, other_id: str) -> str:
        """The DM between two people, created on first use. The app is not in it and cannot
        be added: it gets no events from it and cannot post there."""
        with self.lock:
            self.user(user_id)
            self.user(other_id)
            if self.bot_user_id in (user_id, other_id) or user_id == other_id:
                raise SlackError("invalid_arguments")
            wanted = {user_id, other_id}
            for channel in self._s.channels.values():
                if channel.is_im and channel.im_user is None and set(channel.members) == wanted:
                    return channel.id
            channel_id = self._unused_id("D")
            self._s.channels[channel_id] = Channel(
                id=channel_id,
                name=other_id,
                created=int(self.clock()),
                is_private=True,
                is_im=True,
                members=[user_id, other_id],
                creator=user_id,
                team_id=self.acting_team,
            )
            self._s.history[channel_id] = []
            return channel_id

    def mpim_channel(self, user_ids: list[str], *, creator: str | None = None) -> str:
        """A group DM between the bot and ``user_ids``, created on first use (by the bot's
        ``conversations.open``, or by ``creator``, a person who adds the app to it)."""
        with self.lock:
            for user_id in user_ids:
                self.user(user_id)
            wanted = {*user_ids, self.bot_user_id}
            for channel in self._s.channels.values():
                if channel.is_mpim and set(channel.members) == wanted:
                    return channel.id
            channel_id = self._unused_id("G")
            names = "--".join(self._s.users[u].name for u in user_ids)
            self._s.channels[channel_id] = Channel(
                id=channel_id,
                name=f"mpdm-{names}-1",
                created=int(self.clock()),
                is_private=True,
                is_mpim=True,
                members=[*user_ids, self.bot_user_id],
                creator=creator or self.bot_user_id,
                team_id=self.acting_team,
            )
            self._s.history[channel_id] = []
            return channel_id

    # ------------------------------------------------------------------ messages

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        """The live (not deleted) message at ``ts`` in the channel, if any (not a copy)."""
        with self.lock:
            for message in self._s.history.get(channel_id, []):
                if message.ts == ts and not message.deleted:
                    return message
            return None

    def post_message(
        self,
        channel_id: str,
        *,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        from_bot: bool = False,
        reply_broadcast: bool = False,
        files: list[dict[str, Any]] | None = None,
        response_type: str | None = None,
        subtype: str | None = None,
        client_msg_id: str | None = None,
    ) -> Message:
        """Append a message (threaded when ``thread_ts`` names an existing message)."""
        with self.lock:
            channel = self.channel(channel_id)
            if thread_ts:
                parent = self.find_message(channel.id, thread_ts)
                if parent is None:
                    raise SlackError("thread_not_found")
                if parent.is_reply and parent.thread_ts is not None:
                    parent = self.find_message(channel.id, parent.thread_ts) or parent
                parent.thread_ts = parent.ts
                thread_ts = parent.ts
            message = Message(
                channel=channel.id,
                ts=self.next_ts(),
                user=user,
                text=text,
                thread_ts=thread_ts or None,
                bot_id=self.bot_id if from_bot else None,
                blocks=copy.deepcopy(blocks) if blocks else [],
                metadata=copy.deepcopy(metadata) if metadata else None,
                subtype=subtype,
                reply_broadcast=reply_broadcast,
                files=copy.deepcopy(files) if files else [],
                response_type=response_type,
                client_msg_id=client_msg_id,
            )
            self._s.history.setdefault(channel.id, []).append(message)
            return message

    def thread_parent_user(self, channel_id: str, thread_ts: str) -> str | None:
        with self.lock:
            parent = self.find_message(channel_id, thread_ts)
            return parent.user if parent else None

    def edit_message(
        self,
        channel_id: str,
        ts: str,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[Message, Message]:
        """Change a message (``None`` keeps a field); returns (previous copy, updated message)."""
        with self.lock:
            message = self.find_message(channel_id, ts)
            if message is None:
                raise SlackError("message_not_found")
            previous = message.copy()
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = copy.deepcopy(blocks)
            if metadata is not None:
                message.metadata = copy.deepcopy(metadata)
            message.edited = True
            message.edited_ts = self.next_ts()
            return previous, message

    def delete_message(self, channel_id: str, ts: str) -> Message:
        """Mark a message deleted; returns a copy of it as it was."""
        with self.lock:
            message = self.find_message(channel_id, ts)
            if message is None:
                raise SlackError("message_not_found")
            previous = message.copy()
            message.deleted = True
            return previous

    def react(
        self, channel_id: str, ts: str, user_id: str, reaction: str, *, removed: bool = False
    ) -> Message:
        """Add or remove a reaction; returns the message reacted to."""
        with self.lock:
            message = self.find_message(channel_id, ts)
            if message is None:
                raise SlackError("message_not_found")
            users = message.reactions.setdefault(reaction, [])
            if removed:
                if user_id in users:
                    users.remove(user_id)
                if not users:
                    del message.reactions[reaction]
            elif user_id not in users:
                users.append(user_id)
            return message

    def post_ephemeral(
        self,
        channel_id: str,
        user_id: str,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        response_type: str | None = None,
    ) -> Message:
        with self.lock:
            message = Message(
                channel=channel_id,
                ts=self.next_ts(),
                user=self.bot_user_id,
                bot_id=self.bot_id,
                text=text,
                blocks=copy.deepcopy(blocks) if blocks else [],
                thread_ts=thread_ts or None,
                ephemeral_to=user_id,
                response_type=response_type,
            )
            self._s.ephemerals.append(message)
            return message

    def find_ephemeral(self, channel_id: str, ts: str) -> Message | None:
        with self.lock:
            for message in self._s.ephemerals:
                if message.channel == channel_id and message.ts == ts and not message.deleted:
                    return message
            return None

    def messages(self, channel_id: str) -> list[Message]:
        with self.lock:
            return sorted((m.copy() for m in self._s.history.get(channel_id, [])), key=_ts_key)

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        with self.lock:
            return [
                m
                for m in self.messages(channel_id)
                if m.ts == thread_ts or m.thread_ts == thread_ts
            ]

    def ephemerals(self, user_id: str | None = None) -> list[Message]:
        with self.lock:
            return [
                m.copy() for m in self._s.ephemerals if user_id is None or m.ephemeral_to == user_id
            ]

    # ------------------------------------------------------------------ triggers

    def issue_trigger(self, user_id: str) -> str:
        """A fresh trigger_id for ``user_id``, valid for 3 s of the clock."""
        with self.lock:
            n = next(self._ids)
            trigger_id = f"{int(self.clock() * 1000)}{n:03d}.{n}.{secrets.token_hex(16)}"
            self._s.triggers[trigger_id] = Trigger(user_id=user_id, issued_at=self.clock())
            return trigger_id

    def trigger_user(self, trigger_id: str) -> str:
        """Whose interaction a ``trigger_id`` was issued for ("" if none)."""
        with self.lock:
            trigger = self._s.triggers.get(trigger_id)
            return trigger.user_id if trigger else ""

    def view_user(self, view_id: str) -> str:
        """Whose view ``view_id`` is ("" if none)."""
        with self.lock:
            record = self._s.views.get(view_id)
            return record.user_id if record else ""

    def response_url_record(self, path: str) -> ResponseUrl | None:
        with self.lock:
            return self._s.response_urls.get(path)

    def exchange_trigger(self, trigger_id: str) -> str:
        """Use a trigger (once, within 3 s); returns its user id."""
        with self.lock:
            trigger = self._s.triggers.get(trigger_id)
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if self.clock() - trigger.issued_at >= TRIGGER_TTL_SECONDS:
                raise SlackError("expired_trigger_id")
            if trigger.used:
                raise SlackError("exchanged_trigger_id")
            trigger.used = True
            return trigger.user_id

    # ------------------------------------------------------------------ response_url

    def issue_response_url(
        self,
        kind: str,
        *,
        channel_id: str,
        user_id: str,
        message_ts: str | None = None,
        source_ephemeral: bool = False,
    ) -> str:
        with self.lock:
            n = next(self._ids)
            path = f"/{kind}/{self.team_id}/{int(self.clock())}{n:04d}/{secrets.token_urlsafe(18)}"
            self._s.response_urls[path] = ResponseUrl(
                kind=kind,
                channel_id=channel_id,
                user_id=user_id,
                issued_at=self.clock(),
                message_ts=message_ts,
                source_ephemeral=source_ephemeral,
            )
            return self.base_url + path

    def is_response_url_path(self, path: str) -> bool:
        return path.startswith(("/commands/", "/actions/", "/app/"))

    def post_to_response_url(self, path: str, payload: Any) -> tuple[int, str]:
        """Apply a post to a response_url; returns (HTTP status, text body) like Slack."""
        with self.lock:
            record = self._s.response_urls.get(path)
            status, body = self._apply_response_url(record, payload)
            self._s.response_url_posts.append(
                {
                    "url": self.base_url + path,
                    "payload": copy.deepcopy(payload),
                    "status": status,
                    "response": body,
                    "at": self.clock(),
                }
            )
            return status, body

    def _apply_response_url(self, record: ResponseUrl | None, payload: Any) -> tuple[int, str]:
        if record is None:
            return 404, "no_service"
        if self.clock() - record.issued_at > RESPONSE_URL_TTL_SECONDS:
            return 404, "expired_url"
        if record.uses >= RESPONSE_URL_MAX_USES:
            return 404, "used_url"
        if not isinstance(payload, dict):
            return 400, "invalid_payload"
        text = payload.get("text")
        blocks = payload.get("blocks")
        if isinstance(blocks, str):
            return 400, "invalid_blocks_format"
        if blocks is not None:
            from bot.emulator.validation import validate_message_blocks

            if validate_message_blocks(blocks):
                return 400, "invalid_blocks"
        delete = _truthy(payload.get("delete_original"))
        replace = _truthy(payload.get("replace_original"))
        if not delete and not text and not blocks:
            return 400, "no_text"
        record.uses += 1
        target = self._response_url_target(record)
        if delete:
            if target is not None:
                target.deleted = True
            return 200, "ok"
        if replace and target is not None:
            if text is not None:
                target.text = str(text)
            target.blocks = copy.deepcopy(blocks) if blocks else []
            return 200, "ok"
        thread_ts = payload.get("thread_ts")
        if payload.get("response_type") == "in_channel":
            self.post_message(
                record.channel_id,
                user=self.bot_user_id,
                text=str(text or ""),
                blocks=blocks,
                thread_ts=str(thread_ts) if thread_ts else None,
                from_bot=True,
                response_type="in_channel",
            )
        else:
            message = self.post_ephemeral(
                record.channel_id,
                record.user_id,
                text=str(text or ""),
                blocks=blocks,
                thread_ts=str(thread_ts) if thread_ts else None,
                response_type="ephemeral",
            )
            record.last_ephemeral_ts = message.ts
        return 200, "ok"

    def _response_url_target(self, record: ResponseUrl) -> Message | None:
        if record.message_ts is not None:
            if record.source_ephemeral:
                return self.find_ephemeral(record.channel_id, record.message_ts)
            return self.find_message(record.channel_id, record.message_ts)
        if record.last_ephemeral_ts is not None:
            return self.find_ephemeral(record.channel_id, record.last_ephemeral_ts)
        return None

    def response_url_posts(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._s.response_url_posts)

    # ------------------------------------------------------------------ views

    def _new_hash(self) -> str:
        return f"{int(self.clock())}.{secrets.token_urlsafe(6)}"

    def _build_view(
        self, source: dict[str, Any], *, view_id: str, root_view_id: str, previous: str | None
    ) -> dict[str, Any]:
        kind = source["type"]
        view: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": kind,
            "blocks": _with_ids(source.get("blocks", [])),
            "private_metadata": source.get("private_metadata", ""),
            "callback_id": source.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "clear_on_close": bool(source.get("clear_on_close", False)),
            "notify_on_close": bool(source.get("notify_on_close", False)),
        }
        for key in ("title", "close", "submit"):
            if source.get(key) is not None:
                view[key] = copy.deepcopy(source[key])
        if kind == "modal":
            view["previous_view_id"] = previous
        view.update(
            {
                "root_view_id": root_view_id,
                "app_id": self.app_id,
                "external_id": source.get("external_id", ""),
                "app_installed_team_id": self.team_id,
                "bot_id": self.bot_id,
            }
        )
        return view

    def _check_external_id(self, external_id: str, *, except_view: str | None = None) -> None:
        if not external_id:
            return
        for view_id, record in self._s.views.items():
            if view_id != except_view and record.view.get("external_id") == external_id:
                raise SlackError("duplicate_external_id")

    def open_modal(self, user_id: str, source: dict[str, Any]) -> dict[str, Any]:
        """Open a new modal stack for the user (replacing any open one)."""
        with self.lock:
            self._check_external_id(str(source.get("external_id", "")))
            for old in self._s.modal_stacks.pop(user_id, []):
                self._s.views[old].is_open = False
            view_id = self.new_id("V")
            view = self._build_view(source, view_id=view_id, root_view_id=view_id, previous=None)
            self._s.views[view_id] = ViewRecord(user_id=user_id, view=view)
            self._s.modal_stacks[user_id] = [view_id]
            return copy.deepcopy(view)

    def push_modal(self, user_id: str, source: dict[str, Any]) -> dict[str, Any]:
        """Push a modal on the user's stack (at most 3 deep)."""
        with self.lock:
            stack = self._s.modal_stacks.get(user_id, [])
            if not stack:
                return self.open_modal(user_id, source)
            if len(stack) >= MAX_MODAL_STACK:
                raise SlackError("push_limit_reached")
            self._check_external_id(str(source.get("external_id", "")))
            view_id = self.new_id("V")
            view = self._build_view(
                source, view_id=view_id, root_view_id=stack[0], previous=stack[-1]
            )
            self._s.views[view_id] = ViewRecord(user_id=user_id, view=view)
            stack.append(view_id)
            return copy.deepcopy(view)

    def find_view_id(self, *, view_id: str | None, external_id: str | None) -> str:
        with self.lock:
            if view_id:
                if view_id not in self._s.views:
                    raise SlackError("not_found")
                return view_id
            for vid, record in self._s.views.items():
                if external_id and record.view.get("external_id") == external_id:
                    return vid
            raise SlackError("not_found")

    def update_view(
        self, view_id: str, source: dict[str, Any], *, hash_: str | None = None
    ) -> dict[str, Any]:
        """Replace a view's content in place (same id), checking ``hash`` when given."""
        with self.lock:
            record = self._s.views.get(view_id)
            if record is None:
                raise SlackError("not_found")
            if hash_ and hash_ != record.view["hash"]:
                raise SlackError("hash_conflict")
            if source.get("type") != record.kind:
                raise SlackError("invalid_arguments", messages=["[ERROR] view type mismatch"])
            self._check_external_id(str(source.get("external_id", "")), except_view=view_id)
            view = self._build_view(
                source,
                view_id=view_id,
                root_view_id=record.view["root_view_id"],
                previous=record.view.get("previous_view_id"),
            )
            if not source.get("external_id"):
                view["external_id"] = record.view.get("external_id", "")
            record.view = view
            return copy.deepcopy(view)

    def publish_home(
        self, user_id: str, source: dict[str, Any], *, hash_: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            self.user(user_id)
            existing = self._s.home_views.get(user_id)
            if existing is not None:
                return self.update_view(existing, source, hash_=hash_)
            view_id = self.new_id("V")
            view = self._build_view(source, view_id=view_id, root_view_id=view_id, previous=None)
            self._s.views[view_id] = ViewRecord(user_id=user_id, view=view)
            self._s.home_views[user_id] = view_id
            return copy.deepcopy(view)

    def view(self, view_id: str) -> ViewRecord:
        """The view record (live, not a copy), or ``SlackError("not_found")``."""
        with self.lock:
            record = self._s.views.get(view_id)
            if record is None:
                raise SlackError("not_found")
            return record

    def close_view(self, view_id: str, *, clear: bool = False) -> None:
        """Close a modal (pop it); ``clear`` closes the user's whole stack."""
        with self.lock:
            record = self.view(view_id)
            stack = self._s.modal_stacks.get(record.user_id, [])
            closing = list(stack) if clear else [view_id]
            for vid in closing:
                if vid in stack:
                    stack.remove(vid)
                self._s.views[vid].is_open = False
            if not stack:
                self._s.modal_stacks.pop(record.user_id, None)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            view_id = self._s.home_views.get(user_id)
            return copy.deepcopy(self._s.views[view_id].view) if view_id else None

    def open_views(self, user_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            out: list[dict[str, Any]] = []
            for uid, stack in self._s.modal_stacks.items():
                if user_id is None or uid == user_id:
                    out.extend(copy.deepcopy(self._s.views[v].view) for v in stack)
            return out

    # ------------------------------------------------------------------ files

    def start_upload(self, filename: str, length: int, user: str) -> tuple[str, str]:
        """Register a pending upload; returns (file id, upload URL)."""
        with self.lock:
            file_id = self.new_id("F")
            token = secrets.token_urlsafe(18)
            self._s.files[file_id] = UploadedFile(
                id=file_id, name=filename, length=length, user=user, created=int(self.clock())
            )
            self._s.upload_tokens[token] = file_id
            return file_id, f"{self.base_url}/upload/v1/{token}"

    def receive_upload(self, token: str, content: bytes) -> UploadedFile | None:
        with self.lock:
            file_id = self._s.upload_tokens.pop(token, None)
            if file_id is None:
                return None
            record = self._s.files[file_id]
            record.content = content
            return record

    def share_file(
        self,
        user_id: str,
        channel_id: str,
        filename: str,
        content: bytes,
        *,
        title: str | None = None,
        text: str = "",
    ) -> Message:
        """A person uploads a file into a conversation: the file (theirs, hosted by
        Slack) and the ``file_share`` message that carries it."""
        with self.lock:
            self.user(user_id)
            channel = self.channel(channel_id)
            file_id = self.new_id("F")
            record = UploadedFile(
                id=file_id,
                name=filename,
                length=len(content),
                title=title or filename,
                content=content,
                channel=channel.id,
                completed=True,
                user=user_id,
                created=int(self.clock()),
            )
            self._s.files[file_id] = record
            return self.post_message(
                channel.id,
                user=user_id,
                text=text,
                files=[self.file_json(record)],
                subtype="file_share",
            )

    def file_by_url_path(self, path: str) -> UploadedFile | None:
        """The file a ``url_private`` or ``url_private_download`` path names."""
        found = _FILE_PATH.match(path)
        if found is None or found.group("team") != self.team_id:
            return None
        with self.lock:
            record = self._s.files.get(found.group("file"))
            return copy.deepcopy(record) if record is not None and record.completed else None

    def file(self, file_id: str) -> UploadedFile | None:
        with self.lock:
            return self._s.files.get(file_id)

    def files(self) -> list[UploadedFile]:
        with self.lock:
            return [copy.deepcopy(f) for f in self._s.files.values() if f.completed]

    # ------------------------------------------------------------------ JSON shapes

    def user_json(self, user: User) -> dict[str, Any]:
        """A user object with the fields users.info returns."""
        tz_label, tz_offset = self._tz_info(user.tz)
        first, _, last = user.real_name.partition(" ")
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name,
            "display_name_normalized": user.name,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "g" + user.id[-11:].lower(),
            "first_name": first,
            "last_name": last,
            "image_24": f"https://a.slack-edge.com/avatars/{user.id}_24.png",
            "image_32": f"https://a.slack-edge.com/avatars/{user.id}_32.png",
            "image_48": f"https://a.slack-edge.com/avatars/{user.id}_48.png",
            "image_72": f"https://a.slack-edge.com/avatars/{user.id}_72.png",
            "image_192": f"https://a.slack-edge.com/avatars/{user.id}_192.png",
            "image_512": f"https://a.slack-edge.com/avatars/{user.id}_512.png",
            "status_text_canonical": "",
            "team": self.team_id,
        }
        if user.is_bot:
            profile.update(
                {"bot_id": self.bot_id, "api_app_id": self.app_id, "always_active": True}
            )
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "color": "9f69e7",
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_primary_owner": user.is_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": int(self.clock()),
        }

    def _tz_info(self, tz: str) -> tuple[str, int]:
        try:
            now = datetime.fromtimestamp(self.clock(), tz=ZoneInfo(tz))
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory
            now = datetime.fromtimestamp(self.clock(), tz=UTC)
        abbreviation = now.tzname() or "UTC"
        offset = now.utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        return _TZ_LABELS.get(abbreviation, abbreviation), seconds

    def channel_json(self, channel: Channel, *, num_members: bool = False) -> dict[str, Any]:
        """A conversation object with the fields conversations.info returns."""
        now = int(self.clock() * 1000)
        if channel.is_im:
            return {
                "id": channel.id,
                "created": channel.created,
                "is_archived": channel.is_archived,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_of(channel),
                "updated": now,
            }
        body: dict[str, Any] = {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private and not channel.is_mpim,
            "is_group": channel.is_private and not channel.is_mpim,
            "is_im": False,
            "is_mpim": channel.is_mpim,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": channel.is_archived,
            "is_general": channel.name == "general",
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_of(channel),
            "updated": now,
            "creator": channel.creator,
            "is_ext_shared": False,
            "shared_team_ids": [self.team_of(channel)],
            "pending_connected_team_ids": [],
            "is_member": self.bot_user_id in channel.members,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }
        if num_members:
            body["num_members"] = len(channel.members)
        return body

    def im_json(self, channel: Channel) -> dict[str, Any]:
        """An IM object as conversations.open returns it with ``return_im``."""
        return {
            "id": channel.id,
            "created": channel.created,
            "is_archived": channel.is_archived,
            "is_im": True,
            "is_org_shared": False,
            "user": channel.im_user,
            "last_read": "0000000000.000000",
            "latest": None,
            "unread_count": 0,
            "unread_count_display": 0,
            "is_open": True,
            "priority": 0,
            "context_team_id": self.team_of(channel),
            "updated": int(self.clock() * 1000),
        }

    def bot_message_json(self, message: Message, *, for_update: bool = False) -> dict[str, Any]:
        """A bot message object as chat.postMessage / chat.update return it."""
        body: dict[str, Any] = {"type": "message"}
        if message.subtype:
            body["subtype"] = message.subtype
        body.update(
            {
                "text": message.text,
                "user": message.user,
                "bot_id": message.bot_id or self.bot_id,
                "app_id": self.app_id,
                "team": self.acting_team,
            }
        )
        if not for_update:
            body["ts"] = message.ts
        if message.blocks:
            body["blocks"] = copy.deepcopy(message.blocks)
        if message.metadata:
            body["metadata"] = copy.deepcopy(message.metadata)
        if for_update:
            if message.edited_ts:
                body["edited"] = {"user": message.bot_id or self.bot_id, "ts": message.edited_ts}
        elif message.thread_ts and message.thread_ts != message.ts:
            body["thread_ts"] = message.thread_ts
            body["parent_user_id"] = self.thread_parent_user(message.channel, message.thread_ts)
        return body

    def file_json(self, record: UploadedFile) -> dict[str, Any]:
        """A file object as files.completeUploadExternal returns it."""
        ext = record.name.rsplit(".", 1)[-1].lower() if "." in record.name else "text"
        # Served by the emulator itself, as Slack serves them from files.slack.com: only
        # to a request with the bot token (see SlackEmulator.handle_file_download).
        hosted = f"{self.base_url}/files-pri/{self.team_id}-{record.id}"
        name = quote(record.name)
        return {
            "id": record.id,
            "created": record.created,
            "timestamp": record.created,
            "name": record.name,
            "title": record.title or record.name,
            "mimetype": _MIMETYPES.get(ext, "application/octet-stream"),
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": record.user,
            "user_team": self.team_id,
            "editable": False,
            "size": len(record.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{hosted}/{name}",
            "url_private_download": f"{hosted}/download/{name}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{record.user}/{record.id}/{record.name}",
            "permalink_public": f"https://slack-files.com/{self.team_id}-{record.id}-0",
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def permalink(self, channel_id: str, ts: str, thread_ts: str | None) -> str:
        link = f"https://{self.team_domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel_id}"
        return link


#: ``/files-pri/T…-F…/name`` and ``/files-pri/T…-F…/download/name``.
_FILE_PATH = re.compile(
    r"^/files-pri/(?P<team>[A-Z0-9]+)-(?P<file>F[A-Z0-9]+)/(?:download/)?[^/]+$"
)
_MIMETYPES = {
    "txt": "text/plain",
    "text": "text/plain",
    "md": "text/plain",
    "csv": "text/csv",
    "epub": "application/epub+zip",
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "zip": "application/zip",
}


def _short_id() -> str:
    return secrets.token_urlsafe(4).replace("-", "a").replace("_", "b")[:5]


def _with_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of ``blocks`` where every block and input element has an id, as Slack does."""
    out = copy.deepcopy(blocks)
    for block in out:
        block.setdefault("block_id", _short_id())
        element = block.get("element")
        if isinstance(element, dict):
            element.setdefault("action_id", _short_id())
    return out


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def _ts_key(message: Message) -> tuple[int, int]:
    seconds, _, micros = message.ts.partition(".")
    return int(seconds), int(micros or 0)
