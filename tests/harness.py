"""End-to-end harness: the real bolt app served over HTTP, driven by signed requests,
talking to the loopback Slack emulator. Nothing in bot/ knows it is a test."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.bootstrap import Runtime, build_runtime
from bot.config import Settings
from bot.emulator.client import AppResponse, SlackAppClient
from bot.emulator.models import Message
from bot.emulator.server import SlackEmulator
from bot.services.ports import FakeClock
from bot.serving import HttpServer
from tests.process_helpers import emulator_settings

SECRET = "test-signing-secret"
CLUB = "C0BOOKCLUB1"
OTHER = "C0OTHERCHAN"
ALICE, BOB, CAROL, DAVE = "U0ALICE0001", "U0BOB000001", "U0CAROL0001", "U0DAVE00001"


def block_text(blocks: list[dict[str, Any]]) -> str:
    """Every text a person would read in these blocks, joined by newlines."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                out.append(node["text"])
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


@dataclass
class Harness:
    emulator: SlackEmulator
    runtime: Runtime
    server: HttpServer
    slack: SlackAppClient
    clock: FakeClock

    def drain(self) -> None:
        assert self.runtime.executor.drain(timeout=30), "lazy listeners did not finish"

    def command(
        self, user: str, command: str, text: str = "", channel: str = CLUB
    ) -> list[dict[str, Any]]:
        """Send a slash command; return what the bot posted to its response_url."""
        before = len(self.emulator.response_url_posts())
        response = self.slack.slash_command(command, text, user_id=user, channel_id=channel)
        assert response.status == 200, response.text
        assert response.body in (b"", b"{}"), f"ack carried a body: {response.text}"
        self.drain()
        posts = self.emulator.response_url_posts()[before:]
        refused = [(p["status"], p["response"]) for p in posts if p["status"] != 200]
        assert not refused, f"Slack refused the bot's answer: {refused}"
        return [p["payload"] for p in posts]

    def say(self, user: str, command: str, text: str = "", channel: str = CLUB) -> str:
        """The text of the bot's replies to a command, as a person reads it (entities decoded)."""
        return html.unescape(
            "\n".join(
                block_text(p.get("blocks") or []) or p.get("text", "")
                for p in self.command(user, command, text, channel)
            )
        )

    def submit(self, view_id: str, values: dict[str, dict[str, Any]], user: str) -> AppResponse:
        response = self.slack.view_submission(view_id, values, user_id=user)
        self.drain()
        return response

    def click(self, user: str, message: Message, action_id: str, value: str = "") -> None:
        """``user`` clicks a button (``action_id``, ``value``) of ``message``, wherever it
        is, and the work the click started is finished."""
        response = self.slack.block_action(
            user_id=user,
            channel_id=message.channel,
            message_ts=message.ts,
            action_id=action_id,
            value=value,
        )
        assert response.status == 200, response.text
        self.drain()

    def last_view(self, user: str) -> dict[str, Any]:
        views = self.emulator.open_views(user)
        assert views, "no modal is open"
        return views[-1]

    def channel_texts(self, channel: str = CLUB) -> list[str]:
        return [block_text(m.blocks) or m.text for m in self.emulator.messages(channel)]

    def ephemeral_texts(self, user: str) -> list[str]:
        return [block_text(m.blocks) or m.text for m in self.emulator.ephemerals(user)]


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[SlackEmulator]:
    # Slack's message timestamps follow the same (virtual) time as the bot.
    emu = SlackEmulator(clock=lambda: clock.now().timestamp())
    emu.add_user(ALICE, "alice", real_name="Alice Host", tz="Europe/Berlin")
    emu.add_user(BOB, "bob", real_name="Bob Reader", tz="America/New_York")
    emu.add_user(CAROL, "carol", real_name="Carol Admin", is_admin=True)
    emu.add_user(DAVE, "dave", real_name="Dave Elsewhere")
    emu.add_channel(CLUB, "book-club", members=[ALICE, BOB, CAROL, emu.bot_user_id])
    emu.add_channel(OTHER, "random", members=[ALICE, DAVE, emu.bot_user_id])
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def settings(emulator: SlackEmulator, database_url: str) -> Settings:
    return emulator_settings(
        emulator,
        database_url,
        secret=SECRET,
        default_timezone="Europe/Berlin",
        channel_post_interval_seconds=0,  # pacing has its own test, with a fake clock
    )


@pytest.fixture
def harness(
    emulator: SlackEmulator, settings: Settings, clean_engine: Engine, clock: FakeClock
) -> Iterator[Harness]:
    runtime = build_runtime(settings, clock=clock)
    server = HttpServer(runtime.wsgi, "127.0.0.1", 0).start()
    runtime.serving_at(server.url)
    slack = SlackAppClient(emulator, f"{server.url}/slack/events", SECRET)
    yield Harness(emulator, runtime, server, slack, clock)
    slack.close()
    server.stop()
    runtime.close()


def view_values(view: dict[str, Any]) -> dict[str, str]:
    return {
        b["block_id"]: b["element"]["type"]
        for b in view.get("blocks", [])
        if b.get("type") == "input"
    }


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
