"""Fixtures: a seeded emulator on a fake clock, a slack_sdk client, and a recording app."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.emulator import FakeClock, SlackAppClient, SlackEmulator

ALICE = "U0ALICE0001"
BOB = "U0BOB000002"
CAROL = "U0CAROL0003"
GENERAL = "C0GENERAL01"
PRIVATE = "C0PRIVATE01"
SECRET = "emulator-test-signing-secret"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[SlackEmulator]:
    emu = SlackEmulator(clock=clock)
    emu.add_user(ALICE, "alice", real_name="Alice Archer", is_admin=True)
    emu.add_user(BOB, "bob", real_name="Bob Baker", tz="America/New_York")
    emu.add_user(CAROL, "carol", real_name="Carol Cook", tz="Asia/Tokyo")
    emu.add_channel(GENERAL, "general", members=[ALICE, BOB, emu.bot_user_id])
    emu.add_channel(PRIVATE, "book-club", is_private=True, members=[ALICE, emu.bot_user_id])
    with emu:
        yield emu


@pytest.fixture
def web(emulator: SlackEmulator) -> WebClient:
    return WebClient(token=emulator.bot_token, base_url=emulator.api_url)


@dataclass
class Received:
    """One request the recording app received."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


Responder = Callable[[Received], tuple[int, dict[str, str], bytes]]


@dataclass
class RecordingApp:
    """A tiny HTTP app that verifies Slack signatures and records every request."""

    url: str
    received: list[Received] = field(default_factory=list)
    responder: Responder = field(default=lambda r: (200, {}, b""))


@pytest.fixture
def app() -> Iterator[RecordingApp]:
    verifier = SignatureVerifier(SECRET)
    lock = threading.Lock()
    state: dict[str, RecordingApp] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            received = Received(self.path, headers, body, verifier.is_valid_request(body, headers))
            recorder = state["app"]
            with lock:
                recorder.received.append(received)
            status, extra, reply = (
                recorder.responder(received) if received.verified else (401, {}, b"invalid")
            )
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["app"] = RecordingApp(url=f"http://127.0.0.1:{server.server_address[1]}/slack/events")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield state["app"]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def slack(emulator: SlackEmulator, app: RecordingApp) -> Iterator[SlackAppClient]:
    client = SlackAppClient(emulator, app.url, SECRET)
    yield client
    client.close()
