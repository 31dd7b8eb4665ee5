"""The bot answers every real payload kind it subscribes to (bolt-python's own samples).

Each sample is sent byte-for-byte except for what must point at our emulated workspace:
team, channel and user ids, ``response_url`` and ``trigger_id`` (the samples' URLs are
on slack.com, which is never reachable from here). Skips as a whole when the samples
folder is absent, like the rest of the conformance suite.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.harness import ALICE, CLUB, Harness

_DEFAULT = Path(__file__).resolve().parents[2].parent / "shared" / "slack-samples"
SAMPLES = Path(os.environ.get("READALONG_SLACK_SAMPLES") or _DEFAULT).resolve() / "bolt-python"
if not SAMPLES.is_dir():
    pytest.skip(
        f"Slack samples not found at {SAMPLES} (set READALONG_SLACK_SAMPLES)",
        allow_module_level=True,
    )

SUBSCRIBED_EVENTS = {
    "message",
    "reaction_added",
    "app_home_opened",
    "member_joined_channel",
    "member_left_channel",
    "app_mention",
    "app_uninstalled",
    "tokens_revoked",
}
INTERACTIVE = {"block_actions": "reflect_open", "view_submission": "reflect_submit"}
TEAM_IDS = re.compile(r'"(T[A-Z0-9]{2,})"')
CHANNEL_IDS = re.compile(r'"([CGD][A-Z0-9]{2,})"')
USER_IDS = re.compile(r'"([UW][A-Z0-9]{2,})"')


def _samples(kind: str) -> list[Path]:
    return sorted(p for p in SAMPLES.glob("*.json") if p.name.startswith(kind))


def _retarget(raw: str, harness: Harness) -> str:
    """Point ids and URLs at the emulated workspace; leave every other byte alone."""
    ws = harness.emulator.workspace
    raw = TEAM_IDS.sub(f'"{harness.emulator.team_id}"', raw)
    raw = CHANNEL_IDS.sub(f'"{CLUB}"', raw)
    raw = USER_IDS.sub(f'"{ALICE}"', raw)
    raw = re.sub(
        r'"response_url": "[^"]*"',
        f'"response_url": "{ws.issue_response_url("commands", channel_id=CLUB, user_id=ALICE)}"',
        raw,
    )
    return re.sub(r'"trigger_id": "[^"]*"', f'"trigger_id": "{ws.issue_trigger(ALICE)}"', raw)


def _event_kind(path: Path) -> str:
    return str(json.loads(path.read_text()).get("event", {}).get("type"))


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR)
    return caplog


def _no_errors(errors: pytest.LogCaptureFixture) -> None:
    bad = [
        r
        for r in errors.records
        if r.name.startswith(("bot", "slack_bolt")) and r.levelno >= logging.ERROR
    ]
    assert not bad, [r.getMessage() for r in bad]


def test_every_subscribed_event_sample_is_answered_200(
    harness: Harness, errors: pytest.LogCaptureFixture
) -> None:
    sent = 0
    for path in _samples("event_"):
        if _event_kind(path) not in SUBSCRIBED_EVENTS:
            continue
        body = _retarget(path.read_text(), harness).encode()
        response = harness.slack.send_raw(body, "application/json")
        assert response.status == 200, (path.name, response.status, response.text)
        sent += 1
    harness.drain()
    assert sent >= 30
    _no_errors(errors)


def test_url_verification_and_ssl_check(harness: Harness) -> None:
    sample = json.loads(
        (SAMPLES / "url_verification__events_url_verification__event_body.json").read_text()
    )
    response = harness.slack.send_raw(json.dumps(sample).encode(), "application/json")
    assert response.status == 200 and sample["challenge"] in response.text
    ssl = (
        (SAMPLES / "ssl_check__ssl_check__body.form.txt").read_bytes().strip()
    )  # the file ends in a newline
    assert harness.slack.send_raw(ssl, "application/x-www-form-urlencoded").status == 200


def test_real_slash_command_body(harness: Harness, errors: pytest.LogCaptureFixture) -> None:
    fields = dict(
        urllib.parse.parse_qsl(
            (SAMPLES / "slash_command__slash_command__slash_command_body.form.txt").read_text()
        )
    )
    fields.update(
        team_id=harness.emulator.team_id,
        channel_id=CLUB,
        user_id=ALICE,
        command="/book",
        text="help",
        response_url=harness.emulator.workspace.issue_response_url(
            "commands", channel_id=CLUB, user_id=ALICE
        ),
        trigger_id=harness.emulator.workspace.issue_trigger(ALICE),
    )
    response = harness.slack.send_raw(
        urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
    )
    assert response.status == 200
    harness.drain()
    posts = harness.emulator.response_url_posts()
    assert posts and "Readalong" in json.dumps(posts[-1]["payload"])
    _no_errors(errors)


@pytest.mark.parametrize("kind", sorted(INTERACTIVE))
def test_real_interactive_payloads(
    kind: str, harness: Harness, errors: pytest.LogCaptureFixture
) -> None:
    paths = _samples(kind)
    assert paths
    for path in paths:
        payload: dict[str, Any] = json.loads(_retarget(path.read_text(), harness))
        if kind == "block_actions":
            for action in payload["actions"]:
                action["action_id"] = INTERACTIVE[kind]
        else:
            payload["view"]["callback_id"] = INTERACTIVE[kind]
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        response = harness.slack.send_raw(body, "application/x-www-form-urlencoded")
        assert response.status == 200, (path.name, response.text)
    harness.drain()
    _no_errors(errors)
