"""Events API: messages, edits, deletions and reactions in prompt threads.

The ack function stores the event before answering (a few milliseconds, one
transaction keyed on ``event_id``), so an event Slack sees acknowledged is never lost,
and a retried delivery of it changes nothing. If storing fails, the listener raises and
bolt answers 500, so Slack delivers the event again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.domain.discussions import MessageChange, MessageEvent, ReactionEvent
from bot.observability import EVENTS
from bot.slack.listeners.common import SlackDeps

logger = logging.getLogger(__name__)

IGNORED_SUBTYPES = {
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "bot_add",
    "bot_remove",
    "group_join",
    "group_leave",
    "pinned_item",
    "unpinned_item",
}


def parse_message(body: dict[str, Any]) -> MessageEvent | None:
    """A message event as domain data; None for events we do not keep (joins, bots…)."""
    event = body.get("event") or {}
    subtype = event.get("subtype")
    channel = event.get("channel")
    event_id = str(body.get("event_id") or "")
    team_id = str(body.get("team_id") or "")
    if not channel or not event_id or subtype in IGNORED_SUBTYPES:
        return None
    channel_id = str(channel)
    if subtype == "message_changed":
        message = event.get("message") or {}
        return MessageEvent(
            event_id=event_id,
            team_id=team_id,
            channel_id=channel_id,
            ts=str(message.get("ts") or ""),
            change=MessageChange.EDITED,
            thread_ts=message.get("thread_ts"),
            user_id=str(message["user"]) if message.get("user") else None,
            text=message.get("text") or "",
        )
    if subtype == "message_deleted":
        ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        return (
            MessageEvent(
                event_id=event_id,
                team_id=team_id,
                channel_id=channel_id,
                ts=str(ts or ""),
                change=MessageChange.DELETED,
            )
            if ts
            else None
        )
    if event.get("bot_id") or subtype in ("bot_message",):
        return None  # our own echoes and other bots are not discussion
    if subtype not in (None, "thread_broadcast", "file_share"):
        return None
    return MessageEvent(
        event_id=event_id,
        team_id=team_id,
        channel_id=channel_id,
        ts=str(event.get("ts") or ""),
        change=MessageChange.POSTED,
        thread_ts=event.get("thread_ts"),
        user_id=event.get("user"),
        text=event.get("text") or "",
        files=[str(f.get("name") or f.get("title") or "file") for f in event.get("files") or []],
    )


def parse_reaction(body: dict[str, Any]) -> ReactionEvent | None:
    event = body.get("event") or {}
    item = event.get("item") or {}
    if item.get("type") != "message" or not body.get("event_id"):
        return None
    return ReactionEvent(
        event_id=str(body["event_id"]),
        team_id=str(body.get("team_id") or ""),
        channel_id=str(item.get("channel") or ""),
        ts=str(item.get("ts") or ""),
        user_id=str(event.get("user") or ""),
        name=str(event.get("reaction") or ""),
        added=event.get("type") == "reaction_added",
    )


def register(app: App, deps: SlackDeps) -> None:
    discussions = deps.services.discussions

    def store(kind: str, record: Callable[[], bool], ack: Ack) -> None:
        changed = record()  # raises on a storage failure: no ack, Slack retries
        ack()
        EVENTS.labels(kind, "stored" if changed else "duplicate_or_ignored").inc()

    def on_message(body: dict[str, Any], ack: Ack) -> None:
        event = parse_message(body)
        if event is None:
            ack()
            return
        store("message", lambda: discussions.record_message(event), ack)

    def on_reaction(body: dict[str, Any], ack: Ack) -> None:
        event = parse_reaction(body)
        if event is None:
            ack()
            return
        store("reaction", lambda: discussions.record_reaction(event), ack)

    app.event("message")(on_message)
    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)

    # Subscribed for completeness; nothing to do, but answer 200 so Slack is content.
    for quiet in (
        "member_left_channel",
        "app_mention",
        "app_uninstalled",
        "tokens_revoked",
    ):
        app.event(quiet)(lambda ack: ack())
