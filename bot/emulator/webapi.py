"""The Web API methods the emulator speaks, each a function of (workspace, params).

``METHOD_ERRORS`` declares every error code a method can answer with (besides the
authentication errors common to all); the conformance suite checks these against
Slack's OpenAPI spec.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from bot.emulator import payloads
from bot.emulator.validation import message_text_too_long, validate_message_blocks, validate_view
from bot.emulator.workspace import SlackError, Workspace

AUTH_ERRORS = frozenset({"not_authed", "invalid_auth"})

#: The bot-token scopes each method accepts (any one will do), as Slack's method pages
#: list them; a method not named here needs none. A token without any of them gets
#: ``missing_scope`` (which Slack answers on every method, so it is not in METHOD_ERRORS).
_READ = ("channels:read", "groups:read", "im:read", "mpim:read")
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "conversations.info": _READ,
    "conversations.members": _READ,
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.open": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "users.info": ("users:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}

METHOD_ERRORS: dict[str, frozenset[str]] = {
    "auth.test": frozenset({"token_revoked", "account_inactive"}),
    "chat.postMessage": frozenset(
        {
            "channel_not_found",
            "not_in_channel",
            "is_archived",
            "msg_too_long",
            "no_text",
            "invalid_blocks",
            "thread_not_found",
        }
    ),
    "chat.postEphemeral": frozenset(
        {
            "channel_not_found",
            "is_archived",
            "msg_too_long",
            "no_text",
            "user_not_in_channel",
            "invalid_blocks",
        }
    ),
    "chat.update": frozenset(
        {
            "message_not_found",
            "cant_update_message",
            "channel_not_found",
            "msg_too_long",
            "no_text",
            "invalid_blocks",
        }
    ),
    "chat.delete": frozenset({"message_not_found", "channel_not_found", "cant_delete_message"}),
    "chat.getPermalink": frozenset({"channel_not_found", "message_not_found"}),
    "conversations.info": frozenset({"channel_not_found"}),
    "conversations.history": frozenset(
        {"channel_not_found", "invalid_ts_oldest", "invalid_ts_latest"}
    ),
    "conversations.members": frozenset({"channel_not_found", "invalid_limit", "invalid_cursor"}),
    "conversations.open": frozenset(
        {"user_not_found", "users_list_not_supplied", "too_many_users", "channel_not_found"}
    ),
    "users.info": frozenset({"user_not_found"}),
    "views.open": frozenset(
        {
            "invalid_arguments",
            "invalid_trigger_id",
            "expired_trigger_id",
            "exchanged_trigger_id",
            "duplicate_external_id",
        }
    ),
    "views.push": frozenset(
        {
            "invalid_arguments",
            "invalid_trigger_id",
            "expired_trigger_id",
            "exchanged_trigger_id",
            "duplicate_external_id",
            "push_limit_reached",
        }
    ),
    "views.update": frozenset(
        {"invalid_arguments", "not_found", "hash_conflict", "duplicate_external_id"}
    ),
    "views.publish": frozenset(
        {"invalid_arguments", "user_not_found", "hash_conflict", "not_found"}
    ),
    "files.getUploadURLExternal": frozenset({"invalid_arguments"}),
    "files.completeUploadExternal": frozenset(
        {"invalid_arguments", "file_not_found", "channel_not_found", "thread_not_found"}
    ),
}

#: Keys besides ``ok`` and ``error`` that a method's error body may carry. Slack sends
#: ``response_metadata`` (and ``errors`` from chat.postMessage) only for these methods.
ERROR_EXTRA_KEYS: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"response_metadata", "errors"}),
    "chat.update": frozenset({"response_metadata"}),
    "views.open": frozenset({"response_metadata"}),
    "views.push": frozenset({"response_metadata"}),
    "views.update": frozenset({"response_metadata"}),
    "views.publish": frozenset({"response_metadata"}),
    "files.getUploadURLExternal": frozenset({"response_metadata"}),
    "files.completeUploadExternal": frozenset({"response_metadata"}),
}


def error_body(method: str, error: SlackError) -> dict[str, Any]:
    """The JSON body of a refusal, with only the keys Slack sends for ``method``."""
    allowed = ERROR_EXTRA_KEYS.get(method, frozenset())
    return {k: v for k, v in error.body().items() if k in ("ok", "error") or k in allowed}


#: Parameters that carry JSON text in form bodies and query strings.
JSON_PARAMS = ("blocks", "attachments", "metadata", "view", "files")


class Params:
    """Typed access to a request's merged parameters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value) if isinstance(value, dict | list) else str(value)

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def get_int(self, name: str, default: int, *, error: str = "invalid_arguments") -> int:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise SlackError(error) from exc

    def get_obj(self, name: str) -> Any:
        """A JSON parameter (already decoded, or decoded now)."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value


Handler = Callable[[Workspace, Params], dict[str, Any]]


def decode_json_params(values: dict[str, Any]) -> dict[str, Any]:
    """Decode the JSON-string parameters (``blocks``, ``view``, …) into objects."""
    out = dict(values)
    for key in JSON_PARAMS:
        value = out.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                out[key] = json.loads(value)
    return out


# ---------------------------------------------------------------------- helpers


def _message_content(
    p: Params, *, require_content: bool = True
) -> tuple[str | None, list[dict[str, Any]] | None]:
    text = p.get_str("text")
    blocks = p.get_obj("blocks")
    if blocks in ("", None):
        blocks = None
    if blocks is not None:
        errors = validate_message_blocks(blocks)
        if errors:
            raise SlackError(
                "invalid_blocks",
                messages=errors,
                extra={"errors": [e.removeprefix("[ERROR] ") for e in errors]},
            )
    if message_text_too_long(text):
        raise SlackError("msg_too_long")
    if require_content and not text and not blocks and not p.get_obj("attachments"):
        raise SlackError("no_text")
    return text, blocks


def _visible_channel(ws: Workspace, value: str | None) -> Any:
    if not value:
        raise SlackError("channel_not_found")
    channel = ws.resolve_channel(value)
    # Another workspace's conversation does not exist for this token.
    if not ws.bot_can_see(channel) or ws.team_of(channel) != ws.acting_team:
        raise SlackError("channel_not_found")
    return channel


def _metadata(p: Params) -> dict[str, Any] | None:
    metadata = p.get_obj("metadata")
    if isinstance(metadata, dict) and metadata.get("event_type"):
        return {
            "event_type": metadata["event_type"],
            "event_payload": metadata.get("event_payload", {}),
        }
    return None


def _view_arg(p: Params, *, kinds: tuple[str, ...]) -> dict[str, Any]:
    view = p.get_obj("view")
    if view is None:
        raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    errors = validate_view(view)
    if not errors and view.get("type") not in kinds:
        errors = [f"[ERROR] view type must be one of {', '.join(kinds)} [json-pointer:/view/type]"]
    if errors:
        raise SlackError("invalid_arguments", messages=errors)
    return dict(view)


# ---------------------------------------------------------------------- methods


def auth_test(ws: Workspace, p: Params) -> dict[str, Any]:
    bot = ws.user(ws.bot_user_id)
    team = ws.team(ws.acting_team)
    return {
        "ok": True,
        "url": f"https://{team.domain}.slack.com/",
        "team": team.name,
        "user": bot.name,
        "team_id": team.id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _visible_channel(ws, p.get_str("channel"))
    if channel.is_archived:
        raise SlackError("is_archived")
    text, blocks = _message_content(p)
    thread_ts = p.get_str("thread_ts") or None
    broadcast = bool(thread_ts) and p.get_bool("reply_broadcast")
    message = ws.post_message(
        channel.id,
        user=ws.bot_user_id,
        text=text or "",
        blocks=blocks,
        thread_ts=thread_ts,
        metadata=_metadata(p),
        from_bot=True,
        reply_broadcast=broadcast,
        subtype="thread_broadcast" if broadcast else None,
    )
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "message": ws.bot_message_json(message),
    }


def chat_post_ephemeral(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _visible_channel(ws, p.get_str("channel"))
    if channel.is_archived:
        raise SlackError("is_archived")
    user_id = p.get_str("user") or ""
    if not ws.has_user(user_id) or user_id not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks = _message_content(p)
    message = ws.post_ephemeral(
        channel.id, user_id, text=text or "", blocks=blocks, thread_ts=p.get_str("thread_ts")
    )
    return {"ok": True, "message_ts": message.ts}


def chat_update(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _visible_channel(ws, p.get_str("channel"))
    ts = p.get_str("ts") or ""
    message = ws.find_message(channel.id, ts)
    if message is None:
        raise SlackError("message_not_found")
    if message.bot_id is None:
        raise SlackError("cant_update_message")
    text, blocks = _message_content(p)
    _, updated = ws.edit_message(
        channel.id,
        ts,
        text=text,
        blocks=blocks,
        metadata=_metadata(p),
    )
    return {
        "ok": True,
        "channel": channel.id,
        "ts": updated.ts,
        "text": updated.text,
        "message": ws.bot_message_json(updated, for_update=True),
    }


def chat_delete(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _visible_channel(ws, p.get_str("channel"))
    ts = p.get_str("ts") or ""
    message = ws.find_message(channel.id, ts)
    if message is None:
        raise SlackError("message_not_found")
    if message.bot_id is None:
        raise SlackError("cant_delete_message")
    ws.delete_message(channel.id, ts)
    return {"ok": True, "channel": channel.id, "ts": ts}


def chat_get_permalink(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _visible_channel(ws, p.get_str("channel"))
    ts = p.get_str("message_ts") or ""
    message = ws.find_message(channel.id, ts)
    if message is None:
        raise SlackError("message_not_found")
    return {
        "ok": True,
        "permalink": ws.permalink(channel.id, ts, message.thread_ts),
        "channel": channel.id,
    }


def conversations_info(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _visible_channel(ws, p.get_str("channel"))
    return {
        "ok": True,
        "channel": ws.channel_json(channel, num_members=p.get_bool("include_num_members")),
    }


def conversations_history(ws: Workspace, p: Params) -> dict[str, Any]:
    """Top-level messages (and broadcasts), newest first; metadata only when asked for."""
    channel = _visible_channel(ws, p.get_str("channel"))
    # Slack clamps a history page to 1..999 rather than refusing the limit.
    limit = min(999, max(1, p.get_int("limit", 100, error="invalid_arguments")))
    try:
        oldest = float(p.get_str("oldest") or 0)
    except ValueError as exc:
        raise SlackError("invalid_ts_oldest") from exc
    try:
        latest = float(p.get_str("latest") or "inf")
    except ValueError as exc:
        raise SlackError("invalid_ts_latest") from exc
    with_metadata = p.get_bool("include_all_metadata")
    found = [
        m
        for m in ws.messages(channel.id)
        if not m.deleted
        and (m.thread_ts in (None, m.ts) or m.reply_broadcast)
        and oldest < float(m.ts) <= latest
    ]
    found.sort(key=lambda m: float(m.ts), reverse=True)
    try:
        start = _decode_cursor(p.get_str("cursor") or "") if p.get_str("cursor") else 0
    except SlackError:
        start = 0  # an unknown cursor reads from the newest message
    page = found[start : start + limit]
    end = start + len(page)
    messages = []
    for message in page:
        body = payloads.message_body(ws, message)
        if not with_metadata:
            body.pop("metadata", None)
        messages.append(body)
    return {
        "ok": True,
        "messages": messages,
        "has_more": end < len(found),
        "pin_count": 0,
        "response_metadata": {"next_cursor": _encode_cursor(end) if end < len(found) else ""},
    }


def conversations_members(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _visible_channel(ws, p.get_str("channel"))
    limit = p.get_int("limit", 100, error="invalid_limit")
    if limit < 1 or limit > 1000:
        raise SlackError("invalid_limit")
    cursor = p.get_str("cursor") or ""
    start = 0
    if cursor:
        start = _decode_cursor(cursor)
        if start > len(channel.members):
            raise SlackError("invalid_cursor")
    members = list(channel.members)
    page = members[start : start + limit]
    end = start + len(page)
    next_cursor = _encode_cursor(end) if end < len(members) else ""
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}


def _encode_cursor(offset: int) -> str:
    import base64

    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    import base64
    import binascii

    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
        prefix, _, number = raw.partition(":")
        if prefix != "offset":
            raise ValueError(raw)
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise SlackError("invalid_cursor") from exc


def conversations_open(ws: Workspace, p: Params) -> dict[str, Any]:
    channel_arg = p.get_str("channel")
    users_arg = p.get_str("users")
    if channel_arg and not users_arg:
        channel = ws.channel(channel_arg)
        if ws.team_of(channel) != ws.acting_team:
            raise SlackError("channel_not_found")
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel.id}}
    if not users_arg:
        raise SlackError("users_list_not_supplied")
    user_ids = [u.strip() for u in users_arg.split(",") if u.strip()]
    if len(user_ids) > 8:
        raise SlackError("too_many_users")
    for user_id in user_ids:
        ws.user(user_id)
    others = [u for u in user_ids if u != ws.bot_user_id] or user_ids
    if len(others) == 1:
        existed = ws.has_dm(others[0])
        channel = ws.channel(ws.dm_channel(others[0]))
        body: dict[str, Any] = {"ok": True}
        if existed:
            body.update({"no_op": True, "already_open": True})
        body["channel"] = ws.im_json(channel) if p.get_bool("return_im") else {"id": channel.id}
        return body
    channel = ws.channel(ws.mpim_channel(others))
    return {"ok": True, "channel": {"id": channel.id}}


def users_info(ws: Workspace, p: Params) -> dict[str, Any]:
    user = ws.user(p.get_str("user") or "")
    return {"ok": True, "user": ws.user_json(user)}


def views_open(ws: Workspace, p: Params) -> dict[str, Any]:
    view = _view_arg(p, kinds=("modal",))
    trigger_id = p.get_str("trigger_id")
    if not trigger_id:
        raise SlackError(
            "invalid_arguments", messages=["[ERROR] missing required field: trigger_id"]
        )
    user_id = ws.exchange_trigger(trigger_id)
    return {"ok": True, "view": ws.open_modal(user_id, view)}


def views_push(ws: Workspace, p: Params) -> dict[str, Any]:
    view = _view_arg(p, kinds=("modal",))
    trigger_id = p.get_str("trigger_id")
    if not trigger_id:
        raise SlackError(
            "invalid_arguments", messages=["[ERROR] missing required field: trigger_id"]
        )
    user_id = ws.exchange_trigger(trigger_id)
    return {"ok": True, "view": ws.push_modal(user_id, view)}


def views_update(ws: Workspace, p: Params) -> dict[str, Any]:
    view_id = p.get_str("view_id")
    external_id = p.get_str("external_id")
    if not view_id and not external_id:
        raise SlackError(
            "invalid_arguments", messages=["[ERROR] either view_id or external_id is required"]
        )
    view = _view_arg(p, kinds=("modal", "home"))
    target = ws.find_view_id(view_id=view_id, external_id=external_id)
    return {"ok": True, "view": ws.update_view(target, view, hash_=p.get_str("hash"))}


def views_publish(ws: Workspace, p: Params) -> dict[str, Any]:
    user_id = p.get_str("user_id")
    if not user_id:
        raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: user_id"])
    view = _view_arg(p, kinds=("home",))
    return {"ok": True, "view": ws.publish_home(user_id, view, hash_=p.get_str("hash"))}


def files_get_upload_url_external(ws: Workspace, p: Params) -> dict[str, Any]:
    filename = p.get_str("filename")
    length = p.get_int("length", -1)
    if not filename or length < 0:
        raise SlackError(
            "invalid_arguments", messages=["[ERROR] missing required field: filename, length"]
        )
    file_id, upload_url = ws.start_upload(filename, length, ws.bot_user_id)
    return {"ok": True, "upload_url": upload_url, "file_id": file_id}


def files_complete_upload_external(ws: Workspace, p: Params) -> dict[str, Any]:
    files = p.get_obj("files")
    if not isinstance(files, list) or not files:
        raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: files"])
    records = []
    for item in files:
        record = ws.file(str(item.get("id"))) if isinstance(item, dict) else None
        if record is None or record.content is None:
            raise SlackError("file_not_found")
        records.append((record, item))
    channel_arg = p.get_str("channel_id") or (p.get_str("channels") or "").split(",")[0] or None
    channel = _visible_channel(ws, channel_arg) if channel_arg else None
    thread_ts = p.get_str("thread_ts") or None
    comment = p.get_str("initial_comment")
    out = []
    with ws.lock:
        for record, item in records:
            record.title = str(item.get("title") or record.name)
            record.completed = True
            if channel is not None:
                record.channel = channel.id
                record.thread_ts = thread_ts
                record.initial_comment = comment
            out.append(ws.file_json(record))
        if channel is not None:
            ws.post_message(
                channel.id,
                user=ws.bot_user_id,
                text=comment or "",
                thread_ts=thread_ts,
                from_bot=True,
                files=out,
                subtype="file_share",
            )
    return {"ok": True, "files": out}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.getPermalink": chat_get_permalink,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.members": conversations_members,
    "conversations.open": conversations_open,
    "users.info": users_info,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}
