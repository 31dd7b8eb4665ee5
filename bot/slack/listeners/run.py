"""The "Run …" buttons on the bot's answers: a command the member meant, run as typed.

"Did you mean `/reflect list`?", "Which book: #3 or #5?", "did you mean Europe/London?"
all offer the corrected command as a button. Clicking it runs that command exactly as
if the member had typed it, through the same command path, answering in place of the
question.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack import blocks
from bot.slack.listeners.common import SlackDeps, ephemeral_via, replying
from bot.slack.text import escape

_MENTION_TOKEN = re.compile(r"(<@[UW][A-Z0-9]+(?:\|[^<>]*)?>)")


def escape_keeping_mentions(text: str) -> str:
    """Escape everything but Slack's own mention tokens."""
    return "".join(
        part if _MENTION_TOKEN.fullmatch(part) else escape(part)
        for part in _MENTION_TOKEN.split(text)
    )


def register(app: App, deps: SlackDeps) -> None:
    from bot.slack.listeners.books import run_book_command
    from bot.slack.listeners.pairs import run_mentor_command
    from bot.slack.listeners.reflections import run_reflect_command

    runners = {
        "/book": run_book_command,
        "/reflect": run_reflect_command,
        "/mentor": run_mentor_command,
    }

    def run_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        line = str(((body.get("actions") or [{}])[0]).get("value") or "")
        name, _, text = line.partition(" ")
        user = body["user"]["id"]
        channel = str(
            (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id")
            or user
        )
        command = {
            "command": name,
            "team_id": body["team"]["id"],
            "user_id": user,
            "channel_id": channel,
            # As Slack would send it: &, < and > as entities (decoded once by the command),
            # mentions as Slack's own tokens (they came from Slack into our button).
            "text": escape_keeping_mentions(text),
            "trigger_id": body.get("trigger_id") or "",
        }

        def in_place(**kwargs: Any) -> Any:
            """Answers replace the question; announcements to the channel stay separate."""
            if kwargs.get("response_type") == "ephemeral":
                kwargs["replace_original"] = True
            return respond(**kwargs)

        def work() -> None:
            with replying(ephemeral_via(respond), f"{name} button"):
                runner = runners.get(name)
                if runner is None:
                    respond(**_notice("That button is out of date."))
                    return
                runner(deps, command, in_place, client)  # type: ignore[arg-type]

        deps.later(work, f"{name} button")

    app.action(blocks.RUN_ACTIONS)(run_command)


def _notice(text: str) -> dict[str, Any]:
    message = blocks.notice(text)
    return {"text": message.text, "blocks": message.blocks, "response_type": "ephemeral"}
