"""Builders for what Slack sends *to the app*: Events API envelopes and events,
slash-command forms and interactivity payloads, shaped like Slack's own (see the
bolt-python and java-slack-sdk samples)."""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
from typing import Any

from bot.emulator.models import Channel, Message, User
from bot.emulator.workspace import Workspace

_MENTION = re.compile(r"<(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+(?:\|[^>]*)?|![a-z]+(?:\^[^>]*)?)>")


def block_id() -> str:
    """A short random block id like the ones Slack assigns to user messages."""
    return base64.b64encode(secrets.token_bytes(3)).decode().replace("+", "a").replace("/", "b")


def rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The ``rich_text`` block Slack attaches to a message a person typed."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        token = match.group(1)
        if token.startswith("@"):
            elements.append({"type": "user", "user_id": token[1:]})
        elif token.startswith("#"):
            elements.append({"type": "channel", "channel_id": token[1:].split("|")[0]})
        else:
            elements.append({"type": "broadcast", "range": token[1:].split("^")[0]})
        position = match.end()
    if position < len(text) or not elements:
        elements.append({"type": "text", "text": text[position:]})
    return [
        {
            "type": "rich_text",
            "block_id": block_id(),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def event_context(ws: Workspace, event_type: str, channel_id: str | None) -> str:
    raw = {"et": event_type, "tid": ws.team_id, "aid": ws.app_id}
    if channel_id:
        raw["cid"] = channel_id
    encoded = base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode())
    return "4-" + encoded.decode().rstrip("=")


def event_envelope(
    ws: Workspace,
    event: dict[str, Any],
    *,
    event_id: str,
    event_time: int,
    verification_token: str,
) -> dict[str, Any]:
    """The ``event_callback`` envelope around an event."""
    channel = event.get("channel")
    if channel is None and isinstance(event.get("item"), dict):
        channel = event["item"].get("channel")
    return {
        "token": verification_token,
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": event_context(
            ws, str(event.get("type")), channel if isinstance(channel, str) else None
        ),
    }


def message_body(ws: Workspace, message: Message) -> dict[str, Any]:
    """A message object as events and interactivity payloads carry it."""
    body: dict[str, Any] = {}
    if message.client_msg_id:
        body["client_msg_id"] = message.client_msg_id
    body["type"] = "message"
    if message.subtype:
        body["subtype"] = message.subtype
    body["text"] = message.text
    body["user"] = message.user
    if message.bot_id:
        body["bot_id"] = message.bot_id
        body["app_id"] = ws.app_id
    body["ts"] = message.ts
    body["team"] = ws.team_id
    if message.blocks:
        body["blocks"] = copy.deepcopy(message.blocks)
    if message.files:
        body["files"] = copy.deepcopy(message.files)
        body["upload"] = False
        body["display_as_bot"] = False
    if message.metadata:
        body["metadata"] = copy.deepcopy(message.metadata)
    if message.edited and message.edited_ts:
        body["edited"] = {"user": message.bot_id or message.user, "ts": message.edited_ts}
    if message.thread_ts:
        body["thread_ts"] = message.thread_ts
        if message.is_reply:
            parent = ws.thread_parent_user(message.channel, message.thread_ts)
            if parent:
                body["parent_user_id"] = parent
    return body


def message_event(ws: Workspace, message: Message, channel: Channel) -> dict[str, Any]:
    """A ``message`` event for a message a person posted."""
    event = message_body(ws, message)
    if message.subtype == "file_share":
        event.pop("team", None)  # Slack's file_share events carry no team (see the samples)
    event["channel"] = channel.id
    event["event_ts"] = message.ts
    event["channel_type"] = channel.channel_type
    return event


def message_changed_event(
    ws: Workspace, previous: Message, current: Message, channel: Channel, event_ts: str
) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": message_body(ws, current),
        "previous_message": message_body(ws, previous),
        "channel": channel.id,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel.channel_type,
    }


def message_deleted_event(
    ws: Workspace, previous: Message, channel: Channel, event_ts: str
) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": message_body(ws, previous),
        "channel": channel.id,
        "hidden": True,
        "deleted_ts": previous.ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": channel.channel_type,
    }


def reaction_event(
    user_id: str, message: Message, reaction: str, event_ts: str, *, removed: bool
) -> dict[str, Any]:
    return {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": user_id,
        "item": {"type": "message", "channel": message.channel, "ts": message.ts},
        "reaction": reaction,
        "item_user": message.user,
        "event_ts": event_ts,
    }


def member_joined_channel_event(
    ws: Workspace, user_id: str, channel: Channel, event_ts: str, *, inviter: str | None
) -> dict[str, Any]:
    """``member_joined_channel``: ``channel_type`` is ``C`` for a public channel, ``G`` for
    a private one (Slack's letters here, not the message events' words)."""
    event: dict[str, Any] = {
        "type": "member_joined_channel",
        "user": user_id,
        "channel": channel.id,
        "channel_type": "G" if channel.is_private else "C",
        "team": ws.team_id,
        "event_ts": event_ts,
    }
    if inviter:
        event["inviter"] = inviter
    return event


def slack_entities(text: str) -> str:
    """``&``, ``<`` and ``>`` as Slack's entities, as Slack encodes what people type."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def typed_message(ws: Workspace, text: str) -> str:
    """What a person types in Slack's composer, as the message text Slack stores: entities
    for ``&<>``, and ``@name`` of a member as a real mention (``<@U…>``)."""
    encoded = slack_entities(text)
    names = {u.name.lower(): u.id for u in ws.users() if not u.deleted}

    def mention(found: re.Match[str]) -> str:
        user_id = names.get(found.group(1).lower())
        return f"<@{user_id}>" if user_id else found.group(0)

    return re.sub(r"(?<![\w<])@([A-Za-z0-9._-]+)", mention, encoded)


def escaped_command_text(ws: Workspace, text: str) -> str:
    """A command's text as Slack sends it for a command declared with should_escape:
    entities for ``&<>``, and ``@name`` of a member as ``<@U…|name>``."""
    encoded = slack_entities(text)
    users = {u.name.lower(): u for u in ws.users() if not u.deleted}

    def mention(found: re.Match[str]) -> str:
        user = users.get(found.group(1).lower())
        return f"<@{user.id}|{user.name}>" if user else found.group(0)

    return re.sub(r"(?<![\w<])@([A-Za-z0-9._-]+)", mention, encoded)


def slash_command_form(
    ws: Workspace,
    *,
    command: str,
    text: str,
    user: User,
    channel: Channel,
    response_url: str,
    trigger_id: str,
    verification_token: str,
) -> list[tuple[str, str]]:
    """The form fields of a slash command, in Slack's order."""
    if channel.is_im:
        channel_name = "directmessage"
    elif channel.is_private and not channel.is_mpim:
        channel_name = "privategroup"
    else:
        channel_name = channel.name
    return [
        ("token", verification_token),
        ("team_id", ws.team_id),
        ("team_domain", ws.team_domain),
        ("channel_id", channel.id),
        ("channel_name", channel_name),
        ("user_id", user.id),
        ("user_name", user.name),
        ("command", command),
        # Slack sends &, < and > in a command's text as entities (with should_escape
        # false, nothing else changes): "Pride & Prejudice" arrives as "Pride &amp; Prejudice".
        # With should_escape true, @mentions also arrive as <@U…|name>.
        (
            "text",
            escaped_command_text(ws, text)
            if command in ws.escaped_commands
            else slack_entities(text),
        ),
        ("api_app_id", ws.app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]


def user_ref(ws: Workspace, user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def team_ref(ws: Workspace) -> dict[str, Any]:
    return {"id": ws.team_id, "domain": ws.team_domain}


def find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None
) -> tuple[str, dict[str, Any]] | None:
    """The (block_id, element) that carries ``action_id`` in ``blocks``."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates: list[Any] = []
        if isinstance(block.get("elements"), list):
            candidates.extend(block["elements"])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    for option in _options(element):
        if option.get("value") == value:
            return copy.deepcopy(option)
    raise ValueError(f"no option with value {value!r} in {element.get('action_id')!r}")


def _initial(element: dict[str, Any]) -> Any:
    """What Slack reports for an input the person left as the form showed it: its
    initial value, option(s), date or time (None when it had none)."""
    for key in ("initial_value", "initial_date", "initial_time", "initial_date_time"):
        if element.get(key) is not None:
            return element[key]
    option = element.get("initial_option")
    if isinstance(option, dict):
        return option.get("value")
    options = element.get("initial_options")
    if isinstance(options, list):
        return [o.get("value") for o in options if isinstance(o, dict)]
    for key in ("initial_user", "initial_conversation", "initial_channel"):
        if element.get(key) is not None:
            return element[key]
    for key in ("initial_users", "initial_conversations", "initial_channels"):
        if element.get(key) is not None:
            return list(element[key])
    return None


def element_value(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The state/action fields Slack reports for ``element`` set to ``value``.

    ``value`` is what the person entered: text for inputs, an option value for selects
    (a list of values for multi-selects and checkboxes), ``YYYY-MM-DD`` for datepickers,
    ``HH:MM`` for timepickers, ids for user/channel/conversation selects.
    """
    kind = str(element.get("type"))
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        return {"value": None if value is None else str(value)}
    if kind in ("static_select", "radio_buttons", "overflow", "external_select"):
        return {"selected_option": None if value is None else _option(element, value)}
    if kind in ("multi_static_select", "checkboxes"):
        values = [] if value is None else ([value] if isinstance(value, str) else list(value))
        return {"selected_options": [_option(element, v) for v in values]}
    if kind == "datepicker":
        return {"selected_date": value}
    if kind == "timepicker":
        return {"selected_time": value}
    if kind == "datetimepicker":
        return {"selected_date_time": value}
    if kind == "users_select":
        return {"selected_user": value}
    if kind == "multi_users_select":
        return {"selected_users": list(value or [])}
    if kind == "conversations_select":
        return {"selected_conversation": value}
    if kind == "multi_conversations_select":
        return {"selected_conversations": list(value or [])}
    if kind == "channels_select":
        return {"selected_channel": value}
    if kind == "multi_channels_select":
        return {"selected_channels": list(value or [])}
    if kind == "rich_text_input":
        return {"rich_text_value": value}
    return {"value": value}


def action_body(
    block_id_: str, element: dict[str, Any], value: Any, action_ts: str
) -> dict[str, Any]:
    """One entry of a block_actions payload's ``actions``."""
    kind = str(element.get("type"))
    action: dict[str, Any] = {"action_id": element.get("action_id"), "block_id": block_id_}
    if kind == "button":
        action["text"] = copy.deepcopy(element.get("text"))
        if value is not None or "value" in element:
            action["value"] = value if value is not None else element.get("value")
        if element.get("style"):
            action["style"] = element["style"]
    else:
        action.update(element_value(element, value))
    action["type"] = kind
    action["action_ts"] = action_ts
    return action


def view_state(view: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``view.state`` for the person's entries, covering every input block."""
    known: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view.get("blocks", []):
        element = block.get("element")
        if block.get("type") == "input" and isinstance(element, dict):
            known.setdefault(str(block.get("block_id")), {})[str(element.get("action_id"))] = (
                element
            )
    for block_key, actions in values.items():
        for action_id in actions:
            if action_id not in known.get(block_key, {}):
                raise ValueError(f"the view has no input {block_key!r}/{action_id!r}")
    state: dict[str, dict[str, Any]] = {}
    for block_key, elements in known.items():
        state[block_key] = {}
        for action_id, element in elements.items():
            entry: dict[str, Any] = {"type": element.get("type")}
            given = values.get(block_key, {})
            entered = given[action_id] if action_id in given else _initial(element)
            entry.update(element_value(element, entered))
            state[block_key][action_id] = entry
    return {"values": state}
