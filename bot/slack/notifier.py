"""The services' Notifier port, over Slack's Web API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.metadata import Metadata

from bot.domain.digests import Digest
from bot.domain.model import Reflection, Step
from bot.domain.prompts import PromptContent
from bot.services.ports import DeliveryFailed
from bot.slack import blocks

logger = logging.getLogger(__name__)

PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
}


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
            if response.status_code == 429:
                header = response.headers.get("Retry-After") or response.headers.get("retry-after")
                retry_after = float(header[0] if isinstance(header, list) else header or 1)
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
        message = blocks.catch_up_message(book_title, missed, timezone, next_step)
        self._call("chat_postMessage", channel=channel_id, text=message.text, blocks=message.blocks)

    def bot_user_id(self) -> str:
        if self._bot_user_id is None:
            self._bot_user_id = str(self._call("auth_test").get("user_id") or "")
        return self._bot_user_id

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
        message = blocks.reflection_echo(reflection, step)
        response = self._call(
            "chat_postMessage",
            channel=channel_id,
            thread_ts=thread_ts,
            text=message.text,
            blocks=message.blocks,
        )
        return str(response["ts"])

    def post_digest(self, channel_id: str, digest: Digest) -> list[str]:
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
        posted = []
        for message in blocks.digest_messages(digest, permalinks):
            response = self._call(
                "chat_postMessage",
                channel=channel_id,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
            )
            posted.append(str(response["ts"]))
        return posted

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

    # --- Directory ---------------------------------------------------------------------

    def user_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        for user_id in dict.fromkeys(user_ids):
            with self._names_lock:
                cached = self._names.get(user_id)
            if cached is not None:
                names[user_id] = cached
                continue
            try:
                user = self._call("users_info", user=user_id).get("user") or {}
            except DeliveryFailed:
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
        message = blocks.reminder_message(content, channel_id, permalink)
        self._call("chat_postMessage", channel=user_id, text=message.text, blocks=message.blocks)
