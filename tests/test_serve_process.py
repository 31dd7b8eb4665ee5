"""`readalong serve` as a real process: signed commands over HTTP, health, and a clean SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator.client import SlackAppClient
from bot.emulator.server import SlackEmulator
from tests.process_helpers import ServerProcess, readalong_argv, readalong_env, sqlite_database

SECRET = "process-secret"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, SlackEmulator]]:
    emulator = SlackEmulator().start()
    emulator.add_user("U0ALICE0001", "alice")
    emulator.add_channel("C0BOOKCLUB1", "book-club", members=["U0ALICE0001", emulator.bot_user_id])
    try:
        with sqlite_database(tmp_path) as database:
            env = readalong_env(emulator, database, secret=SECRET, LOG_LEVEL="WARNING")
            serve = ServerProcess(
                "serve", readalong_argv(), env=env, cwd=tmp_path, log_dir=tmp_path
            )
            try:
                yield serve.process, serve.wait_listening(), emulator
            finally:
                serve.kill()
    finally:
        emulator.stop()


def test_signed_book_add_answered_fast_and_healthz(
    served: tuple[subprocess.Popen[str], str, SlackEmulator],
) -> None:
    _process, url, emulator = served
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
        assert response.status == 200
    client = SlackAppClient(emulator, f"{url}/slack/events", SECRET)
    response = client.slash_command(
        "/book", "add Dune | Frank Herbert | 22", user_id="U0ALICE0001", channel_id="C0BOOKCLUB1"
    )
    assert response.status == 200 and response.elapsed_ms < 3000
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not emulator.response_url_posts():
        time.sleep(0.02)  # waiting for another process's reply, not for time to pass
    posts = emulator.response_url_posts()
    assert posts and "Added to the shelf" in str(posts[0]["payload"])


def test_sigterm_drains_and_exits_zero(
    served: tuple[subprocess.Popen[str], str, SlackEmulator],
) -> None:
    process, url, emulator = served
    client = SlackAppClient(emulator, f"{url}/slack/events", SECRET)
    for i in range(5):
        assert (
            client.slash_command(
                "/book",
                f"add Book {i} | Someone | 3",
                user_id="U0ALICE0001",
                channel_id="C0BOOKCLUB1",
            ).status
            == 200
        )
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    # Every acknowledged command was finished before the process left.
    assert len(emulator.response_url_posts()) == 5


def test_sigterm_is_not_swallowed_by_the_server_loop() -> None:
    """SIGTERM raises :class:`Shutdown` in the main thread, wherever it is: often inside
    waitress's loop, which swallows ordinary exceptions raised by a channel (and would go
    on serving forever). The shutdown must get through it."""
    from waitress import wasyncore

    from bot.serving import Shutdown

    class Channel:
        handled: list[str] = []

        def handle_read_event(self) -> None:
            raise Shutdown

        def handle_write_event(self) -> None:
            raise Shutdown

        def handle_error(self) -> None:
            self.handled.append("swallowed")

    for step in (wasyncore.read, wasyncore.write):
        with pytest.raises(Shutdown):
            step(Channel())
    assert Channel.handled == []
