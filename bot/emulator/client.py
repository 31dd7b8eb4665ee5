"""``SlackAppClient``: plays Slack towards the bot's HTTP endpoint.

It sends signed requests shaped like Slack's own (slash commands, Events API
callbacks, block actions, view submissions) and, for user-side actions (posting,
editing, deleting, reacting), changes the emulated workspace first and then delivers
the matching event, as Slack does.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.emulator import payloads
from bot.emulator.models import Message
from bot.emulator.server import SlackEmulator
from bot.emulator.validation import validate_view
from bot.emulator.workspace import SlackError


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: ``v0=hex(HMAC_SHA256(secret, "v0:" + ts + ":" + body))``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class AppResponse:
    """The app's answer to one request."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float
    request_body: bytes = field(default=b"", repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (``None`` for an empty body)."""
        return json.loads(self.body) if self.body.strip() else None


class SlackAppClient:
    """Acts as Slack towards the app at ``request_url`` (e.g. ``…/slack/events``).

    Every request is signed with ``signing_secret``; ``trigger_id`` and ``response_url``
    values are issued by ``emulator`` so that ``views.open`` and response_url posts
    made by the app land in the emulated workspace.
    """

    def __init__(
        self,
        emulator: SlackEmulator,
        request_url: str,
        signing_secret: str,
        *,
        api_app_id: str = "A0READALONG",
        verification_token: str = "emulator-verification-token",
        timeout: float = 10.0,
    ) -> None:
        self.emulator = emulator
        self.request_url = request_url
        self.signing_secret = signing_secret
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self.timeout = timeout
        parts = urlsplit(request_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {request_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()
        self._ws = emulator.workspace

    # ------------------------------------------------------------------ transport

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            cls = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's keep-alive connection."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def send_raw(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> AppResponse:
        """POST ``body`` signed (or with the given ``timestamp``/``signature``)."""
        ts = timestamp if timestamp is not None else str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature
            if signature is not None
            else sign(self.signing_secret, ts, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "application/json,*/*",
        }
        headers.update(extra_headers or {})
        for attempt in range(2):
            conn = self._connection()
            reused = getattr(self._local, "used", False)
            started = time.perf_counter()
            try:
                conn.request("POST", self._path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                self._local.used = False
                if reused and attempt == 0:
                    continue  # a stale keep-alive connection: retry once on a fresh one
                raise
            except OSError:
                self.close()
                self._local.used = False
                raise
            elapsed = (time.perf_counter() - started) * 1000
            self._local.used = True
            if response.getheader("Connection", "").lower() == "close":
                self.close()
                self._local.used = False
            return AppResponse(
                status=response.status,
                headers={k: v for k, v in response.getheaders()},
                body=data,
                elapsed_ms=elapsed,
                request_body=body,
            )
        raise RuntimeError("unreachable")

    def _send_form(self, fields: list[tuple[str, str]]) -> AppResponse:
        return self.send_raw(urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def _send_payload(self, payload: dict[str, Any]) -> AppResponse:
        return self._send_form([("payload", json.dumps(payload))])

    def send_form(
        self,
        fields: list[tuple[str, str]] | dict[str, str],
        *,
        timestamp: str | None = None,
        signature: str | None = None,
    ) -> AppResponse:
        """POST any form (signed unless ``signature`` is given), e.g. a doctored command."""
        items = list(fields.items()) if isinstance(fields, dict) else fields
        return self.send_raw(
            urlencode(items).encode(),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
        )

    def send_payload(
        self, payload: Any, *, timestamp: str | None = None, signature: str | None = None
    ) -> AppResponse:
        """POST any interactivity payload (form field ``payload``, JSON), signed."""
        return self.send_form(
            [("payload", json.dumps(payload))], timestamp=timestamp, signature=signature
        )

    def send_json(
        self, body: Any, *, timestamp: str | None = None, signature: str | None = None
    ) -> AppResponse:
        """POST any JSON body (as Events API callbacks are sent), signed."""
        return self.send_raw(
            json.dumps(body).encode(), "application/json", timestamp=timestamp, signature=signature
        )

    def slash_command_fields(
        self, command: str, text: str, *, user_id: str, channel_id: str
    ) -> list[tuple[str, str]]:
        """The form :meth:`slash_command` would send (fresh response_url and trigger_id)."""
        user = self._user(user_id)
        channel = self._channel(channel_id)
        return payloads.slash_command_form(
            self._ws,
            command=command if command.startswith("/") else "/" + command,
            text=text,
            user=user,
            channel=channel,
            response_url=self._ws.issue_response_url(
                "commands", channel_id=channel.id, user_id=user.id
            ),
            trigger_id=self._ws.issue_trigger(user.id),
            verification_token=self.verification_token,
        )

    # ------------------------------------------------------------------ helpers

    def _user(self, user_id: str) -> Any:
        try:
            return self._ws.user(user_id)
        except SlackError as exc:
            raise ValueError(f"unknown user {user_id!r}") from exc

    def _channel(self, channel_id: str) -> Any:
        try:
            return self._ws.channel(channel_id)
        except SlackError as exc:
            raise ValueError(f"unknown channel {channel_id!r}") from exc

    def _event_id(self) -> str:
        return self._ws.new_id("Ev")

    # ------------------------------------------------------------------ requests to the app

    def slash_command(
        self, command: str, text: str, *, user_id: str, channel_id: str
    ) -> AppResponse:
        """Send a slash command, as typed by ``user_id`` in ``channel_id``."""
        fields = self.slash_command_fields(command, text, user_id=user_id, channel_id=channel_id)
        return self._send_form(fields)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> AppResponse:
        """Deliver an Events API callback; ``retry_num`` adds Slack's retry headers."""
        event_ts = str(event.get("event_ts") or self._ws.next_ts())
        envelope = payloads.event_envelope(
            self._ws,
            event,
            event_id=event_id or self._event_id(),
            event_time=int(float(event_ts)),
            verification_token=self.verification_token,
        )
        extra: dict[str, str] = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.send_raw(json.dumps(envelope).encode(), "application/json", extra_headers=extra)

    def block_action(
        self,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
    ) -> AppResponse:
        """Click/select the element ``action_id`` of a message (ephemeral ones too).

        ``value`` overrides a button's value, or picks the option/date/user of a select.
        """
        user = self._user(user_id)
        channel = self._channel(channel_id)
        message = self._ws.find_message(channel.id, message_ts)
        is_ephemeral = False
        if message is None:
            message = self._ws.find_ephemeral(channel.id, message_ts)
            is_ephemeral = message is not None
        if message is None:
            raise ValueError(f"no message {message_ts} in {channel_id}")
        found = payloads.find_element(message.blocks, action_id, block_id)
        if found is None:
            raise ValueError(f"message {message_ts} has no element {action_id!r}")
        found_block_id, element = found
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": channel.id,
            "is_ephemeral": is_ephemeral,
        }
        if message.thread_ts and message.is_reply:
            container["thread_ts"] = message.thread_ts
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": payloads.user_ref(self._ws, user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": self._ws.issue_trigger(user.id),
            "team": payloads.team_ref(self._ws),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel.id, "name": _channel_name(channel)},
        }
        if not is_ephemeral:
            payload["message"] = payloads.message_body(self._ws, message)
        payload["state"] = {"values": {}}
        payload["response_url"] = self._ws.issue_response_url(
            "actions",
            channel_id=channel.id,
            user_id=user.id,
            message_ts=message.ts,
            source_ephemeral=is_ephemeral,
        )
        payload["actions"] = [
            payloads.action_body(found_block_id, element, value, self._ws.next_ts())
        ]
        return self._send_payload(payload)

    def view_block_action(
        self,
        *,
        user_id: str,
        view_id: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
    ) -> AppResponse:
        """Click an element of a view (App Home, or an open modal), as Slack sends it:
        ``container.type`` ``view``, the view itself, no ``response_url``."""
        user = self._user(user_id)
        with self._ws.lock:
            record = self._ws.view(view_id)
            if record.user_id != user.id:
                raise ValueError(f"view {view_id} belongs to {record.user_id}, not {user.id}")
            view = json.loads(json.dumps(record.view))
        found = payloads.find_element(view.get("blocks") or [], action_id, block_id)
        if found is None:
            raise ValueError(f"view {view_id} has no element {action_id!r}")
        found_block_id, element = found
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": payloads.user_ref(self._ws, user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": self._ws.issue_trigger(user.id),
            "team": payloads.team_ref(self._ws),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view,
            "actions": [payloads.action_body(found_block_id, element, value, self._ws.next_ts())],
        }
        return self._send_payload(payload)

    def view_submission(
        self, view_id: str, values: dict[str, dict[str, Any]], *, user_id: str
    ) -> AppResponse:
        """Submit an open modal with ``values[block_id][action_id]`` entered.

        Applies the app's ``response_action`` like Slack: ``errors`` keeps the view open,
        ``update`` replaces it, ``push`` stacks a new one, ``clear`` closes the stack;
        a plain 200 closes the view.
        """
        user = self._user(user_id)
        with self._ws.lock:
            record = self._ws.view(view_id)
            if not record.is_open or record.kind != "modal":
                raise ValueError(f"view {view_id} is not an open modal")
            if record.user_id != user.id:
                raise ValueError(f"view {view_id} belongs to {record.user_id}, not {user.id}")
            record.view["state"] = payloads.view_state(record.view, values)
            view = json.loads(json.dumps(record.view))
        payload = {
            "type": "view_submission",
            "team": payloads.team_ref(self._ws),
            "user": payloads.user_ref(self._ws, user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self._ws.issue_trigger(user.id),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        response = self._send_payload(payload)
        self._apply_response_action(view_id, user.id, response)
        return response

    def _apply_response_action(self, view_id: str, user_id: str, response: AppResponse) -> None:
        if response.status != 200:
            return  # Slack shows the person an error and leaves the modal open
        try:
            answer = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            answer = None
        action = answer.get("response_action") if isinstance(answer, dict) else None
        if action == "errors":
            return
        if action in ("update", "push"):
            new_view = answer.get("view") if isinstance(answer, dict) else None
            if validate_view(new_view):
                return  # Slack refuses an invalid view; the modal stays as it was
            assert isinstance(new_view, dict)
            if action == "update":
                self._ws.update_view(view_id, new_view)
            else:
                self._ws.push_modal(user_id, new_view)
            return
        self._ws.close_view(view_id, clear=action == "clear")

    def view_closed(self, view_id: str, *, user_id: str) -> AppResponse:
        """Close a modal (the person clicked Cancel/×) and send ``view_closed``."""
        user = self._user(user_id)
        with self._ws.lock:
            record = self._ws.view(view_id)
            view = json.loads(json.dumps(record.view))
            self._ws.close_view(view_id, clear=True)
        payload = {
            "type": "view_closed",
            "team": payloads.team_ref(self._ws),
            "user": payloads.user_ref(self._ws, user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "view": view,
            "response_urls": [],
            "is_cleared": True,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._send_payload(payload)

    def app_home_opened(self, user_id: str, *, tab: str = "home") -> AppResponse:
        """The person opened the app's Home tab (or, ``tab="messages"``, its Messages tab:
        their DM with the app). The current Home view comes along with the Home tab only."""
        self._user(user_id)
        if tab not in ("home", "messages"):
            raise ValueError(f"an app has no {tab!r} tab")
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self._ws.dm_channel(user_id),
            "tab": tab,
            "event_ts": self._ws.next_ts(),
        }
        home = self._ws.home_view(user_id) if tab == "home" else None
        if home is not None:
            event["view"] = home
        return self.event(event)

    # ------------------------------------------------------------------ user-side actions

    def _check_member(self, user_id: str, channel_id: str) -> Any:
        self._user(user_id)
        channel = self._channel(channel_id)
        if user_id not in channel.members:
            raise ValueError(f"{user_id} is not a member of {channel_id}")
        return channel

    def user_posts(
        self,
        user_id: str,
        channel_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> tuple[str, AppResponse]:
        """The person posts (a reply when ``thread_ts``); returns (ts, app response)."""
        channel = self._check_member(user_id, channel_id)
        message = self._ws.post_message(
            channel.id,
            user=user_id,
            text=text,
            blocks=payloads.rich_text_blocks(text) if text else None,
            thread_ts=thread_ts,
            files=files,
            subtype="file_share" if files else None,
            client_msg_id=str(uuid.uuid4()),
        )
        event = payloads.message_event(self._ws, message, channel)
        return message.ts, self.event(event)

    def user_shares_file(
        self,
        user_id: str,
        channel_id: str,
        filename: str,
        content: bytes,
        *,
        title: str | None = None,
        text: str = "",
    ) -> tuple[str, AppResponse | None]:
        """The person uploads a file into a conversation (their DM with the app: pass
        ``dm_channel(user)``). Slack hosts it (the app downloads it from its
        ``url_private_download`` with the bot token) and sends the ``file_share`` message
        event where the app is a member; returns (ts, the app's response or None)."""
        channel = self._check_member(user_id, channel_id)
        message = self._ws.share_file(
            user_id, channel.id, filename, content, title=title, text=text
        )
        if not self.app_hears(channel.id):
            return message.ts, None
        event = payloads.message_event(self._ws, message, channel)
        return message.ts, self.event(event)

    def message_shortcut(
        self, *, user_id: str, channel_id: str, message_ts: str, callback_id: str
    ) -> AppResponse:
        """The person runs the app's message shortcut ``callback_id`` on a message: a
        ``message_action`` payload (with a trigger_id and a response_url), as Slack sends."""
        user = self._user(user_id)
        channel = self._check_member(user_id, channel_id)
        message = self._ws.find_message(channel.id, message_ts)
        if message is None:
            raise ValueError(f"no message {message_ts} in {channel_id}")
        payload: dict[str, Any] = {
            "type": "message_action",
            "token": self.verification_token,
            "action_ts": self._ws.next_ts(),
            "team": payloads.team_ref(self._ws),
            "user": {"id": user.id, "name": user.name, "team_id": self._ws.team_id},
            "channel": {"id": channel.id, "name": _channel_name(channel)},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self._ws.issue_trigger(user.id),
            "response_url": self._ws.issue_response_url(
                "app", channel_id=channel.id, user_id=user.id
            ),
            "message_ts": message.ts,
            "message": payloads.message_body(self._ws, message),
        }
        return self._send_payload(payload)

    def app_hears(self, channel_id: str) -> bool:
        """Whether Slack sends the app the messages and reactions of this conversation: only
        where the app is a member (never a DM between two people)."""
        return self._ws.bot_user_id in self._channel(channel_id).members

    def user_posts_unheard(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> str:
        """The person posts where the app is not a member (see :meth:`app_hears`): the
        message is in the conversation, and Slack sends the app nothing. Returns its ts."""
        channel = self._check_member(user_id, channel_id)
        if self.app_hears(channel.id):
            raise ValueError(f"the app is in {channel_id}: use user_posts")
        message = self._ws.post_message(
            channel.id,
            user=user_id,
            text=text,
            blocks=payloads.rich_text_blocks(text) if text else None,
            thread_ts=thread_ts,
            client_msg_id=str(uuid.uuid4()),
        )
        return message.ts

    def user_reacts_unheard(self, user_id: str, channel_id: str, ts: str, reaction: str) -> None:
        """A reaction where the app is not a member: nothing is sent to the app."""
        channel = self._check_member(user_id, channel_id)
        if self.app_hears(channel.id):
            raise ValueError(f"the app is in {channel_id}: use user_reacts")
        try:
            self._ws.react(channel.id, ts, user_id, reaction)
        except SlackError as exc:
            raise ValueError(f"no message {ts} in {channel_id}") from exc

    def member_joins(
        self, user_id: str, channel_id: str, *, inviter: str | None = None
    ) -> AppResponse | None:
        """The person joins a channel (or ``inviter`` adds them, the app included). The app
        gets ``member_joined_channel`` if it is a member by then (for its own join too);
        ``None`` when nothing was sent (already a member, or the app is not in it)."""
        user = self._user(user_id)
        channel = self._channel(channel_id)
        if channel.is_im or channel.is_mpim:
            raise ValueError(f"{channel_id} is a DM: nobody can join it")
        if inviter is not None:
            self._check_member(inviter, channel.id)
        if user.id in channel.members:
            return None
        self._ws.join(channel.id, user.id)
        if not self.app_hears(channel.id):
            return None
        event = payloads.member_joined_channel_event(
            self._ws, user.id, channel, self._ws.next_ts(), inviter=inviter
        )
        return self.event(event)

    def user_edits(self, user_id: str, channel_id: str, ts: str, text: str) -> AppResponse:
        """The person edits their message: ``message_changed``."""
        channel = self._check_member(user_id, channel_id)
        self._own_message(user_id, channel.id, ts)
        previous, current = self._ws.edit_message(
            channel.id, ts, text=text, blocks=payloads.rich_text_blocks(text)
        )
        event_ts = current.edited_ts or self._ws.next_ts()
        return self.event(
            payloads.message_changed_event(self._ws, previous, current.copy(), channel, event_ts)
        )

    def user_deletes(self, user_id: str, channel_id: str, ts: str) -> AppResponse:
        """The person deletes their message (admins: any message): ``message_deleted``."""
        channel = self._check_member(user_id, channel_id)
        if not self._user(user_id).is_admin:
            self._own_message(user_id, channel.id, ts)
        previous = self._ws.delete_message(channel.id, ts)
        event_ts = self._ws.next_ts()
        return self.event(payloads.message_deleted_event(self._ws, previous, channel, event_ts))

    def user_reacts(
        self, user_id: str, channel_id: str, ts: str, reaction: str, *, removed: bool = False
    ) -> AppResponse:
        """The person adds (or removes) a reaction: ``reaction_added``/``reaction_removed``."""
        channel = self._check_member(user_id, channel_id)
        try:
            message = self._ws.react(channel.id, ts, user_id, reaction, removed=removed).copy()
        except SlackError as exc:
            raise ValueError(f"no message {ts} in {channel_id}") from exc
        event = payloads.reaction_event(
            user_id, message, reaction, self._ws.next_ts(), removed=removed
        )
        return self.event(event)

    def _own_message(self, user_id: str, channel_id: str, ts: str) -> Message:
        message = self._ws.find_message(channel_id, ts)
        if message is None:
            raise ValueError(f"no message {ts} in {channel_id}")
        if message.user != user_id or message.bot_id is not None:
            raise ValueError(f"message {ts} was not posted by {user_id}")
        return message


def _channel_name(channel: Any) -> str:
    if channel.is_im:
        return "directmessage"
    return str(channel.name)
