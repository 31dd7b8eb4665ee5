"""SlackAppClient: signed requests shaped like Slack's, and user-side actions."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.emulator import SlackAppClient, SlackEmulator, sign
from tests.emulator.conftest import (
    ALICE,
    BOB,
    CAROL,
    GENERAL,
    PRIVATE,
    SECRET,
    RecordingApp,
    Responder,
)


def last_json(app: RecordingApp) -> dict[str, Any]:
    return dict(json.loads(app.received[-1].body))


def last_payload(app: RecordingApp) -> dict[str, Any]:
    form = parse_qs(app.received[-1].body.decode())
    return dict(json.loads(form["payload"][0]))


def test_sign_is_slack_hmac() -> None:
    body = b"token=x&text=hi"
    expected = hmac.new(b"s3cret", b"v0:1531420618:" + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", "1531420618", body) == "v0=" + expected


def test_requests_pass_slack_sdk_signature_verification(
    slack: SlackAppClient, app: RecordingApp
) -> None:
    response = slack.slash_command("/readalong", "help", user_id=ALICE, channel_id=GENERAL)
    assert response.status == 200
    received = app.received[-1]
    assert received.verified
    assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"
    now = int(time.time())
    assert abs(int(received.headers["X-Slack-Request-Timestamp"]) - now) <= 5
    assert received.path == "/slack/events"


def test_forged_and_stale_requests_are_rejected(slack: SlackAppClient, app: RecordingApp) -> None:
    body = b'{"type":"event_callback"}'
    forged = slack.send_raw(body, "application/json", signature="v0=" + "0" * 64)
    assert forged.status == 401 and not app.received[-1].verified
    stale_ts = str(int(time.time()) - 301)
    stale = slack.send_raw(
        body, "application/json", timestamp=stale_ts, signature=sign(SECRET, stale_ts, body)
    )
    assert stale.status == 401
    good = slack.send_raw(body, "application/json")
    assert good.status == 200 and app.received[-1].verified
    assert good.elapsed_ms >= 0


def test_slash_command_form_and_trigger(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator, web: WebClient
) -> None:
    app.responder = lambda r: (200, {"Content-Type": "application/json"}, b'{"text":"ok"}')
    response = slack.slash_command("readalong", "join Dune", user_id=ALICE, channel_id=GENERAL)
    assert response.json() == {"text": "ok"} and response.text == '{"text":"ok"}'
    form = {k: v[0] for k, v in parse_qs(app.received[-1].body.decode()).items()}
    assert form["command"] == "/readalong"
    assert form["text"] == "join Dune"
    assert (form["user_id"], form["user_name"]) == (ALICE, "alice")
    assert (form["channel_id"], form["channel_name"]) == (GENERAL, "general")
    assert (form["team_id"], form["team_domain"]) == (emulator.team_id, emulator.team_domain)
    assert form["api_app_id"] == "A0READALONG"
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Join"}, "blocks": []}
    opened = web.views_open(trigger_id=form["trigger_id"], view=view)
    assert emulator.open_views(ALICE) == [opened["view"]]


def test_event_envelope_and_retry_headers(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator
) -> None:
    event = {"type": "member_joined_channel", "user": BOB, "channel": GENERAL, "event_ts": "1.2"}
    slack.event(event, event_id="Ev0RETRY0001")
    first = last_json(app)
    assert first["type"] == "event_callback"
    assert first["event"] == event
    assert first["event_id"] == "Ev0RETRY0001"
    assert first["team_id"] == emulator.team_id and first["api_app_id"] == "A0READALONG"
    assert first["authorizations"][0]["user_id"] == emulator.bot_user_id
    assert first["authorizations"][0]["is_bot"] is True
    assert first["event_context"].startswith("4-")
    assert "X-Slack-Retry-Num" not in app.received[-1].headers
    slack.event(event, event_id="Ev0RETRY0001", retry_num=1)
    headers = app.received[-1].headers
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("1", "http_timeout")
    assert last_json(app)["event_id"] == "Ev0RETRY0001"
    slack.event(event)
    assert last_json(app)["event_id"] != "Ev0RETRY0001"


def test_user_posts_and_thread_replies(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator
) -> None:
    ts, response = slack.user_posts(ALICE, GENERAL, "Loved <@U0BOB000002>'s point")
    assert response.status == 200
    event = last_json(app)["event"]
    assert event["type"] == "message" and "subtype" not in event
    assert (event["user"], event["channel"], event["ts"], event["event_ts"]) == (
        ALICE,
        GENERAL,
        ts,
        ts,
    )
    assert event["channel_type"] == "channel"
    assert event["team"] == emulator.team_id
    assert event["client_msg_id"]
    section = event["blocks"][0]["elements"][0]
    assert event["blocks"][0]["type"] == "rich_text"
    assert section["elements"][1] == {"type": "user", "user_id": BOB}

    reply_ts, _ = slack.user_posts(BOB, GENERAL, "thanks!", thread_ts=ts)
    reply = last_json(app)["event"]
    assert (reply["thread_ts"], reply["parent_user_id"], reply["ts"]) == (ts, ALICE, reply_ts)
    assert [m.text for m in emulator.thread(GENERAL, ts)] == [
        "Loved <@U0BOB000002>'s point",
        "thanks!",
    ]
    with pytest.raises(ValueError):
        slack.user_posts(CAROL, GENERAL, "not a member")


def test_channel_types(slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator) -> None:
    slack.user_posts(ALICE, PRIVATE, "psst")
    assert last_json(app)["event"]["channel_type"] == "group"
    slack.user_posts(CAROL, emulator.dm_channel(CAROL), "hello bot")
    assert last_json(app)["event"]["channel_type"] == "im"


def test_user_edits_deletes_and_reacts(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator
) -> None:
    ts, _ = slack.user_posts(ALICE, GENERAL, "first draft")
    slack.user_edits(ALICE, GENERAL, ts, "final answer")
    changed = last_json(app)["event"]
    assert (changed["type"], changed["subtype"], changed["hidden"]) == (
        "message",
        "message_changed",
        True,
    )
    assert changed["message"]["text"] == "final answer"
    assert changed["message"]["ts"] == ts
    assert changed["message"]["edited"]["user"] == ALICE
    assert changed["previous_message"]["text"] == "first draft"
    assert changed["ts"] != ts and changed["channel"] == GENERAL
    [stored] = emulator.messages(GENERAL)
    assert stored.edited and stored.text == "final answer"

    slack.user_reacts(BOB, GENERAL, ts, "books")
    added = last_json(app)["event"]
    assert added == {
        "type": "reaction_added",
        "user": BOB,
        "item": {"type": "message", "channel": GENERAL, "ts": ts},
        "reaction": "books",
        "item_user": ALICE,
        "event_ts": added["event_ts"],
    }
    assert emulator.messages(GENERAL)[0].reactions == {"books": [BOB]}
    slack.user_reacts(BOB, GENERAL, ts, "books", removed=True)
    assert last_json(app)["event"]["type"] == "reaction_removed"
    assert emulator.messages(GENERAL)[0].reactions == {}

    with pytest.raises(ValueError):
        slack.user_edits(BOB, GENERAL, ts, "not mine")
    slack.user_deletes(ALICE, GENERAL, ts)
    deleted = last_json(app)["event"]
    assert (deleted["subtype"], deleted["deleted_ts"]) == ("message_deleted", ts)
    assert deleted["previous_message"]["text"] == "final answer"
    assert emulator.messages(GENERAL)[0].deleted


def test_block_action_payload_and_response_url(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator, web: WebClient
) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Done reading?"}},
        {
            "type": "actions",
            "block_id": "progress",
            "elements": [
                {
                    "type": "button",
                    "action_id": "mark_done",
                    "text": {"type": "plain_text", "text": "Done"},
                    "value": "chapter-3",
                },
                {
                    "type": "static_select",
                    "action_id": "pace",
                    "placeholder": {"type": "plain_text", "text": "Pace"},
                    "options": [
                        {"text": {"type": "plain_text", "text": "Slow"}, "value": "slow"},
                        {"text": {"type": "plain_text", "text": "Fast"}, "value": "fast"},
                    ],
                },
            ],
        },
    ]
    ts = web.chat_postMessage(channel=GENERAL, text="Done reading?", blocks=blocks)["ts"]
    slack.block_action(user_id=BOB, channel_id=GENERAL, message_ts=ts, action_id="mark_done")
    payload = last_payload(app)
    assert payload["type"] == "block_actions"
    assert payload["user"] == {
        "id": BOB,
        "username": "bob",
        "name": "bob",
        "team_id": "T0EMULATOR1",
    }
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": GENERAL,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": GENERAL, "name": "general"}
    assert payload["message"]["ts"] == ts and payload["message"]["blocks"] == blocks
    [action] = payload["actions"]
    assert action["action_id"] == "mark_done" and action["block_id"] == "progress"
    assert (action["type"], action["value"]) == ("button", "chapter-3")
    assert action["text"]["text"] == "Done"
    assert payload["trigger_id"] and payload["response_url"]

    slack.block_action(
        user_id=BOB, channel_id=GENERAL, message_ts=ts, action_id="pace", value="fast"
    )
    [select] = last_payload(app)["actions"]
    assert select["selected_option"]["value"] == "fast"
    assert select["type"] == "static_select"

    hook = WebhookClient(last_payload(app)["response_url"])
    assert hook.send(text="Marked done", replace_original=True).status_code == 200
    [message] = emulator.messages(GENERAL)
    assert (message.text, message.blocks) == ("Marked done", [])
    with pytest.raises(ValueError):
        slack.block_action(user_id=BOB, channel_id=GENERAL, message_ts=ts, action_id="missing")


def test_block_action_on_ephemeral(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator, web: WebClient
) -> None:
    button = {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "skip",
                "text": {"type": "plain_text", "text": "Skip"},
            }
        ],
    }
    ts = web.chat_postEphemeral(channel=GENERAL, user=ALICE, text="skip?", blocks=[button])[
        "message_ts"
    ]
    slack.block_action(user_id=ALICE, channel_id=GENERAL, message_ts=ts, action_id="skip")
    payload = last_payload(app)
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload
    WebhookClient(payload["response_url"]).send(delete_original=True)
    assert emulator.ephemerals(ALICE)[0].deleted


FORM_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "reflect",
    "title": {"type": "plain_text", "text": "Reflection"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "text",
            "label": {"type": "plain_text", "text": "Thoughts"},
            "element": {"type": "plain_text_input", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "mood",
            "label": {"type": "plain_text", "text": "Mood"},
            "element": {
                "type": "radio_buttons",
                "action_id": "v",
                "options": [
                    {"text": {"type": "plain_text", "text": "Good"}, "value": "good"},
                    {"text": {"type": "plain_text", "text": "Meh"}, "value": "meh"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "tags",
            "optional": True,
            "label": {"type": "plain_text", "text": "Tags"},
            "element": {
                "type": "checkboxes",
                "action_id": "v",
                "options": [
                    {"text": {"type": "plain_text", "text": "Plot"}, "value": "plot"},
                    {"text": {"type": "plain_text", "text": "Style"}, "value": "style"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "due",
            "label": {"type": "plain_text", "text": "Due"},
            "element": {"type": "datepicker", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "at",
            "label": {"type": "plain_text", "text": "At"},
            "element": {"type": "timepicker", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "where",
            "label": {"type": "plain_text", "text": "Channel"},
            "element": {"type": "conversations_select", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "who",
            "label": {"type": "plain_text", "text": "Partner"},
            "element": {"type": "users_select", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "pages",
            "label": {"type": "plain_text", "text": "Pages"},
            "element": {"type": "number_input", "action_id": "v", "is_decimal_allowed": False},
        },
    ],
}


def _answer(body: bytes) -> Responder:
    return lambda received: (200, {"Content-Type": "application/json"}, body)


def _open(web: WebClient, emulator: SlackEmulator, user: str = ALICE) -> str:
    trigger = emulator.workspace.issue_trigger(user)
    return str(web.views_open(trigger_id=trigger, view=FORM_VIEW)["view"]["id"])


def test_view_submission_state_and_errors(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator, web: WebClient
) -> None:
    view_id = _open(web, emulator)
    errors = {"response_action": "errors", "errors": {"text": "Too short"}}
    app.responder = lambda r: (
        200,
        {"Content-Type": "application/json"},
        json.dumps(errors).encode(),
    )
    values: dict[str, dict[str, Any]] = {
        "text": {"v": "Great chapter"},
        "mood": {"v": "good"},
        "tags": {"v": ["plot", "style"]},
        "due": {"v": "2024-03-01"},
        "at": {"v": "09:30"},
        "where": {"v": GENERAL},
        "who": {"v": BOB},
        "pages": {"v": 42},
    }
    response = slack.view_submission(view_id, values, user_id=ALICE)
    assert response.json() == errors
    payload = last_payload(app)
    assert payload["type"] == "view_submission"
    assert payload["view"]["id"] == view_id and payload["view"]["callback_id"] == "reflect"
    state = payload["view"]["state"]["values"]
    assert state["text"]["v"] == {"type": "plain_text_input", "value": "Great chapter"}
    assert state["mood"]["v"]["selected_option"]["value"] == "good"
    assert [o["value"] for o in state["tags"]["v"]["selected_options"]] == ["plot", "style"]
    assert state["due"]["v"] == {"type": "datepicker", "selected_date": "2024-03-01"}
    assert state["at"]["v"] == {"type": "timepicker", "selected_time": "09:30"}
    assert state["where"]["v"]["selected_conversation"] == GENERAL
    assert state["who"]["v"]["selected_user"] == BOB
    assert state["pages"]["v"] == {"type": "number_input", "value": "42"}
    assert [v["id"] for v in emulator.open_views(ALICE)] == [view_id]  # errors keep it open

    app.responder = lambda r: (200, {}, b"")
    slack.view_submission(view_id, {"text": {"v": "Longer thoughts"}}, user_id=ALICE)
    assert last_payload(app)["view"]["state"]["values"]["tags"]["v"]["selected_options"] == []
    assert emulator.open_views(ALICE) == []
    with pytest.raises(ValueError):
        slack.view_submission(view_id, {}, user_id=ALICE)  # no longer open


def test_view_submission_response_actions(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator, web: WebClient
) -> None:
    view_id = _open(web, emulator)
    next_view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Thanks"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Saved"}}],
    }
    entries: list[dict[str, dict[str, Any]]] = [{"text": {"v": "x"}}, {}]
    for action, values in zip(("update", "push"), entries, strict=True):
        reply = json.dumps({"response_action": action, "view": next_view}).encode()
        app.responder = _answer(reply)
        slack.view_submission(view_id, values, user_id=ALICE)
    titles = [v["title"]["text"] for v in emulator.open_views(ALICE)]
    assert titles == ["Thanks", "Thanks"]  # updated in place, then pushed on top
    assert emulator.open_views(ALICE)[0]["id"] == view_id
    app.responder = lambda r: (200, {}, b'{"response_action":"clear"}')
    slack.view_submission(view_id, {}, user_id=ALICE)
    assert emulator.open_views(ALICE) == []

    failing = _open(web, emulator)
    app.responder = lambda r: (500, {}, b"boom")
    assert slack.view_submission(failing, {}, user_id=ALICE).status == 500
    assert [v["id"] for v in emulator.open_views(ALICE)] == [failing]
    with pytest.raises(ValueError):
        slack.view_submission(failing, {"nope": {"v": "x"}}, user_id=ALICE)


def test_view_closed_and_app_home_opened(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator, web: WebClient
) -> None:
    view_id = _open(web, emulator)
    slack.view_closed(view_id, user_id=ALICE)
    payload = last_payload(app)
    assert payload["type"] == "view_closed" and payload["view"]["id"] == view_id
    assert emulator.open_views(ALICE) == []

    web.views_publish(user_id=ALICE, view={"type": "home", "blocks": []})
    slack.app_home_opened(ALICE)
    event = last_json(app)["event"]
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", ALICE, "home")
    assert event["channel"] == emulator.dm_channel(ALICE)
    assert event["view"]["type"] == "home"


def test_keep_alive_connection_is_reused(slack: SlackAppClient, app: RecordingApp) -> None:
    for _ in range(3):
        assert slack.event({"type": "app_mention", "user": ALICE, "text": "hi"}).status == 200
    assert len(app.received) == 3
    assert all(r.verified for r in app.received)
