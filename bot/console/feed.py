"""What is new in the workspace since the console last looked: a diff of the emulator's state.

Conversations are shown to the members in them only. What happens in the conversation
the member is looking at is shown in full, once, to whoever is at the console; so are the
bot's DMs to the member and the answers only they see, wherever they are (those wait for
their member: switch with ``:as``). What arrives in another of their conversations is
announced in one line (``brief``), once per member, and shown in full when they go there.
Messages get a number (``[3]``) the first time they are seen, and prompts also a prompt
number (``p1``), so the person can refer to them in ``:thread``, ``:react`` and ``:click``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.console.render import fingerprint
from bot.console.world import ConsoleError, ConsoleWorld
from bot.emulator.models import Channel, Message
from bot.slack.blocks import PROMPT_EVENT


class Kind(enum.StrEnum):
    CHANNEL = "channel"
    REPLY = "reply"
    EPHEMERAL = "ephemeral"
    DM = "dm"


class Change(enum.StrEnum):
    NEW = "new"
    EDITED = "edited"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Item:
    """One message to show, and how it relates to what was shown before."""

    message: Message
    kind: Kind
    change: Change
    number: int | None = None
    parent: int | None = None
    prompt: int | None = None
    ephemeral: int | None = None  # e<n>, for answers only this member sees
    brief: bool = False  # in another conversation: announced, to be read there


def is_prompt(message: Message) -> bool:
    """A chapter prompt the scheduler posted (it carries the prompt metadata)."""
    meta = message.metadata or {}
    return (
        message.bot_id is not None
        and not message.is_reply
        and meta.get("event_type") == PROMPT_EVENT
    )


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)


class Feed:
    """Remembers what was shown and numbers messages; :meth:`news` gives what is new."""

    def __init__(self, world: ConsoleWorld) -> None:
        self.world = world
        self._seen: dict[tuple[str, str, str], str] = {}
        self._numbers: dict[tuple[str, str], int] = {}
        self._refs: list[tuple[str, str]] = []
        self._prompts: list[tuple[str, str]] = []
        self._ephemerals: list[tuple[str, str]] = []
        self._announced: dict[tuple[str, str, str], str] = {}

    # ------------------------------------------------------------------ numbering

    def number(self, message: Message) -> int:
        """The message's number, given on first sight (1, 2, …)."""
        key = (message.channel, message.ts)
        if key not in self._numbers:
            self._refs.append(key)
            self._numbers[key] = len(self._refs)
            if is_prompt(message):
                self._prompts.append(key)
        return self._numbers[key]

    def ephemeral_number(self, message: Message) -> int:
        """The number of an answer only its member sees: e1, e2, …"""
        key = (message.channel, message.ts)
        if key not in self._ephemerals:
            self._ephemerals.append(key)
        return self._ephemerals.index(key) + 1

    def prompt_number(self, message: Message) -> int | None:
        key = (message.channel, message.ts)
        return self._prompts.index(key) + 1 if key in self._prompts else None

    def resolve(self, ref: str) -> Message:
        """The live message for ``ref``: a number shown as ``[n]``, or ``p<n>`` for prompt n."""
        ref = ref.strip().lstrip("[").rstrip("]").lower()
        if ref.startswith("e") and ref[1:].isdigit():
            index = int(ref[1:])
            if not 1 <= index <= len(self._ephemerals):
                raise ConsoleError(f"There is no answer e{index}.")
            channel, ts = self._ephemerals[index - 1]
        elif ref.startswith("p") and ref[1:].isdigit():
            index = int(ref[1:])
            if not 1 <= index <= len(self._prompts):
                raise ConsoleError(f"There is no prompt p{index} yet.")
            channel, ts = self._prompts[index - 1]
        elif ref.isdigit() and 1 <= int(ref) <= len(self._refs):
            channel, ts = self._refs[int(ref) - 1]
        else:
            raise ConsoleError(
                f"No message [{ref}]: use a number shown in brackets, p1, p2… or e1, e2…"
            )
        workspace = self.world.emulator.workspace
        message = workspace.find_message(channel, ts) or workspace.find_ephemeral(channel, ts)
        if message is None:
            raise ConsoleError(f"Message [{ref}] was deleted.")
        return message.copy()

    def shown_newest_first(self) -> list[Message]:
        """Every message shown so far (numbered ones and answers), the newest first."""
        workspace = self.world.emulator.workspace
        found = []
        for channel, ts in [*self._refs, *self._ephemerals]:
            message = workspace.find_message(channel, ts) or workspace.find_ephemeral(channel, ts)
            if message is not None:
                found.append(message.copy())
        return sorted(found, key=lambda m: tuple(int(p) for p in m.ts.split(".")), reverse=True)

    def latest_prompt(self) -> Message | None:
        """The most recent prompt seen, if any."""
        for channel, ts in reversed(self._prompts):
            found = self.world.emulator.workspace.find_message(channel, ts)
            if found is not None:
                return found.copy()
        return None

    # ------------------------------------------------------------------ diffing

    def _channels(self, viewer: str) -> list[Channel]:
        """The conversations ``viewer`` is in, but for their DM with the bot."""
        return [c for c in self.world.channels() if viewer in c.members and c.im_user is None]

    def _item(self, scope: str, message: Message, kind: Kind) -> Item | None:
        key = (scope, message.channel, message.ts)
        mark = fingerprint(message)
        before = self._seen.get(key)
        self._seen[key] = mark
        if before == mark or (before is None and message.deleted):
            return None
        change = (
            Change.NEW if before is None else Change.DELETED if message.deleted else Change.EDITED
        )
        if kind is Kind.EPHEMERAL:
            # Numbered in a series of its own ([e1], [e2]…), so that its buttons (make it
            # private, did you mean…) can be clicked: :click e1.
            return Item(message, kind, change, ephemeral=self.ephemeral_number(message))
        if kind is Kind.CHANNEL and message.is_reply:
            kind = Kind.REPLY
        parent = None
        if message.is_reply and message.thread_ts:
            parent_message = self.world.emulator.workspace.find_message(
                message.channel, message.thread_ts
            )
            parent = self.number(parent_message) if parent_message is not None else None
        number = self.number(message)
        return Item(message, kind, change, number, parent, self.prompt_number(message))

    def news(self, viewer: str, here: str | None = None) -> list[Item]:
        """Everything new or changed since the last call that ``viewer`` can see: in full
        in the conversation ``here`` (everywhere when ``None``), in their DM with the bot
        and in answers only they see; briefly (``Item.brief``) in their other conversations.
        """
        candidates: list[tuple[str, Message, Kind, bool]] = []
        for channel in self._channels(viewer):
            full = here is None or channel.id == here
            candidates += [
                ("", m, Kind.CHANNEL, full) for m in self.world.emulator.messages(channel.id)
            ]
        dm = self.world.dm_channel(viewer)
        if dm is not None:
            candidates += [(viewer, m, Kind.DM, True) for m in self.world.emulator.messages(dm)]
        candidates += [
            (viewer, m, Kind.EPHEMERAL, True) for m in self.world.emulator.ephemerals(viewer)
        ]
        candidates.sort(key=lambda c: _ts_key(c[1].ts))
        items = [
            self._item(scope, message, kind) if full else self._brief(viewer, message)
            for scope, message, kind, full in candidates
        ]
        return [i for i in items if i is not None]

    def _brief(self, viewer: str, message: Message) -> Item | None:
        """A message of another conversation, announced once to ``viewer`` (and once more if
        it changes before they look); it stays unseen until shown in full."""
        mark = fingerprint(message)
        before = self._seen.get(("", message.channel, message.ts))
        key = (viewer, message.channel, message.ts)
        if before == mark or self._announced.get(key) == mark or message.deleted:
            return None
        self._announced[key] = mark
        parent = None
        if message.is_reply and message.thread_ts:
            parent_message = self.world.emulator.workspace.find_message(
                message.channel, message.thread_ts
            )
            parent = self.number(parent_message) if parent_message is not None else None
        number = self.number(message)
        return Item(
            message,
            Kind.REPLY if message.is_reply else Kind.CHANNEL,
            Change.NEW if before is None else Change.EDITED,
            number,
            parent,
            self.prompt_number(message),
            brief=True,
        )

    def unread(self, viewer: str, channel_id: str) -> int:
        """How many of the bot's messages in the conversation are new or changed since
        they were last shown in full."""
        scope = viewer if self.world.is_bot_dm(channel_id) else ""
        return sum(
            1
            for m in self.world.emulator.messages(channel_id)
            if m.bot_id is not None
            and not m.deleted
            and self._seen.get((scope, m.channel, m.ts)) != fingerprint(m)
        )

    def catch_up(self, viewer: str) -> None:
        """Mark everything as seen (used once, at start)."""
        self.news(viewer)

    def thread(self, parent: Message) -> list[Item]:
        """The whole thread of ``parent`` (parent first), numbered, marked as seen."""
        items = []
        for message in self.world.emulator.thread(parent.channel, parent.thread_ts or parent.ts):
            self._seen[("", message.channel, message.ts)] = fingerprint(message)
            if message.deleted:
                continue
            kind = Kind.REPLY if message.is_reply else Kind.CHANNEL
            parent_number = self.number(parent) if message.is_reply else None
            items.append(
                Item(
                    message,
                    kind,
                    Change.NEW,
                    self.number(message),
                    parent_number,
                    self.prompt_number(message),
                )
            )
        return items
