"""What the console keeps between sessions on one database, beside it in ``<db>.console.json``.

The database keeps books, plans and reflections; the emulated Slack workspace lives in
memory. So that a second session can still reply in a prompt's thread (the plans refer
to prompts by their Slack ``ts``, groups to conversations by their id), the console saves
the virtual time, the members (with their time zones), the conversations (with their ids
and members) and their history, and replays it into the fresh emulator with the same ids
and timestamps. A version 1 file (one channel, history only) still loads.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.emulator.models import Channel, Message
from bot.emulator.workspace import SlackError, Workspace

logger = logging.getLogger(__name__)

STATE_SUFFIX = ".console.json"
VERSION = 2
_KEPT = ("ts", "user", "text", "thread_ts", "blocks", "metadata", "subtype", "files")
_MEMBER_KEPT = ("id", "name", "real_name", "tz", "is_admin")
_CONVERSATION_KEPT = (
    "id",
    "name",
    "created",
    "is_private",
    "is_im",
    "is_mpim",
    "members",
    "im_user",
    "creator",
)


@dataclass
class SavedState:
    """The virtual time, the members, conversations and messages of a previous session."""

    now: datetime
    messages: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)


def state_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + STATE_SUFFIX)


def load(db_path: Path) -> SavedState | None:
    """The state saved next to ``db_path``; ``None`` if there is none or it is unreadable."""
    try:
        data = json.loads(state_file(db_path).read_text(encoding="utf-8"))
        now = datetime.fromisoformat(data["now"])
        messages = list(data.get("messages") or [])
        members = list(data.get("members") or [])
        conversations = list(data.get("conversations") or [])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if state_file(db_path).exists():
            logger.warning("ignoring unreadable console state %s: %s", state_file(db_path), exc)
        return None
    return SavedState(now, messages, members, conversations) if now.tzinfo else None


def save(db_path: Path, now: datetime, workspace: Workspace) -> None:
    """Write the virtual time, the members, the conversations and every live message."""
    members = [
        {key: getattr(user, key) for key in _MEMBER_KEPT}
        for user in workspace.users()
        if not user.is_bot
    ]
    conversations = [
        {key: getattr(channel, key) for key in _CONVERSATION_KEPT}
        for channel in workspace.channels()
    ]
    messages = []
    for channel in workspace.channels():
        for message in workspace.messages(channel.id):
            if message.deleted:
                continue
            record: dict[str, Any] = {key: getattr(message, key) for key in _KEPT}
            record["from_bot"] = message.bot_id is not None
            record["reactions"] = message.reactions
            record["edited_ts"] = message.edited_ts
            record["channel"] = channel.id
            if channel.im_user is not None:
                record["dm_user"] = channel.im_user
            messages.append(record)
    messages.sort(key=lambda m: _micros(str(m["ts"])))
    body = {
        "version": VERSION,
        "now": now.isoformat(),
        "members": members,
        "conversations": conversations,
        "messages": messages,
    }
    state_file(db_path).write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


def restore_people(
    workspace: Workspace, members: list[dict[str, Any]], conversations: list[dict[str, Any]]
) -> None:
    """Put back the members (a seeded one keeps its saved time zone) and the conversations
    (with their ids and members), before their messages are replayed."""
    with workspace.lock:
        for record in members:
            try:
                user_id, tz = str(record["id"]), str(record.get("tz") or "UTC")
                if workspace.has_user(user_id):
                    workspace.set_user_timezone(user_id, tz)
                else:
                    workspace.add_user(
                        user_id,
                        str(record["name"]),
                        real_name=str(record.get("real_name") or record["name"]),
                        tz=tz,
                        is_admin=bool(record.get("is_admin")),
                    )
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning("could not restore a console member: %s", exc)
        for record in conversations:
            try:
                im_user = record.get("im_user")
                workspace.add_conversation(
                    Channel(
                        id=str(record["id"]),
                        name=str(record["name"]),
                        created=int(record.get("created") or 0),
                        is_private=bool(record.get("is_private")),
                        is_im=bool(record.get("is_im")),
                        is_mpim=bool(record.get("is_mpim")),
                        members=[str(m) for m in record.get("members") or []],
                        im_user=str(im_user) if im_user else None,
                        creator=str(record.get("creator") or ""),
                    )
                )
            except (SlackError, KeyError, TypeError, ValueError) as exc:
                logger.warning("could not restore a console conversation: %s", exc)


def restore(workspace: Workspace, messages: list[dict[str, Any]]) -> int:
    """Replay saved messages into a fresh workspace, keeping their ``ts``; returns how many."""
    restored = 0
    latest = 0
    with workspace.lock:
        for record in sorted(messages, key=lambda m: _micros(str(m.get("ts", "0")))):
            try:
                message = _replay(workspace, record)
            except (SlackError, KeyError, TypeError, ValueError) as exc:
                logger.warning("could not restore a console message: %s", exc)
                continue
            latest = max(latest, _micros(message.ts))
            restored += 1
        _after(workspace, latest)
    return restored


def _replay(workspace: Workspace, record: dict[str, Any]) -> Message:
    known = record.get("channel") and workspace.has_channel(str(record["channel"]))
    if not known and record.get("dm_user"):  # a version 1 file: DMs by member
        channel_id = workspace.dm_channel(str(record["dm_user"]))
    else:
        channel_id = workspace.channel(str(record["channel"])).id
    message = workspace.post_message(
        channel_id,
        user=str(record["user"]),
        text=str(record.get("text") or ""),
        blocks=record.get("blocks") or None,
        thread_ts=record.get("thread_ts") if record.get("thread_ts") != record["ts"] else None,
        metadata=record.get("metadata"),
        from_bot=bool(record.get("from_bot")),
        files=record.get("files") or None,
        subtype=record.get("subtype"),
    )
    # The workspace hands back its own record: give it the original timestamp, which the
    # database (a step's prompt ts, a reflection's echo ts) refers to.
    message.ts = str(record["ts"])
    if record.get("thread_ts"):
        message.thread_ts = str(record["thread_ts"])
    if record.get("edited_ts"):
        message.edited, message.edited_ts = True, str(record["edited_ts"])
    for name, users in (record.get("reactions") or {}).items():
        for user in users:
            workspace.react(channel_id, message.ts, str(user), str(name))
    return message


def _after(workspace: Workspace, latest_micros: int) -> None:
    """Make sure the next ts the workspace issues comes after every restored one (the
    clock may resume in the very second of the last session's last messages)."""
    workspace.issue_after(latest_micros)


def _micros(ts: str) -> int:
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction or "0").ljust(6, "0")[:6])
