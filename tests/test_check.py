"""``readalong check`` against the emulator, through the installed command (a subprocess,
as a person runs it), for a set-up that works and for each thing that can be wrong.

The emulator is configured (fewer scopes, a revoked token, a channel without the bot);
the bot is given settings, as it would be in production, and nothing else.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import build_runtime
from bot.check import signing_secret_problem
from bot.domain.model import Cadence, Caller
from bot.emulator import SlackEmulator
from bot.serving import HttpServer
from bot.slack.manifest import bot_scopes
from bot.storage.db import head_revision, make_engine, upgrade
from tests.process_helpers import (
    console_script,
    emulator_settings,
    readalong_env,
    sqlite_database,
)

SECRET = "8f742231b10e1bd3a1c6c5e1f3a4b2c7"  # 32 hexadecimal characters, like Slack's
OTHER_SECRET = "0" * 32
CLUB = "C0CHECKCLUB"
QUIET = "C0QUIETCLUB"
HIDDEN = "G0HIDDENCLB"
HOST = "U0CHECKHOST"


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    emu = SlackEmulator()
    emu.add_user(HOST, "host", real_name="Check Host")
    emu.add_channel(CLUB, "book-club", members=[HOST, emu.bot_user_id])
    emu.add_channel(QUIET, "quiet-club", members=[HOST])
    emu.add_channel(HIDDEN, "hidden-club", is_private=True, members=[HOST])
    with emu:
        yield emu


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with sqlite_database(tmp_path) as url:
        yield url


def check(
    emulator: SlackEmulator, database: str, cwd: Path, *args: str, **env: str
) -> tuple[int, str]:
    """``readalong check ARGS`` with the emulator's settings (``env`` changes them)."""
    environment = readalong_env(emulator, database, secret=SECRET, **env)
    done = subprocess.run(
        [console_script("readalong"), "check", *args],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def line(out: str, area: str) -> str:
    """The report's line for ``area`` (``bot token``, ``scopes``, …)."""
    found = [text.strip() for text in out.splitlines() if f"  {area}  " in text]
    assert len(found) == 1, out
    return found[0]


def fixes(out: str) -> list[str]:
    assert "To fix:" in out, out
    return [text.strip() for text in out.split("To fix:", 1)[1].strip().splitlines()]


def start_plans(emulator: SlackEmulator, database: str, *channels: str) -> None:
    """A running plan of Dune in each of ``channels`` (whether the bot is there or not)."""
    runtime = build_runtime(emulator_settings(emulator, database, secret=SECRET))
    try:
        services = runtime.services
        services.books.add(emulator.team_id, HOST, "Dune", "Frank Herbert", "12")
        for channel in channels:
            services.plans.start(
                Caller(emulator.team_id, HOST),
                channel,
                "Dune",
                Cadence.weekly(0, time(9)),
                1,
                datetime.now(UTC).date() + timedelta(days=7),
                "UTC",
            )
    finally:
        runtime.close()


def test_all_is_well(emulator: SlackEmulator, database: str, tmp_path: Path) -> None:
    start_plans(emulator, database, CLUB)
    status, out = check(emulator, database, tmp_path)
    assert status == 0, out
    assert out.rstrip().endswith("All is well.")
    assert line(out, "bot token") == (
        "ok    bot token       workspace Readalong Emulator (T0EMULATOR1, "
        "https://readalong-emulator.slack.com/), bot user @readalong (U0BOTREADAL)"
    )
    assert f"all {len(bot_scopes())} scopes manifest.yaml declares" in line(out, "scopes")
    assert line(out, "signing secret").startswith("ok")
    assert f"at the latest migration ({head_revision()})" in line(out, "database")
    request = line(out, "request URL")
    assert request.startswith("ok") and "/slack/events" in request
    assert "a wrong signature got 401" in request
    assert (
        line(out, "channels")
        == "ok    channels        the bot is in all 1 channels with running plans"
    )
    assert {"auth.test", "conversations.info"} <= {c.method for c in emulator.calls}


def test_a_wrong_token_is_named(emulator: SlackEmulator, database: str, tmp_path: Path) -> None:
    status, out = check(emulator, database, tmp_path, SLACK_BOT_TOKEN="xoxb-not-this-one")
    assert status == 1
    assert "SLACK_BOT_TOKEN is wrong: Slack does not know this token (invalid_auth)" in line(
        out, "bot token"
    )
    assert fixes(out) == [
        "1. Put the app's Bot User OAuth Token (xoxb-…, OAuth & Permissions) in SLACK_BOT_TOKEN."
    ]
    assert line(out, "channels").startswith("skip")


def test_a_revoked_token(emulator: SlackEmulator, database: str, tmp_path: Path) -> None:
    emulator.revoke_token("token_revoked")
    status, out = check(emulator, database, tmp_path)
    assert status == 1
    assert "the token was revoked" in line(out, "bot token")
    assert "Install the app again" in fixes(out)[0]


def test_an_app_token_where_the_bot_token_goes(
    emulator: SlackEmulator, database: str, tmp_path: Path
) -> None:
    status, out = check(emulator, database, tmp_path, SLACK_BOT_TOKEN="xapp-1-A0-123-abc")
    assert status == 1
    assert "SLACK_BOT_TOKEN holds an app-level token (xapp-…, for SLACK_APP_TOKEN)" in line(
        out, "bot token"
    )
    assert "the app-level token in SLACK_APP_TOKEN" in fixes(out)[0]
    assert emulator.calls_to("auth.test") == []  # not sent to Slack at all


def test_missing_scopes_are_listed_with_where_to_add_them(
    emulator: SlackEmulator, database: str, tmp_path: Path
) -> None:
    emulator.grant_scopes(s for s in emulator.scopes if s not in ("reactions:read", "files:write"))
    status, out = check(emulator, database, tmp_path)
    assert status == 1
    assert line(out, "scopes") == (
        f"FAIL  scopes          2 of the {len(bot_scopes())} scopes manifest.yaml declares are missing: "
        "reactions:read, files:write"
    )
    assert fixes(out) == [
        "1. Add reactions:read, files:write under OAuth & Permissions → Scopes → Bot Token "
        "Scopes (or paste manifest.yaml again under App Manifest), then Install App → "
        "Reinstall to Workspace; the token stays the same."
    ]
    assert line(out, "bot token").startswith("ok")


def test_a_malformed_signing_secret(emulator: SlackEmulator, database: str, tmp_path: Path) -> None:
    status, out = check(emulator, database, tmp_path, SLACK_SIGNING_SECRET="emulator-secret")
    assert status == 1
    assert line(out, "signing secret") == (
        "FAIL  signing secret  SLACK_SIGNING_SECRET is 15 characters; a Slack signing secret "
        "is 32 hexadecimal characters"
    )
    assert "Signing Secret from Basic Information" in fixes(out)[0]
    assert line(out, "request URL").startswith("skip")


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (SECRET, None),
        (SECRET.upper(), None),
        ("xoxb-1234-5678", "is a token, not the signing secret"),
        (f" {SECRET}\n", "has spaces or a line break around it"),
        (SECRET[:31], "is 31 characters; a Slack signing secret is 32 hexadecimal characters"),
        ("g" * 32, "is 32 characters; a Slack signing secret is 32 hexadecimal characters"),
        (OTHER_SECRET, "is the same as SLACK_CLIENT_SECRET"),
        (None, "is not set"),
        ("", "is not set"),
    ],
)
def test_signing_secret_forms(secret: str | None, problem: str | None) -> None:
    found = signing_secret_problem(secret, client_secret=OTHER_SECRET)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


def test_a_database_without_the_schema(emulator: SlackEmulator, tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    status, out = check(emulator, empty, tmp_path)
    assert status == 1
    assert line(out, "database").endswith("empty.db has no schema")
    assert fixes(out) == ["1. Run `readalong db upgrade`."]
    assert line(out, "channels").startswith("skip")


def test_a_database_behind_the_migrations(emulator: SlackEmulator, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine, "0002")
    finally:
        engine.dispose()
    status, out = check(emulator, url, tmp_path)
    assert status == 1
    assert line(out, "database").endswith(f"old.db is at migration 0002, not {head_revision()}")


def test_an_unreachable_database(emulator: SlackEmulator, database: str, tmp_path: Path) -> None:
    url = "postgresql://nobody:hunter2@127.0.0.1:1/none?connect_timeout=3"
    status, out = check(emulator, url, tmp_path)
    assert status == 1
    assert "cannot connect to postgresql+psycopg://nobody:***@127.0.0.1:1/none" in line(
        out, "database"
    )
    assert "hunter2" not in out


def test_channels_with_plans_without_the_bot(
    emulator: SlackEmulator, database: str, tmp_path: Path
) -> None:
    start_plans(emulator, database, CLUB, QUIET, HIDDEN)
    status, out = check(emulator, database, tmp_path)
    assert status == 1
    assert line(out, "channels") == (
        "FAIL  channels        the bot is not in 2 of the 3 channels with running plans: "
        f"#quiet-club ({QUIET}), {HIDDEN} (private and without the bot, or deleted)"
    )
    assert fixes(out) == [
        "1. Invite the bot there (`/invite @readalong` in each channel), or `/book cancel` a "
        "plan whose channel is gone."
    ]
    emulator.join(QUIET, emulator.bot_user_id)
    emulator.join(HIDDEN, emulator.bot_user_id)
    status, out = check(emulator, database, tmp_path)
    assert status == 0, out


@pytest.fixture
def deployed(emulator: SlackEmulator, database: str) -> Iterator[str]:
    """Readalong served over HTTP elsewhere, with OTHER_SECRET: its base URL."""
    runtime = build_runtime(emulator_settings(emulator, database, secret=OTHER_SECRET))
    server = HttpServer(runtime.wsgi, "127.0.0.1", 0, threads=2).start()
    try:
        yield server.url
    finally:
        server.stop()
        runtime.close()


def test_a_deployed_request_url_with_another_secret(
    emulator: SlackEmulator, database: str, tmp_path: Path, deployed: str
) -> None:
    status, out = check(emulator, database, tmp_path, "--url", deployed)
    assert status == 1
    assert line(out, "request URL") == (
        f"FAIL  request URL     {deployed}/slack/events: refused a request signed with "
        "SLACK_SIGNING_SECRET (401)"
    )
    assert "the same SLACK_SIGNING_SECRET" in fixes(out)[0]
    status, out = check(
        emulator,
        database,
        tmp_path,
        "--url",
        f"{deployed}/slack/events",
        SLACK_SIGNING_SECRET=OTHER_SECRET,
    )
    assert status == 0, out
    assert line(out, "request URL").startswith(f"ok    request URL     {deployed}/slack/events")


def test_a_request_url_that_is_not_readalong(
    emulator: SlackEmulator, database: str, tmp_path: Path
) -> None:
    status, out = check(emulator, database, tmp_path, "--url", emulator.base_url)
    assert status == 1
    assert "answered HTTP 404 without the challenge" in line(out, "request URL")
    closed = f"http://127.0.0.1:{_closed_port()}/slack/events"
    status, out = check(emulator, database, tmp_path, "--url", closed, "--timeout", "5")
    assert status == 1
    assert line(out, "request URL").startswith(f"FAIL  request URL     {closed}: no answer (")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_socket_mode(emulator: SlackEmulator, database: str, tmp_path: Path) -> None:
    status, out = check(emulator, database, tmp_path, SLACK_APP_TOKEN="xapp-1-A0READALONG-1-ab")
    assert status == 0, out
    assert line(out, "app token").startswith("ok")
    assert line(out, "request URL") == (
        "skip  request URL     Socket Mode: Slack sends no HTTP requests"
    )
    status, out = check(emulator, database, tmp_path, SLACK_APP_TOKEN="xoxb-wrong-kind")
    assert status == 1
    assert "SLACK_APP_TOKEN is not an app-level token" in line(out, "app token")


def test_unreadable_settings_are_a_fix_too(
    emulator: SlackEmulator, database: str, tmp_path: Path
) -> None:
    environment = readalong_env(emulator, database, secret=SECRET, PORT="not-a-port")
    done = subprocess.run(
        [console_script("readalong"), "check"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith("config error: PORT: ")


def test_the_url_option_takes_http_urls_only(
    emulator: SlackEmulator, database: str, tmp_path: Path
) -> None:
    status, _out = check(emulator, database, tmp_path, "--url", "ftp://readalong.example.com")
    assert status == 2  # a usage error, before anything is checked
    assert emulator.calls == []
