"""What `readalong serve` writes to its log, as a real process (issue 10 #4 and #5).

At LOG_LEVEL=DEBUG, with requests that are stale, forged, unhandled, malformed and
normal, the log holds no request body, no reflection text, no response_url and no token;
with LOG_FORMAT=json every line is a JSON object. The console and the demo keep their
transcript clean whatever the log settings.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.emulator.client import SlackAppClient, sign
from bot.emulator.server import SlackEmulator
from tests.process_helpers import (
    HOST_USER,
    ServerProcess,
    posted_step_ids,
    scratch_database,
    seed_groups,
    start_serve,
    wait_for,
)

SECRET = "logging-signing-secret"
TOKEN = "xoxb-4242-4242-loggingtokenpart"
PRIVATE = "my private reflection about Estraven 5521"
SHARED = "a shared thought on the Gethenian winter 7730"
URL_MARK = "distinctive-response-url-3f9d"
CLIENT_ID, CLIENT_SECRET = "4242.4242", "oauth-client-secret-6104"


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    emu = SlackEmulator(bot_token=TOKEN).start()
    yield emu
    emu.stop()


def _stop(serve: ServerProcess) -> str:
    """SIGTERM (a clean stop: everything in flight finished and logged); the log."""
    serve.process.send_signal(signal.SIGTERM)
    assert serve.process.wait(timeout=30) == 0, serve.log_tail()
    return serve.log_text()


def _marked_url(emulator: SlackEmulator) -> str:
    return f"{emulator.base_url}/commands/{emulator.team_id}/1/{URL_MARK}"


def test_serve_at_debug_logs_no_body_reflection_text_response_url_or_token(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    with scratch_database(tmp_path) as database:
        channel = seed_groups(emulator, database, secret=SECRET, groups=1)[0]
        serve = start_serve(
            "debug",
            database,
            emulator,
            tmp_path,
            secret=SECRET,
            lease_seconds=30,
            LOG_LEVEL="DEBUG",
        )
        try:
            url = serve.wait_listening()
            wait_for(lambda: posted_step_ids(emulator), 20, "the first prompt")
            client = SlackAppClient(emulator, f"{url}/slack/events", SECRET)
            answered = _send_everything(client, emulator, channel)
            wait_for(
                lambda: len(emulator.response_url_posts()) >= answered, 20, "the bot's replies"
            )
            log = _stop(serve)
        finally:
            serve.kill()
    # The bot did real work (the shared reflection went to the prompt's thread, replies
    # went to response URLs), all of it logged at DEBUG: and none of it shows.
    assert any(SHARED in json.dumps(c.params) for c in emulator.calls_to("chat.postMessage"))
    assert "DEBUG slack_sdk" in log and "refused an unsigned request" in log
    assert "ignored a signed but malformed" in log and "Unhandled request" in log
    for secret in (PRIVATE, SHARED, URL_MARK, TOKEN, "xoxb-", *_response_url_secrets(emulator)):
        assert secret not in log, f"{secret!r} is in the log:\n{_around(log, secret)}"


def _send_everything(client: SlackAppClient, emulator: SlackEmulator, channel: str) -> int:
    """Stale, forged, unhandled, malformed and normal requests; returns how many of them
    the bot answers on their response_url."""
    fields = dict(
        client.slash_command_fields(
            "/reflect", f"private {PRIVATE}", user_id=HOST_USER, channel_id=channel
        )
    )
    fields["response_url"] = _marked_url(emulator)
    body = urllib.parse.urlencode(fields).encode()
    form = "application/x-www-form-urlencoded"
    stale = str(int(time.time()) - 400)
    assert (
        client.send_raw(body, form, timestamp=stale, signature=sign(SECRET, stale, body)).status
        == 401
    )
    now = str(int(time.time()))
    assert (
        client.send_raw(body, form, timestamp=now, signature=sign("forged", now, body)).status
        == 401
    )
    assert (
        client.send_raw(
            body, form, timestamp="yesterday", signature=sign(SECRET, "yesterday", body)
        ).status
        == 401
    )
    # Valid, but nobody listens for it: bolt summarises such requests in a warning.
    dialog = {
        "type": "dialog_submission",
        "callback_id": "feedback",
        "submission": {"note": PRIVATE},
        "user": {"id": HOST_USER},
        "team": {"id": emulator.team_id},
        "response_url": _marked_url(emulator),
        "state": PRIVATE,
    }
    assert client.send_payload(dialog).status == 404
    unsubscribed = {
        "type": "event_callback",
        "team_id": emulator.team_id,
        "event_id": "EvLOGGING001",
        "event": {"type": "pin_added", "user": HOST_USER, "item": {"message": {"text": PRIVATE}}},
    }
    assert client.send_json(unsubscribed).status == 404
    # Signed but malformed.
    malformed = dict(fields, user_id="")
    assert client.send_form(malformed).status == 200
    # Normal commands: a private and a shared reflection (the shared one goes to the
    # prompt's thread), and help.
    for text in (f"private {PRIVATE}", SHARED, "help"):
        assert (
            client.slash_command("/reflect", text, user_id=HOST_USER, channel_id=channel).status
            == 200
        )
    return 3


def _response_url_secrets(emulator: SlackEmulator) -> list[str]:
    """The secret last path segment of every response_url the bot posted to."""
    posts = emulator.response_url_posts()
    assert posts
    return [str(post["url"]).rstrip("/").rsplit("/", 1)[-1] for post in posts]


def _around(log: str, secret: str) -> str:
    at = log.find(secret)
    return log[max(0, at - 300) : at + 300]


# ---------------------------------------------------------------------- JSON


def _install(url: str, emulator: SlackEmulator) -> None:
    """bolt's OAuth flow, as a browser and Slack do it: the token exchange is logged."""
    with urllib.request.urlopen(f"{url}/slack/install", timeout=10) as page:
        state = re.search(r"state=([0-9a-f-]+)", page.read().decode())
        cookie = page.headers["Set-Cookie"].split(";")[0]
    assert state
    code = emulator.issue_oauth_code("U0INSTALLER")
    query = urllib.parse.urlencode({"code": code, "state": state.group(1)})
    callback = urllib.request.Request(
        f"{url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(callback, timeout=10) as done:
        assert done.status == 200


def test_serve_json_logs_are_json_objects_and_a_logged_token_is_redacted(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    emulator.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    emulator.add_user("U0INSTALLER", "installer")
    emulator.add_channel("C0JSONLOGS1", "json-logs", members=["U0INSTALLER", emulator.bot_user_id])
    with scratch_database(tmp_path) as database:
        serve = start_serve(
            "json",
            database,
            emulator,
            tmp_path,
            secret=SECRET,
            lease_seconds=30,
            LOG_LEVEL="DEBUG",
            LOG_FORMAT="json",
            SLACK_BOT_TOKEN="",
            SLACK_CLIENT_ID=CLIENT_ID,
            SLACK_CLIENT_SECRET=CLIENT_SECRET,
        )
        try:
            url = serve.wait_listening()
            _install(url, emulator)
            client = SlackAppClient(emulator, f"{url}/slack/events", SECRET)
            reply = client.slash_command(
                "/book", "list", user_id="U0INSTALLER", channel_id="C0JSONLOGS1"
            )
            assert reply.status == 200
            wait_for(lambda: emulator.response_url_posts(), 20, "the bot's reply")
            # A request that is refused: the guard's line is JSON too.
            assert client.send_raw(b"{}", "application/json", signature="v0=forged").status == 401
            log = _stop(serve)
        finally:
            serve.kill()
    entries = []
    for line in log.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)  # every line, tracebacks included, is one JSON object
        assert isinstance(entry, dict) and {"time", "level", "logger", "message"} <= set(entry)
        entries.append(entry)
    assert {e["level"] for e in entries} >= {"DEBUG", "INFO"}
    assert any(e["logger"] == "bot.slack.guard" for e in entries)
    # The token exchange was logged (slack_sdk at DEBUG) and the token is not in the log:
    exchange = [e for e in entries if "oauth.v2.access" in e["message"]]
    assert exchange, "the token exchange was not logged at all"
    assert emulator.calls_to("oauth.v2.access")[0].response["access_token"] == TOKEN
    for secret in (TOKEN, "xoxb-", CLIENT_SECRET, *_response_url_secrets(emulator)):
        assert secret not in log, f"{secret!r} is in the log:\n{_around(log, secret)}"


# ---------------------------------------------------------------------- the console


def _readalong(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("SLACK_", "READALONG_", "DATABASE_URL", "DEFAULT_", "LOG_"))
    }
    clean.update(env, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=clean,
        timeout=120,
        check=False,
    )


def test_the_demo_transcript_stays_clean_at_debug_and_json(tmp_path: Path) -> None:
    done = _readalong(["demo"], tmp_path, LOG_LEVEL="DEBUG", LOG_FORMAT="json")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "alice @ #book-club> /book add" in done.stdout
    assert not [line for line in done.stdout.splitlines() if line.startswith('{"time"')]
    quiet: list[dict[str, Any]] = [json.loads(line) for line in done.stderr.splitlines() if line]
    # Only warnings and errors from the libraries (none, on a good run), as JSON.
    assert all(e["level"] in ("WARNING", "ERROR", "CRITICAL") for e in quiet), quiet


@pytest.mark.parametrize("argv", [["db", "status"], ["export", "--format", "json"]])
def test_every_command_sets_up_the_configured_logging(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Not only serve: any command logs as LOG_FORMAT says, through the redacting filter."""
    import logging

    from bot.cli import main
    from bot.observability import JsonFormatter, RedactingFilter
    from bot.storage.db import make_engine, upgrade

    database = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(database)
    upgrade(engine)
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": database,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("READALONG_CONFIG", raising=False)
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    try:
        assert main(argv) == 0
        added = [h for h in root.handlers if h not in before]
        assert len(added) == 1
        handler = added[0]
        assert isinstance(handler.formatter, JsonFormatter)
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
        capsys.readouterr()
        logging.getLogger("bot.test").warning("token %s", TOKEN)
        entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert entry["logger"] == "bot.test" and entry["message"] == "token [redacted]"
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
