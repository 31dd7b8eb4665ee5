"""Bad requests get a clear answer, never a 500, and nothing of them reaches the logs.

Everything here goes over real HTTP into the real app (waitress, the request guard, bolt,
the listeners), with the exact inputs of issue 10 #22 and #23: unsigned or garbled
requests get 401, unreadable ones 400, oversized ones 413; signed but malformed ones a
200 and one log line naming the field, and nothing runs or is stored.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.domain.discussions import MessageEvent
from bot.emulator.client import SlackAppClient, sign
from bot.observability import log_handler
from bot.serving import HttpServer
from bot.slack.guard import COMMAND_APOLOGY, MAX_BODY_BYTES
from bot.storage.models import (
    BookRow,
    ProcessedEventRow,
    ReactionRow,
    ReflectionRow,
    ThreadMessageRow,
)
from tests.harness import ALICE, BOB, CLUB, SECRET, Harness

TEAM = "T0EMULATOR1"
MARK = "my-private-thought-4471"  # in every bad body: must never be logged
URL_MARK = "distinctive-response-url-9c1e"
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
GUARD = "bot.slack.guard"
DELETE = object()

Body = tuple[bytes, str]


# ---------------------------------------------------------------------- fixtures


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of every logger, DEBUG included (asked for before the app is built,
    so bolt's loggers, which copy the root level when the app is created, are at DEBUG)."""
    caplog.set_level(logging.DEBUG)
    return caplog


def _response_url(harness: Harness) -> str:
    return f"{harness.emulator.base_url}/commands/{TEAM}/1/{URL_MARK}"


def _counts(harness: Harness) -> dict[str, int]:
    with harness.runtime.session_factory() as session:
        return {
            row.__name__: int(session.scalar(select(func.count()).select_from(row)) or 0)
            for row in (
                ProcessedEventRow,
                ThreadMessageRow,
                ReactionRow,
                ReflectionRow,
                BookRow,
            )
        }


def _world(harness: Harness) -> tuple[int, int, dict[str, int]]:
    """What the bot has done: Web API calls, response_url posts, rows stored."""
    harness.drain()
    return len(harness.emulator.calls), len(harness.emulator.response_url_posts()), _counts(harness)


def _leaks(logs: pytest.LogCaptureFixture) -> list[str]:
    text = logs.text + "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in logs.records)
    return [secret for secret in (MARK, URL_MARK, "xoxb-") if secret in text]


def _guard_lines(logs: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in logs.records if r.name == GUARD]


def _changed(mapping: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(mapping)
    for key, value in changes.items():
        if value is DELETE:
            out.pop(key, None)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------- request bodies


def _command(harness: Harness, **changes: Any) -> dict[str, Any]:
    fields = dict(
        harness.slack.slash_command_fields("/reflect", MARK, user_id=ALICE, channel_id=CLUB)
    )
    fields["response_url"] = _response_url(harness)
    return _changed(fields, changes)


def _form(fields: dict[str, Any]) -> Body:
    return urlencode(fields).encode(), FORM


def _user(user_id: str = ALICE) -> dict[str, Any]:
    return {"id": user_id, "username": "alice", "name": "alice", "team_id": TEAM}


def _block_actions(harness: Harness, **changes: Any) -> dict[str, Any]:
    payload = {
        "type": "block_actions",
        "user": _user(),
        "api_app_id": "A0READALONG",
        "token": "verification-token",
        "container": {
            "type": "message",
            "message_ts": "1800000000.000100",
            "channel_id": CLUB,
            "is_ephemeral": False,
        },
        "trigger_id": harness.emulator.workspace.issue_trigger(ALICE),
        "team": {"id": TEAM, "domain": "emulator"},
        "channel": {"id": CLUB, "name": "book-club"},
        "response_url": _response_url(harness),
        "actions": [
            {
                "action_id": "reflect_open",
                "block_id": "reflect",
                "type": "button",
                "value": MARK,
                "action_ts": "1800000000.000200",
            }
        ],
        "state": {"values": {}},
    }
    return _changed(payload, changes)


def _view_submission(harness: Harness, **changes: Any) -> dict[str, Any]:
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "emulator"},
        "user": _user(),
        "api_app_id": "A0READALONG",
        "token": "verification-token",
        "trigger_id": harness.emulator.workspace.issue_trigger(ALICE),
        "view": {
            "id": "V0000000001",
            "type": "modal",
            "callback_id": "reflect_submit",
            "private_metadata": json.dumps({"channel_id": CLUB}),
            "state": {"values": {"text": {"text": {"type": "plain_text_input", "value": MARK}}}},
        },
        "response_urls": [],
    }
    return _changed(payload, changes)


def _payload(payload: Any) -> Body:
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


_event_ids = iter(range(10**6))


def _message(**changes: Any) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel": CLUB,
        "user": BOB,
        "text": MARK,
        "ts": "1800000000.000300",
        "thread_ts": "1800000000.000100",
        "event_ts": "1800000000.000300",
        "channel_type": "channel",
    }
    return _changed(event, changes)


def _envelope(event: Any, **changes: Any) -> dict[str, Any]:
    envelope = {
        "token": "verification-token",
        "team_id": TEAM,
        "api_app_id": "A0READALONG",
        "event": event,
        "type": "event_callback",
        "event_id": f"EvGUARD{next(_event_ids):06d}",
        "event_time": 1800000000,
        "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True}],
        "is_ext_shared_channel": False,
    }
    return _changed(envelope, changes)


def _json(body: Any) -> Body:
    return json.dumps(body).encode(), JSON_TYPE


# ---------------------------------------------------------------------- 401


def _unsigned_cases() -> list[tuple[str, Callable[[Harness], tuple[Body, str, str]]]]:
    """(id, harness → ((body, content type), timestamp, signature))."""

    def event_body(harness: Harness) -> Body:
        return _json(_envelope(_message()))

    def signed(ts: Callable[[], str]) -> Callable[[Harness], tuple[Body, str, str]]:
        def build(harness: Harness) -> tuple[Body, str, str]:
            body = event_body(harness)
            stamp = ts()
            return body, stamp, sign(SECRET, stamp, body[0])

        return build

    def with_signature(
        make: Callable[[bytes, str], str], body: Callable[[Harness], Body] = event_body
    ) -> Callable[[Harness], tuple[Body, str, str]]:
        def build(harness: Harness) -> tuple[Body, str, str]:
            raw = body(harness)
            stamp = str(int(time.time()))
            return raw, stamp, make(raw[0], stamp)

        return build

    def now() -> int:
        return int(time.time())

    return [
        ("no signature", with_signature(lambda body, ts: "")),
        ("no timestamp", lambda h: (event_body(h), "", sign(SECRET, "", event_body(h)[0]))),
        ("timestamp yesterday", signed(lambda: "yesterday")),
        ("timestamp with a fraction", signed(lambda: f"{now()}.5")),
        ("timestamp padded with spaces", signed(lambda: f" {now()} ")),
        ("timestamp with underscores", signed(lambda: f"{now():_}")),
        ("stale timestamp", signed(lambda: str(now() - 301))),
        ("timestamp from the future", signed(lambda: str(now() + 305))),  # a tick may pass
        ("forged", with_signature(lambda body, ts: sign("not-the-secret", ts, body))),
        ("garbled signature", with_signature(lambda body, ts: "v0=not-hex-at-all")),
        ("non-ASCII signature", with_signature(lambda body, ts: "v0=" + "é" * 64)),
        ("v1 scheme", with_signature(lambda body, ts: "v1" + sign(SECRET, ts, body)[2:])),
        (
            "signature of another body",
            with_signature(lambda body, ts: sign(SECRET, ts, body.replace(b"4471", b"4472"))),
        ),
        (
            "unsigned invalid UTF-8",
            with_signature(
                lambda body, ts: sign("not-the-secret", ts, body),
                lambda h: (b"token=x&text=" + MARK.encode() + b"\xff\xfe", FORM),
            ),
        ),
        (
            "unsigned payload that is not JSON",
            with_signature(
                lambda body, ts: "",
                lambda h: (b"payload={not json " + MARK.encode(), FORM),
            ),
        ),
    ]


@pytest.mark.parametrize(
    "build", [c[1] for c in _unsigned_cases()], ids=[c[0] for c in _unsigned_cases()]
)
def test_unsigned_garbled_and_stale_requests_get_401_and_nothing_is_logged(
    logs: pytest.LogCaptureFixture,
    harness: Harness,
    build: Callable[[Harness], tuple[Body, str, str]],
) -> None:
    (body, content_type), timestamp, signature = build(harness)
    before = _world(harness)
    response = harness.slack.send_raw(body, content_type, timestamp=timestamp, signature=signature)
    assert response.status == 401, response.text
    assert _world(harness) == before
    assert not _leaks(logs), logs.text
    lines = _guard_lines(logs)
    assert len(lines) == 1 and lines[0].levelno == logging.INFO, logs.text
    assert not [r for r in logs.records if r.levelno >= logging.ERROR]


# ---------------------------------------------------------------------- 400


def _unreadable_cases() -> list[tuple[str, Callable[[Harness], Body]]]:
    def half(data: bytes) -> bytes:
        return data[: len(data) // 2]

    return [
        (
            "invalid UTF-8 in a form body",
            lambda h: (
                b"token=x&team_id=T0EMULATOR1&user_id=U0ALICE0001&channel_id=C0BOOKCLUB1"
                b"&command=%2Freflect&text=" + MARK.encode() + b"\xff\xfe",
                FORM,
            ),
        ),
        (
            "invalid UTF-8 in a JSON body",
            lambda h: (
                b'{"type": "event_callback", "event": {"type": "message", "text": "'
                + MARK.encode()
                + b'\xc3\x28"}}',
                JSON_TYPE,
            ),
        ),
        (
            "percent-encoded invalid UTF-8 in a form",
            lambda h: (_form(_command(h))[0] + b"%ff%fe", FORM),
        ),
        ("payload={not json", lambda h: (b"payload={not json " + MARK.encode(), FORM)),
        ("payload, encoded, not JSON", lambda h: _form({"payload": "{not json " + MARK})),
        ("payload a JSON list", lambda h: _form({"payload": json.dumps([MARK])})),
        ("truncated JSON body", lambda h: (half(_json(_envelope(_message()))[0]), JSON_TYPE)),
        ("truncated payload", lambda h: (half(_payload(_block_actions(h))[0]), FORM)),
        ("JSON body a list", lambda h: _json([MARK])),
        ("JSON body a string", lambda h: _json(MARK)),
        ("JSON body null", lambda h: (b"null", JSON_TYPE)),
        ("JSON nested too deep", lambda h: (b"[" * 100_000 + MARK.encode(), JSON_TYPE)),
        ("form field without =", lambda h: (b"token&text=" + MARK.encode(), FORM)),
        (
            "form field repeated",
            lambda h: (_form(_command(h))[0] + b"&user_id=U0BOB000001", FORM),
        ),
        ("empty body", lambda h: (b"", FORM)),
    ]


@pytest.mark.parametrize(
    "build", [c[1] for c in _unreadable_cases()], ids=[c[0] for c in _unreadable_cases()]
)
def test_signed_but_unreadable_requests_get_400_and_nothing_is_logged(
    logs: pytest.LogCaptureFixture, harness: Harness, build: Callable[[Harness], Body]
) -> None:
    body, content_type = build(harness)
    before = _world(harness)
    response = harness.slack.send_raw(body, content_type)
    assert response.status == 400, response.text
    assert _world(harness) == before
    assert not _leaks(logs), logs.text
    lines = _guard_lines(logs)
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING, logs.text
    assert not [r for r in logs.records if r.levelno >= logging.ERROR]


# ---------------------------------------------------------------------- 200, malformed


def _malformed_cases() -> list[tuple[str, Callable[[Harness], Body], str]]:
    """(id, harness → body, the field the log line must name)."""
    return [
        (
            "actions an object",
            lambda h: _payload(_block_actions(h, actions={"action_id": "reflect_open"})),
            "actions",
        ),
        ("actions empty", lambda h: _payload(_block_actions(h, actions=[])), "actions"),
        (
            "action without action_id",
            lambda h: _payload(_block_actions(h, actions=[{"value": MARK}])),
            "actions[0].action_id",
        ),
        (
            "action value a number",
            lambda h: _payload(
                _block_actions(h, actions=[{"action_id": "reflect_open", "value": 7}])
            ),
            "actions[0].value",
        ),
        ("clicking user not an object", lambda h: _payload(_block_actions(h, user=ALICE)), "user"),
        ("team a number", lambda h: _payload(_block_actions(h, team=7)), "team"),
        ("view a string", lambda h: _payload(_view_submission(h, view="modal")), "view"),
        (
            "private_metadata a number",
            lambda h: _payload(
                _view_submission(
                    h, view={"id": "V1", "callback_id": "reflect_submit", "private_metadata": 5}
                )
            ),
            "view.private_metadata",
        ),
        ("submission without team", lambda h: _payload(_view_submission(h, team=None)), "team"),
        (
            "view without type",
            lambda h: _payload(
                _view_submission(h, view={"id": "V1", "callback_id": "reflect_submit"})
            ),
            "view.type",
        ),
        (
            "attachment action without actions",
            lambda h: _payload(
                {
                    "type": "interactive_message",
                    "callback_id": "old",
                    "user": _user(),
                    "team": {"id": TEAM},
                }
            ),
            "actions",
        ),
        (
            "workflow step edit without the step",
            lambda h: _payload(
                {
                    "type": "workflow_step_edit",
                    "callback_id": "step",
                    "user": _user(),
                    "team": {"id": TEAM},
                }
            ),
            "workflow_step",
        ),
        ("event a string", lambda h: _json(_envelope("message")), "event"),
        (
            "event without type",
            lambda h: _json(_envelope(_message(type=DELETE))),
            "event.type",
        ),
        ("event type a number", lambda h: _json(_envelope(_message(type=5))), "event.type"),
        ("event type a sentence", lambda h: _json(_envelope(_message(type=MARK))), "event.type"),
        ("text a number", lambda h: _json(_command(h, text=5)), "text"),
        (
            "app_home_opened without user",
            lambda h: _json(
                _envelope({"type": "app_home_opened", "channel": "D0ALICE", "tab": "home"})
            ),
            "event.user",
        ),
        ("empty user_id", lambda h: _form(_command(h, user_id="")), "user_id"),
        ("empty team_id", lambda h: _form(_command(h, team_id="")), "team_id"),
        ("no channel_id", lambda h: _form(_command(h, channel_id=DELETE)), "channel_id"),
        ("no response_url", lambda h: _form(_command(h, response_url=DELETE)), "response_url"),
        ("response_url not a URL", lambda h: _form(_command(h, response_url=MARK)), "response_url"),
        ("command without a slash", lambda h: _form(_command(h, command="reflect")), "command"),
        (
            "reaction item a string",
            lambda h: _json(
                _envelope({"type": "reaction_added", "user": BOB, "reaction": "tada", "item": MARK})
            ),
            "event.item",
        ),
        (
            "edited message a string",
            lambda h: _json(_envelope(_message(subtype="message_changed", message=MARK))),
            "event.message",
        ),
        ("message user empty", lambda h: _json(_envelope(_message(user=""))), "event.user"),
        ("message ts a number", lambda h: _json(_envelope(_message(ts=1.5))), "event.ts"),
        ("message files a string", lambda h: _json(_envelope(_message(files=MARK))), "event.files"),
        (
            "user id too long for the database",
            lambda h: _json(_envelope(_message(user="U" * 40))),
            "event.user",
        ),
        (
            "event without event_id",
            lambda h: _json(_envelope(_message(), event_id=DELETE)),
            "event_id",
        ),
        (
            "authorizations an object",
            lambda h: _json(_envelope(_message(), authorizations={"team_id": TEAM})),
            "authorizations",
        ),
        ("JSON without a type", lambda h: _json({"token": "x", "text": MARK}), "type"),
        ("form of no known kind", lambda h: _form({"token": "x", "text": MARK}), "type"),
    ]


@pytest.mark.parametrize(
    ("build", "field"),
    [(c[1], c[2]) for c in _malformed_cases()],
    ids=[c[0] for c in _malformed_cases()],
)
def test_signed_but_malformed_requests_get_200_one_log_line_and_change_nothing(
    logs: pytest.LogCaptureFixture,
    harness: Harness,
    build: Callable[[Harness], Body],
    field: str,
) -> None:
    body, content_type = build(harness)
    before = _world(harness)
    response = harness.slack.send_raw(body, content_type)
    assert response.status == 200, response.text
    assert _world(harness) == before, "a malformed request ran or stored something"
    assert not _leaks(logs), logs.text
    lines = _guard_lines(logs)
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING, logs.text
    assert re.search(rf"(^|[^\w.\[\]]){re.escape(field)}\b", lines[0].getMessage()), lines[
        0
    ].getMessage()
    assert not [r for r in logs.records if r.levelno >= logging.ERROR], logs.text


def _start_plan(harness: Harness) -> None:
    today = harness.clock.now().date().isoformat()
    harness.command(ALICE, "/book", "add Dune | Frank Herbert | 6")
    harness.command(ALICE, "/book", f"start Dune every monday at 09:00 2 chapters from {today}")


def test_a_command_with_an_empty_user_id_stores_no_reflection_and_says_so(
    logs: pytest.LogCaptureFixture, harness: Harness
) -> None:
    _start_plan(harness)
    before = _world(harness)
    fields = _command(harness, user_id="")
    response = harness.slack.send_form(fields)
    assert response.status == 200
    assert response.json() == {"response_type": "ephemeral", "text": COMMAND_APOLOGY}
    assert _world(harness) == before
    assert _counts(harness)["ReflectionRow"] == 0
    assert not _leaks(logs)
    # The same command with its author is saved: the refusal above was the user id's doing.
    harness.command(ALICE, "/reflect", "chapter one made me think")
    assert _counts(harness)["ReflectionRow"] == 1


def test_a_command_mentioning_payload_is_not_lost(harness: Harness) -> None:
    """bolt takes any form containing the text "payload" for an interaction (and reads
    it as empty): such a command reached nobody."""
    posts = harness.command(ALICE, "/book", "add The payload of dreams | Someone | 3")
    assert posts and "Added to the shelf" in json.dumps(posts)
    assert _counts(harness)["BookRow"] == 1


def test_a_refusal_that_cannot_reach_the_member_logs_none_of_their_words(
    harness: Harness,
) -> None:
    """Found by the fuzzer below: a duplicate ``/book add`` whose response_url could not be
    reached logged the refusal ("“…” is already on the shelf") inside the traceback."""
    stream = io.StringIO()
    handler = log_handler("text", stream)  # what `readalong serve` writes
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        title = f"The payload {MARK} &amp; more"
        harness.command(ALICE, "/book", f"add {title} | Someone | 3")
        fields = dict(
            harness.slack.slash_command_fields(
                "/book", f"add {title} | Someone | 3", user_id=ALICE, channel_id=CLUB
            )
        )
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            dead = sock.getsockname()[1]
        fields["response_url"] = f"http://127.0.0.1:{dead}/commands/{URL_MARK}"
        assert harness.slack.send_form(fields).status == 200
        harness.drain()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    written = stream.getvalue()
    assert "could not tell the user that /book failed" in written, written
    assert "bot.domain.errors.Conflict" in written, written
    for secret_text in (MARK, URL_MARK, "xoxb-"):
        assert secret_text not in written, written
    assert _counts(harness)["BookRow"] == 1


# ---------------------------------------------------------------------- 413


def _padded_event(size: int) -> bytes:
    """A signed-looking message event of exactly ``size`` bytes."""
    body = json.dumps(_envelope(_message(text=""))).encode()
    padding = size - len(body)
    assert padding > 0
    return body.replace(b'"text": ""', b'"text": "' + b"x" * padding + b'"', 1)


def test_oversized_bodies_get_413_from_waitress_and_from_the_guard(
    logs: pytest.LogCaptureFixture, harness: Harness
) -> None:
    before = _world(harness)
    too_big = _padded_event(MAX_BODY_BYTES + 1)
    assert len(too_big) == MAX_BODY_BYTES + 1
    # waitress's own cap answers from the headers alone (it hangs up on the rest, so
    # only the headers are sent here).
    conn = http.client.HTTPConnection("127.0.0.1", harness.server.port, timeout=10)
    try:
        conn.putrequest("POST", "/slack/events")
        conn.putheader("Content-Type", JSON_TYPE)
        conn.putheader("Content-Length", str(len(too_big)))
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()
    # Behind a server with a larger cap, the guard refuses it itself.
    roomy = HttpServer(harness.runtime.wsgi, "127.0.0.1", 0, max_body_bytes=4 * MAX_BODY_BYTES)
    roomy.start()
    client = SlackAppClient(harness.emulator, f"{roomy.url}/slack/events", SECRET)
    try:
        assert client.send_raw(too_big, JSON_TYPE).status == 413
        assert _world(harness) == before
        # At the cap exactly, a real event is taken.
        assert client.send_raw(_padded_event(MAX_BODY_BYTES), JSON_TYPE).status == 200
    finally:
        client.close()
        roomy.stop()
    assert _counts(harness)["ProcessedEventRow"] == before[2]["ProcessedEventRow"] + 1
    assert [r.getMessage() for r in _guard_lines(logs)] and not _leaks(logs)


# ---------------------------------------------------------------------- storage failure


def test_a_genuine_storage_failure_still_gets_500_so_slack_retries(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def broken(event: MessageEvent) -> bool:
        raise OperationalError("INSERT …", {}, Exception("database is gone"))

    monkeypatch.setattr(harness.runtime.services.discussions, "record_message", broken)
    response = harness.slack.send_raw(*_json(_envelope(_message())))
    assert response.status == 500
    monkeypatch.undo()
    # The retry, once storage is back, is stored.
    assert harness.slack.send_raw(*_json(_envelope(_message()))).status == 200


# ---------------------------------------------------------------------- fuzzing

_DEFAULT_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "slack-samples"
SAMPLES = Path(os.environ.get("READALONG_SLACK_SAMPLES") or _DEFAULT_SAMPLES) / "bolt-python"

Seed = tuple[str, Any]  # ("form" | "payload" | "json", the parsed body)


@pytest.fixture
def seeds(harness: Harness) -> list[Seed]:
    """Real request bodies: what the emulator sends (held to Slack's samples by the
    conformance suite), and Slack's own samples when they are here."""
    found: list[Seed] = [
        ("form", _command(harness)),
        (
            "form",
            dict(
                harness.slack.slash_command_fields(
                    "/book", f"help {MARK}", user_id=ALICE, channel_id=CLUB
                )
            ),
        ),
        (
            "form",
            dict(
                harness.slack.slash_command_fields(
                    "/book", f"add The payload {MARK} | Someone | 3", user_id=ALICE, channel_id=CLUB
                )
            ),
        ),
        ("payload", _block_actions(harness)),
        ("payload", _view_submission(harness)),
        ("payload", _view_submission(harness, type="view_closed")),
        ("json", _envelope(_message())),
        (
            "json",
            _envelope(
                _message(
                    subtype="message_changed", message={"ts": "1800000000.000300", "text": MARK}
                )
            ),
        ),
        ("json", _envelope(_message(subtype="message_deleted", deleted_ts="1800000000.000300"))),
        (
            "json",
            _envelope(
                {
                    "type": "reaction_added",
                    "user": BOB,
                    "reaction": "tada",
                    "item": {"type": "message", "channel": CLUB, "ts": "1800000000.000300"},
                    "event_ts": "1800000000.000400",
                }
            ),
        ),
        ("json", _envelope({"type": "app_home_opened", "user": ALICE, "tab": "home"})),
        ("json", {"token": "x", "challenge": MARK, "type": "url_verification"}),
    ]
    if SAMPLES.is_dir():
        for path in sorted(SAMPLES.glob("*.json")):
            sample = json.loads(path.read_text())
            kind = (
                "json"
                if sample.get("type") in ("event_callback", "url_verification")
                else "payload"
            )
            found.append((kind, sample))
    return found


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24)
    | st.sampled_from(["", ALICE, CLUB, TEAM, "1800000000.000300", MARK, "x" * 300]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _mutate(data: st.DataObject, kind: str, body: Any) -> Any:
    body = json.loads(json.dumps(body))
    for _ in range(data.draw(st.integers(0, 3), label="mutations")):
        path = data.draw(st.sampled_from(_paths(body)), label="path")
        if kind == "form":
            value: Any = data.draw(
                st.text(max_size=40) | st.sampled_from(["", MARK]), label="value"
            )
            path = path[:1]
        else:
            value = data.draw(JSON_VALUES, label="value")
        if not path:
            if kind != "form":
                body = value
            continue
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans(), label="delete") and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    return body


def _serialize(kind: str, body: Any) -> Body:
    if kind == "form":
        if isinstance(body, dict):
            return urlencode({k: str(v) for k, v in body.items()}).encode(), FORM
        return _json(body)
    if kind == "payload":
        return _payload(body)
    return _json(body)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_real_payloads_never_get_a_500_nor_reach_the_logs(
    logs: pytest.LogCaptureFixture, harness: Harness, seeds: list[Seed], data: st.DataObject
) -> None:
    stream = io.StringIO()
    handler = log_handler("text", stream)  # what `readalong serve` writes, at DEBUG
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        kind, seed = data.draw(st.sampled_from(seeds), label="seed")
        body, content_type = _serialize(kind, _mutate(data, kind, seed))
        damage = data.draw(st.sampled_from(["none", "none", "truncate", "insert", "type"]))
        if damage == "truncate":
            body = body[: data.draw(st.integers(0, len(body)), label="cut")]
        elif damage == "insert":
            at = data.draw(st.integers(0, len(body)), label="at")
            body = (
                body[:at] + data.draw(st.binary(min_size=1, max_size=4), label="bytes") + body[at:]
            )
        elif damage == "type":
            content_type = FORM if content_type == JSON_TYPE else JSON_TYPE
        signature = data.draw(st.sampled_from(["good", "good", "good", "forged", "stale"]))
        stamp = str(int(time.time()) - (400 if signature == "stale" else 0))
        secret = "not-the-secret" if signature == "forged" else SECRET
        response = harness.slack.send_raw(
            body, content_type, timestamp=stamp, signature=sign(secret, stamp, body)
        )
        # 404: a well-formed request nobody listens for (bolt's answer; see the report).
        assert response.status in (200, 400, 401, 404, 413), (response.status, response.text)
        if signature != "good":
            assert response.status == 401
        harness.drain()
    finally:
        root.removeHandler(handler)
    written = stream.getvalue()
    for secret_text in (MARK, URL_MARK, harness.emulator.bot_token, "xoxb-"):
        assert secret_text not in written, written
    assert not [r for r in _guard_lines(logs) if MARK in r.getMessage()]
    listener_errors = [r for r in logs.records if r.name == "bot.slack.app"]
    assert not listener_errors, [r.getMessage() for r in listener_errors]
