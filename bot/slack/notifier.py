"""The services' Notifier port, over Slack's Web API."""

from __future__ import annotations

import email.utils
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.metadata import Metadata

from bot.domain.digests import Digest
from bot.domain.model import PlanView, Reflection, Step
from bot.domain.notes import MessageRef, Note
from bot.domain.pairs import Person
from bot.domain.polls import Poll
from bot.domain.prompts import PromptContent
from bot.domain.schedule import usable_zone
from bot.services.ports import DeliveryFailed
from bot.slack import blocks
from bot.slack.blocks import polls as poll_blocks

logger = logging.getLogger(__name__)

PERMANENT_ERRORS = {
    "channel_not_found",
    "message_not_found",
    "user_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
}


def retry_after_seconds(headers: Mapping[str, Any]) -> float | None:
    """Slack's ``Retry-After`` in seconds, or None when there is none that makes sense.

    Any case of the name; a value or a list of them (the first counts); seconds (a
    fraction is kept: the prompt service rounds it up) or an HTTP date. Nonsense
    (negative, not finite, unparseable) is None, so the caller uses its own backoff.
    """
    value: Any = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


class ChannelPacer:
    """Keeps posts to one channel at most one per ``interval`` (Slack: about 1 message/s)."""

    def __init__(
        self,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.monotonic = monotonic
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel_id: str) -> None:
        with self._lock:
            now = self.monotonic()
            slot = max(now, self._next.get(channel_id, now))
            self._next[channel_id] = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


class SlackNotifier:
    """Posts prompts, catch-ups and reminders. Slack failures become :class:`DeliveryFailed`.

    Give it a client *without* a rate-limit retry handler: the scheduler turns a 429's
    Retry-After into a retry time in the database instead of sleeping on it.
    """

    def __init__(self, client: WebClient, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or ChannelPacer()
        self._bot_user_id: str | None = None
        # Display names change rarely; one users.info per person per process is plenty.
        self._names: dict[str, str] = {}
        self._names_lock = threading.Lock()

    def _call(self, method: str, **kwargs: Any) -> Any:
        if method == "chat_postMessage" and str(kwargs.get("channel", "")).startswith(("C", "G")):
            self.pacer.wait(str(kwargs["channel"]))
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            response = exc.response
            error = str(response.get("error") or f"HTTP {response.status_code}")
            retry_after = None
            if response.status_code == 429:  # a missing or senseless header: our own backoff
                retry_after = retry_after_seconds(response.headers or {})
            raise DeliveryFailed(
                error, retry_after=retry_after, permanent=error in PERMANENT_ERRORS
            ) from exc
        except (SlackClientError, OSError) as exc:  # network trouble, timeouts
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc

    def post_prompt(self, channel_id: str, content: PromptContent) -> str:
        message = blocks.prompt_message(content)
        response = self._call(
            "chat_postMessage",
            channel=channel_id,
            text=message.text,
            blocks=message.blocks,
            metadata=Metadata(
                event_type=blocks.PROMPT_EVENT,
                event_payload={
                    "step_id": content.step_id,
                    "plan_id": content.plan_id,
                    "step": content.step_number,
                },
            ),
            unfurl_links=False,
        )
        return str(response["ts"])

    def find_prompt(self, channel_id: str, step_id: int, since: datetime) -> str | None:
        cursor: str | None = None
        while True:  # every page: many messages may have come after the prompt
            response = self._call(
                "conversations_history",
                channel=channel_id,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == blocks.PROMPT_EVENT
                    and payload.get("step_id") == step_id
                ):
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None

    def post_catch_up(
        self,
        channel_id: str,
        book_title: str,
        missed: Sequence[Step],
        timezone: str,
        next_step: Step | None,
    ) -> None:
        self._post(channel_id, blocks.catch_up_message(book_title, missed, timezone, next_step))

    def bot_user_id(self) -> str:
        if self._bot_user_id is None:
            self._bot_user_id = str(self._call("auth_test").get("user_id") or "")
        return self._bot_user_id

    def announce_plan_started(self, channel_id: str, view: PlanView) -> None:
        self._post(channel_id, blocks.plan_started(view))

    def can_post(self, channel_id: str) -> bool:
        try:
            channel = self._call("conversations_info", channel=channel_id).get("channel") or {}
        except DeliveryFailed as exc:
            if exc.reason in ("channel_not_found", "not_in_channel"):
                return False
            raise
        if channel.get("is_im") or channel.get("is_mpim"):
            return True
        return bool(channel.get("is_member", True))

    def channel_members(self, channel_id: str) -> list[str]:
        members: list[str] = []
        cursor = None
        while True:
            page = self._call("conversations_members", channel=channel_id, limit=200, cursor=cursor)
            members.extend(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        bot = self.bot_user_id()
        return [m for m in members if m != bot]

    def post_reflection(
        self, channel_id: str, thread_ts: str, reflection: Reflection, step: Step
    ) -> str:
        return self._post(channel_id, blocks.reflection_echo(reflection, step), thread_ts=thread_ts)

    def update_reflection(
        self, channel_id: str, ts: str, reflection: Reflection, step: Step
    ) -> None:
        message = blocks.reflection_echo(reflection, step)
        self._call(
            "chat_update", channel=channel_id, ts=ts, text=message.text, blocks=message.blocks
        )

    def delete_message(self, channel_id: str, ts: str) -> None:
        try:
            self._call("chat_delete", channel=channel_id, ts=ts)
        except DeliveryFailed as exc:
            if exc.reason != "message_not_found":
                raise

    def _post(self, channel_id: str, message: blocks.Message, **extra: Any) -> str:
        """Post a built message; returns its ts."""
        response = self._call(
            "chat_postMessage",
            channel=channel_id,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            **extra,
        )
        return str(response["ts"])

    def post_digest(self, channel_id: str, digest: Digest) -> list[str]:
        return [
            self._post(channel_id, message)
            for message in blocks.digest_messages(digest, self._permalinks(digest))
        ]

    def update_digest(self, channel_id: str, ts_values: Sequence[str], digest: Digest) -> list[str]:
        messages = blocks.digest_messages(digest, self._permalinks(digest))
        kept: list[str] = []
        for i, message in enumerate(messages):
            ts = ts_values[i] if i < len(ts_values) else None
            if ts is not None:
                try:
                    self._call(
                        "chat_update",
                        channel=channel_id,
                        ts=ts,
                        text=message.text,
                        blocks=message.blocks,
                    )
                    kept.append(ts)
                    continue
                except DeliveryFailed as exc:
                    if exc.reason != "message_not_found":
                        raise
            # It grew, or someone deleted that part: a new message.
            kept.append(self._post(channel_id, message))
        for ts in ts_values[len(messages) :]:  # it shrank: messages no longer needed
            self.delete_message(channel_id, ts)
        return kept

    def _permalinks(self, digest: Digest) -> dict[str, str]:
        """Links to the quoted messages, for "view" next to each highlight."""
        permalinks: dict[str, str] = {}
        for highlight in digest.highlights:
            if highlight.ts:
                try:
                    found = self._call(
                        "chat_getPermalink", channel=highlight.channel_id, message_ts=highlight.ts
                    )
                    permalinks[highlight.ts] = str(found.get("permalink") or "")
                except DeliveryFailed:
                    logger.info("no permalink for %s", highlight.ts)
        return permalinks

    def send_file(
        self, user_id: str, filename: str, title: str, content: str, comment: str
    ) -> None:
        dm = self._call("conversations_open", users=user_id)
        self._call(
            "files_upload_v2",
            channel=dm["channel"]["id"],
            filename=filename,
            title=title,
            content=content,
            initial_comment=comment,
        )

    # --- notes to people (mentoring pairs) ---------------------------------------------

    def send_note(self, user_id: str, note: Note) -> MessageRef:
        dm = self._call("conversations_open", users=user_id)["channel"]["id"]
        return MessageRef(dm, self._post(dm, blocks.note_message(note)))

    def post_note(self, channel_id: str, note: Note) -> MessageRef:
        return MessageRef(channel_id, self._post(channel_id, blocks.note_message(note)))

    def update_note(self, ref: MessageRef, note: Note) -> None:
        message = blocks.note_message(note)
        self._call(
            "chat_update",
            channel=ref.channel_id,
            ts=ref.ts,
            text=message.text,
            blocks=message.blocks,
        )

    def open_conversation(self, user_ids: Sequence[str]) -> str:
        return str(self._call("conversations_open", users=",".join(user_ids))["channel"]["id"])

    # --- polls ---------------------------------------------------------------------------

    def _proposers(self, poll: Poll) -> dict[str, str]:
        return self.user_names([c.proposed_by for c in poll.candidates])

    def post_poll(self, channel_id: str, poll: Poll) -> str:
        return self._post(channel_id, poll_blocks.ballot_message(poll, self._proposers(poll)))

    def update_poll(self, channel_id: str, ts: str, poll: Poll) -> None:
        message = poll_blocks.ballot_message(poll, self._proposers(poll))
        self._call(
            "chat_update", channel=channel_id, ts=ts, text=message.text, blocks=message.blocks
        )

    def post_poll_result(self, channel_id: str, poll: Poll) -> str:
        message = poll_blocks.result_message(poll)
        return self._post(
            channel_id,
            message,
            metadata=Metadata(
                event_type=poll_blocks.RESULT_EVENT, event_payload={"poll_id": poll.id}
            ),
        )

    def find_poll_result(self, channel_id: str, poll_id: int, since: datetime) -> str | None:
        cursor: str | None = None
        while True:
            response = self._call(
                "conversations_history",
                channel=channel_id,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == poll_blocks.RESULT_EVENT
                    and payload.get("poll_id") == poll_id
                ):
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None

    # --- files shared with the bot --------------------------------------------------------

    def download_file(self, url: str, max_bytes: int) -> bytes:
        """GET a file's ``url_private_download`` with the bot token, as Slack asks.

        The token goes only to Slack's file host, or to the host of the configured Web
        API (the emulator's), never along a redirect; a web page instead of the file
        (Slack's answer to a token without ``files:read``) is a failure, not a book.
        """
        parts = urlsplit(url)
        api = urlsplit(self.client.base_url)
        trusted = {"files.slack.com", api.hostname}
        if parts.hostname not in trusted or parts.scheme not in ("https", "http"):
            raise DeliveryFailed("untrusted_file_url", permanent=True)
        if parts.scheme == "http" and parts.hostname != api.hostname:
            raise DeliveryFailed("untrusted_file_url", permanent=True)
        request = urllib.request.Request(url, method="GET")
        # Unredirected: a redirect to another host must never carry the bot's token.
        request.add_unredirected_header("Authorization", f"Bearer {self.client.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.client.timeout) as response:
                if response.headers.get_content_type() == "text/html":
                    raise DeliveryFailed("not_allowed_to_download", permanent=True)
                data: bytes = response.read(max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(
                f"HTTP {exc.code}", permanent=exc.code in (401, 403, 404)
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}") from None
        if len(data) > max_bytes:
            raise DeliveryFailed("file_too_large", permanent=True)
        return data

    # --- Directory ---------------------------------------------------------------------

    def permalink(self, channel_id: str, ts: str) -> str | None:
        try:
            found = self._call("chat_getPermalink", channel=channel_id, message_ts=ts)
        except DeliveryFailed as exc:
            logger.info("no permalink for a message: %s", exc.reason)
            return None
        return str(found.get("permalink") or "") or None

    def person(self, user_id: str) -> Person:
        try:
            user = dict(self._call("users_info", user=user_id).get("user") or {})
        except DeliveryFailed as exc:
            if exc.reason == "user_not_found":
                return Person(user_id, found=False)
            raise
        return Person(
            user_id,
            found=bool(user),
            is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
            deleted=bool(user.get("deleted")),
        )

    def user_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        for user_id in dict.fromkeys(user_ids):
            with self._names_lock:
                cached = self._names.get(user_id)
            if cached is not None:
                names[user_id] = cached
                continue
            user = self._user(user_id)
            if user is None:
                names[user_id] = user_id  # not cached: it may work next time
                continue
            profile = user.get("profile") or {}
            name = str(
                profile.get("display_name") or user.get("real_name") or user.get("name") or user_id
            )
            with self._names_lock:
                self._names[user_id] = name
            names[user_id] = name
        return names

    def _user(self, user_id: str) -> dict[str, Any] | None:
        """``users.info``'s user, or None when Slack cannot say."""
        try:
            return dict(self._call("users_info", user=user_id).get("user") or {})
        except DeliveryFailed as exc:
            logger.warning("users.info failed for %s: %s", user_id, exc.reason)
            return None

    def is_admin(self, user_id: str) -> bool:
        user = self._user(user_id) or {}  # unknown: not an admin
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    def user_timezone(self, user_id: str) -> str | None:
        tz = (self._user(user_id) or {}).get("tz")
        return str(tz) if tz else None

    def channel_name(self, channel_id: str) -> str:
        try:
            channel = self._call("conversations_info", channel=channel_id).get("channel") or {}
        except DeliveryFailed:
            return channel_id
        if channel.get("is_im"):
            return channel_id
        return str(channel.get("name") or channel_id)

    def remind(
        self, user_id: str, channel_id: str, thread_ts: str | None, content: PromptContent
    ) -> None:
        permalink = None
        if thread_ts:
            try:
                permalink = self._call(
                    "chat_getPermalink", channel=channel_id, message_ts=thread_ts
                ).get("permalink")
            except DeliveryFailed:
                permalink = None
        own = usable_zone(self.user_timezone(user_id))  # the deadline in their own time
        self._post(
            user_id,
            blocks.reminder_message(content, channel_id, permalink, own),
        )
