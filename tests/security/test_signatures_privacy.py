"""Requests that are not from Slack change nothing; private reflections reach nobody else."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from datetime import time as clock_time

from sqlalchemy import func, select

from bot.domain.model import Cadence, Caller, Visibility
from bot.emulator.client import sign
from bot.storage.models import ProcessedEventRow, ThreadMessageRow
from tests.harness import ALICE, BOB, CAROL, CLUB, SECRET, Harness

TEAM = "T0EMULATOR1"


def _event_body(harness: Harness, event_id: str) -> bytes:
    event = {
        "type": "message",
        "channel": CLUB,
        "user": BOB,
        "text": "sneaky",
        "ts": "1800000000.000001",
        "thread_ts": "1800000000.000000",
        "event_ts": "1800000000.000001",
        "channel_type": "channel",
    }
    return json.dumps(
        {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A0READALONG",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1800000000,
        }
    ).encode()


def _stored(harness: Harness) -> tuple[int, int]:
    with harness.runtime.session_factory() as session:
        return (
            int(session.scalar(select(func.count()).select_from(ProcessedEventRow)) or 0),
            int(session.scalar(select(func.count()).select_from(ThreadMessageRow)) or 0),
        )


def test_forged_stale_missing_and_replayed_requests_get_401_and_store_nothing(
    harness: Harness,
) -> None:
    now = str(int(time.time()))
    body = _event_body(harness, "EvForged")
    forged = harness.slack.send_raw(
        body, "application/json", timestamp=now, signature=sign("wrong-secret", now, body)
    )
    old = str(int(time.time()) - 301)
    stale = harness.slack.send_raw(
        body, "application/json", timestamp=old, signature=sign(SECRET, old, body)
    )
    missing = harness.slack.send_raw(
        body, "application/json", signature="", extra_headers={"X-Slack-Signature": ""}
    )
    # A request captured earlier and replayed once its 5-minute window is over.
    captured_at = str(int(time.time()) - 3600)
    replayed = harness.slack.send_raw(
        body, "application/json", timestamp=captured_at, signature=sign(SECRET, captured_at, body)
    )
    tampered_sig = sign(SECRET, now, body)
    tampered = harness.slack.send_raw(
        body.replace(b"sneaky", b"evil!!"),
        "application/json",
        timestamp=now,
        signature=tampered_sig,
    )
    assert [r.status for r in (forged, stale, missing, replayed, tampered)] == [401] * 5
    harness.drain()
    assert _stored(harness) == (0, 0)
    assert harness.emulator.response_url_posts() == []


def test_private_reflections_reach_no_one_else(harness: Harness) -> None:
    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", "3")
    services.plans.start(
        Caller(TEAM, ALICE),
        CLUB,
        "Dune",
        Cadence.weekly(0, clock_time(9)),
        1,
        date(2026, 12, 7),
        "UTC",
    )
    harness.clock.set(datetime(2026, 12, 7, 9, tzinfo=UTC))
    services.run_due()
    secrets = ["velociraptor-umbrella", "quasar-marmalade", "obsidian-kazoo"]
    harness.say(BOB, "/reflect", f"private {secrets[0]} thoughts")
    harness.say(BOB, "/reflect", f"ch 2 private {secrets[1]}")
    saved = services.reflections.write(TEAM, CLUB, BOB, f"shared first, {secrets[2]}")
    harness.say(BOB, "/reflect", f"edit {saved.reflection.id} now hidden")
    services.reflections.edit(
        TEAM, BOB, saved.reflection.id or 0, f"{secrets[2]} again", Visibility.PRIVATE
    )
    harness.say(BOB, "/reflect", "a shared one everybody may read")
    others_saw = [
        harness.say(CAROL, "/reflect", "quotable on"),
        harness.say(ALICE, "/book", "summary"),
        harness.say(ALICE, "/book", "status"),
        harness.say(CAROL, "/reflect", "export"),
        harness.say(ALICE, "/reflect", "list"),
    ]
    bob_saw = harness.say(BOB, "/reflect", "list")
    assert secrets[0] in bob_saw  # Bob's own list shows his private reflection
    assert not [s for s in secrets for seen in others_saw if s in seen]
    for user in (ALICE, CAROL):
        harness.slack.app_home_opened(user)
    harness.clock.set(datetime(2026, 12, 20, 9, tzinfo=UTC))
    services.run_due()  # next prompts, reminders, step digests
    harness.drain()
    leaks = []
    for call in harness.emulator.calls:
        if call.method == "views.publish" and call.params.get("user_id") == BOB:
            continue  # Bob's own App Home may show Bob's own private reflections
        if call.method == "response_url":
            continue  # ephemeral answers: Bob's own are checked above, the others' too
        text = json.dumps(call.params)
        leaks += [(call.method, s) for s in secrets if s in text]
    for f in harness.emulator.uploaded_files():
        leaks += [("file", s) for s in secrets if s in f.text]
    assert not leaks, leaks
