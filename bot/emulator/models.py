"""Plain data records of the emulated workspace and of the calls made to it."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiCall:
    """One request the emulator answered (Web API method, upload or response_url).

    ``params`` holds the merged query, form and JSON parameters; the JSON-string
    parameters ``blocks``, ``metadata``, ``view``, ``files`` and ``attachments`` are
    decoded into objects when they parse.
    """

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float
    #: The workspace (team) whose token made the call; None when no token was known.
    team_id: str | None = None


@dataclass(frozen=True)
class Team:
    """A workspace the app is installed in: its id, name and ``<domain>.slack.com``."""

    id: str
    name: str
    domain: str


@dataclass
class Message:
    """A message as the emulated workspace holds it.

    ``user`` is the author's user id (the bot's user id for bot messages, which
    also carry ``bot_id``). ``ephemeral_to`` is set for ephemeral messages, which
    never appear in channel history. ``response_type`` is set for messages posted
    through a response_url ("in_channel" or "ephemeral").
    """

    channel: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None
    bot_id: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    subtype: str | None = None
    deleted: bool = False
    edited: bool = False
    edited_ts: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    ephemeral_to: str | None = None
    response_type: str | None = None
    reply_broadcast: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    client_msg_id: str | None = None

    @property
    def is_reply(self) -> bool:
        """True for a threaded reply (its ``thread_ts`` names another message)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    def copy(self) -> Message:
        """A deep copy, safe to hand out of the lock."""
        return copy.deepcopy(self)


@dataclass
class User:
    """A workspace member."""

    id: str
    name: str
    real_name: str
    tz: str = "Europe/Berlin"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False


@dataclass
class Channel:
    """A conversation: public (C), private (C/G, ``is_private``), DM (D) or group DM."""

    id: str
    name: str
    created: int
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_archived: bool = False
    members: list[str] = field(default_factory=list)
    im_user: str | None = None
    creator: str = ""
    #: The workspace the conversation is in; "" means the emulator's primary one.
    team_id: str = ""

    @property
    def channel_type(self) -> str:
        """The Events API ``channel_type``: channel, group, im or mpim."""
        if self.is_im:
            return "im"
        if self.is_mpim:
            return "mpim"
        if self.is_private:
            return "group"
        return "channel"


@dataclass
class UploadedFile:
    """A file uploaded through files.getUploadURLExternal + completeUploadExternal."""

    id: str
    name: str
    length: int
    title: str | None = None
    content: bytes | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False
    user: str = ""
    created: int = 0

    @property
    def text(self) -> str:
        """The uploaded content decoded as UTF-8 (replacement characters if binary)."""
        return (self.content or b"").decode("utf-8", errors="replace")


class FakeClock:
    """A settable clock for tests: ``emulator = SlackEmulator(clock=FakeClock(1e9))``."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        """Jump to an absolute time."""
        with self._lock:
            self._now = now
