"""End to end with a real slack_bolt App served over HTTP: command → modal → submit."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_sdk import WebClient

from bot.emulator import SlackAppClient, SlackEmulator
from tests.emulator.conftest import ALICE, BOB, GENERAL, SECRET


def build_app(emulator: SlackEmulator) -> App:
    client = WebClient(token=emulator.bot_token, base_url=emulator.api_url)
    app = App(
        token=emulator.bot_token,
        signing_secret=SECRET,
        client=client,
        process_before_response=True,
    )

    @app.command("/reflect")
    def open_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "reflection",
                "private_metadata": body["channel_id"],
                "title": {"type": "plain_text", "text": "Reflection"},
                "submit": {"type": "plain_text", "text": "Post"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "thoughts",
                        "label": {"type": "plain_text", "text": "Thoughts"},
                        "element": {"type": "plain_text_input", "action_id": "value"},
                    }
                ],
            },
        )

    @app.view("reflection")
    def save(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        text = view["state"]["values"]["thoughts"]["value"]["value"]
        if len(text) < 5:
            ack(response_action="errors", errors={"thoughts": "Say a bit more"})
            return
        ack()
        client.chat_postMessage(
            channel=view["private_metadata"], text=f"<@{body['user']['id']}> reflected: {text}"
        )

    @app.command("/status")
    def status(ack: Ack, respond: Respond) -> None:
        ack()
        respond(text="All caught up", response_type="in_channel")

    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient) -> None:
        if event.get("thread_ts"):
            client.chat_postMessage(
                channel=event["channel"], thread_ts=event["thread_ts"], text="noted"
            )

    return app


@pytest.fixture
def bolt_url(emulator: SlackEmulator) -> Iterator[str]:
    app = build_app(emulator)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers: dict[str, str | Sequence[str]] = {
                k.lower(): v for k, v in self.headers.items()
            }
            response = app.dispatch(BoltRequest(body=body.decode(), headers=headers))
            data = response.body.encode()
            self.send_response(response.status)
            for key, values in response.headers.items():
                for value in values:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_command_modal_submission_round_trip(emulator: SlackEmulator, bolt_url: str) -> None:
    slack = SlackAppClient(emulator, bolt_url, SECRET)
    assert slack.slash_command("/reflect", "", user_id=ALICE, channel_id=GENERAL).status == 200
    [view] = emulator.open_views(ALICE)
    assert view["callback_id"] == "reflection"

    short = slack.view_submission(view["id"], {"thoughts": {"value": "meh"}}, user_id=ALICE)
    assert short.json() == {"response_action": "errors", "errors": {"thoughts": "Say a bit more"}}
    assert len(emulator.open_views(ALICE)) == 1

    ok = slack.view_submission(view["id"], {"thoughts": {"value": "Loved it"}}, user_id=ALICE)
    assert ok.status == 200
    assert emulator.open_views(ALICE) == []
    [message] = emulator.messages(GENERAL)
    assert message.text == f"<@{ALICE}> reflected: Loved it"
    assert [c.method for c in emulator.calls] == [
        "auth.test",
        "views.open",
        "chat.postMessage",
    ]


def test_respond_goes_through_response_url(emulator: SlackEmulator, bolt_url: str) -> None:
    slack = SlackAppClient(emulator, bolt_url, SECRET)
    slack.slash_command("/status", "", user_id=BOB, channel_id=GENERAL)
    [post] = emulator.response_url_posts()
    assert post["status"] == 200
    assert post["payload"]["text"] == "All caught up"
    [message] = emulator.messages(GENERAL)
    assert (message.text, message.response_type) == ("All caught up", "in_channel")


def test_bolt_rejects_a_forged_request(emulator: SlackEmulator, bolt_url: str) -> None:
    forger = SlackAppClient(emulator, bolt_url, "not-the-secret")
    assert forger.slash_command("/reflect", "", user_id=ALICE, channel_id=GENERAL).status == 401
    assert emulator.open_views() == []


def test_thread_reply_event_reaches_bolt(emulator: SlackEmulator, bolt_url: str) -> None:
    slack = SlackAppClient(emulator, bolt_url, SECRET)
    parent, _ = slack.user_posts(ALICE, GENERAL, "Chapter 2 thoughts?")
    _, response = slack.user_posts(BOB, GENERAL, "The ending!", thread_ts=parent)
    assert response.status == 200
    assert [m.text for m in emulator.thread(GENERAL, parent)] == [
        "Chapter 2 thoughts?",
        "The ending!",
        "noted",
    ]
