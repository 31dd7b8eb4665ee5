"""Block Kit and text limits: refused like Slack, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator
from bot.emulator.validation import validate_message_blocks, validate_view
from tests.emulator.conftest import ALICE, GENERAL


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "Reflection", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("hello")],
    }
    view.update(extra)
    return view


def refuse(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as excinfo:
        call()
    data = excinfo.value.response.data
    assert isinstance(data, dict)
    return data


def test_fifty_blocks_ok_fifty_one_refused(web: WebClient, emulator: SlackEmulator) -> None:
    web.chat_postMessage(channel=GENERAL, text="50", blocks=[section("x")] * 50)
    body = refuse(
        lambda: web.chat_postMessage(channel=GENERAL, text="51", blocks=[section("x")] * 51)
    )
    assert body["error"] == "invalid_blocks"
    assert body["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert body["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert [m.text for m in emulator.messages(GENERAL)] == ["50"]


def test_section_text_3000_ok_3001_refused(web: WebClient, emulator: SlackEmulator) -> None:
    web.chat_postMessage(channel=GENERAL, text="ok", blocks=[section("a" * 3000)])
    body = refuse(
        lambda: web.chat_postMessage(channel=GENERAL, text="long", blocks=[section("a" * 3001)])
    )
    assert body["error"] == "invalid_blocks"
    assert body["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert len(emulator.messages(GENERAL)) == 1


def test_header_and_ids(web: WebClient) -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    body = refuse(lambda: web.chat_postMessage(channel=GENERAL, text="h", blocks=[header]))
    assert body["error"] == "invalid_blocks"
    assert "/blocks/0/text/text" in body["response_metadata"]["messages"][0]
    long_id = {**section("x"), "block_id": "b" * 256}
    body = refuse(lambda: web.chat_postMessage(channel=GENERAL, text="x", blocks=[long_id]))
    assert "/blocks/0/block_id" in body["response_metadata"]["messages"][0]
    button = {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "a" * 256,
                "text": {"type": "plain_text", "text": "Go"},
            }
        ],
    }
    body = refuse(lambda: web.chat_postMessage(channel=GENERAL, text="x", blocks=[button]))
    assert "/blocks/0/elements/0/action_id" in body["response_metadata"]["messages"][0]


def test_malformed_blocks(web: WebClient) -> None:
    for bad in (
        [{"type": "sektion", "text": {"type": "mrkdwn", "text": "typo"}}],
        [{"text": "no type"}],
        [{"type": "section"}],
        [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
        [{"type": "header", "text": {"type": "mrkdwn", "text": "headers are plain"}}],
        ["not an object"],
    ):
        body = refuse(lambda bad=bad: web.chat_postMessage(channel=GENERAL, text="x", blocks=bad))
        assert body["error"] == "invalid_blocks", bad
        assert body["response_metadata"]["messages"][0].startswith("[ERROR] ")


def test_text_limits(web: WebClient, emulator: SlackEmulator) -> None:
    web.chat_postMessage(channel=GENERAL, text="t" * 40_000)
    body = refuse(lambda: web.chat_postMessage(channel=GENERAL, text="t" * 40_001))
    assert body == {"ok": False, "error": "msg_too_long"}
    body = refuse(lambda: web.api_call("chat.postMessage", json={"channel": GENERAL}))
    assert body == {"ok": False, "error": "no_text"}
    body = refuse(lambda: web.chat_postEphemeral(channel=GENERAL, user=ALICE, text="e" * 40_001))
    assert body["error"] == "msg_too_long"
    assert len(emulator.messages(GENERAL)) == 1


def test_view_limits_through_views_open(web: WebClient, emulator: SlackEmulator) -> None:
    def open_view(view: dict[str, Any]) -> dict[str, Any]:
        trigger = emulator.workspace.issue_trigger(ALICE)
        return refuse(lambda: web.views_open(trigger_id=trigger, view=view))

    body = open_view(modal("t" * 25))
    # Slack answers views.* schema errors with invalid_arguments (+ the pointer).
    assert body["error"] == "invalid_arguments"
    assert body["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    body = open_view(modal(submit={"type": "plain_text", "text": "s" * 25}))
    assert "/view/submit/text" in body["response_metadata"]["messages"][0]
    body = open_view(modal(private_metadata="m" * 3001))
    assert "/view/private_metadata" in body["response_metadata"]["messages"][0]
    body = open_view(modal(callback_id="c" * 256))
    assert "/view/callback_id" in body["response_metadata"]["messages"][0]
    body = open_view({**modal(), "blocks": [section("x")] * 101})
    assert "no more than 100 items" in body["response_metadata"]["messages"][0]
    assert emulator.open_views() == []
    # exactly at the limits is fine
    trigger = emulator.workspace.issue_trigger(ALICE)
    web.views_open(
        trigger_id=trigger,
        view={**modal("t" * 24, private_metadata="m" * 3000), "blocks": [section("x")] * 100},
    )
    assert len(emulator.open_views(ALICE)) == 1


def test_home_view_allows_100_blocks(web: WebClient, emulator: SlackEmulator) -> None:
    web.views_publish(user_id=ALICE, view={"type": "home", "blocks": [section("x")] * 100})
    body = refuse(
        lambda: web.views_publish(
            user_id=ALICE, view={"type": "home", "blocks": [section("x")] * 101}
        )
    )
    assert body["error"] == "invalid_arguments"
    home = emulator.home_view(ALICE)
    assert home is not None and len(home["blocks"]) == 100


def test_validators_accept_good_payloads() -> None:
    rich = [
        {"type": "header", "text": {"type": "plain_text", "text": "Week 3"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"f{i}"} for i in range(10)]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Done"}, "value": "1"},
                {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}],
                },
            ],
        },
    ]
    assert validate_message_blocks(rich) == []
    assert validate_view({"type": "home", "blocks": rich}) == []
    too_many_fields = [
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"} for _ in range(11)]}
    ]
    assert validate_message_blocks(too_many_fields) == [
        "[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/fields]"
    ]
