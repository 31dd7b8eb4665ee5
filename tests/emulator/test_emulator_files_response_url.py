"""files_upload_v2 round trip and response_url semantics (5 uses, replace, delete)."""

from __future__ import annotations

from urllib.parse import parse_qs

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.emulator import FakeClock, SlackAppClient, SlackEmulator
from tests.emulator.conftest import ALICE, GENERAL, RecordingApp


def test_files_upload_v2_round_trip(web: WebClient, emulator: SlackEmulator) -> None:
    parent = web.chat_postMessage(channel=GENERAL, text="export thread")["ts"]
    response = web.files_upload_v2(
        channel=GENERAL,
        content="date,reader\n2024-03-01,alice\n",
        filename="reflections.csv",
        title="Reflections export",
        initial_comment="Here is the export",
        thread_ts=parent,
    )
    assert response["file"]["name"] == "reflections.csv"
    assert response["file"]["title"] == "Reflections export"
    [uploaded] = emulator.uploaded_files()
    assert uploaded.id == response["file"]["id"]
    assert uploaded.name == "reflections.csv"
    assert uploaded.title == "Reflections export"
    assert uploaded.content == b"date,reader\n2024-03-01,alice\n"
    assert uploaded.text.startswith("date,reader")
    assert (uploaded.channel, uploaded.thread_ts) == (GENERAL, parent)
    assert uploaded.initial_comment == "Here is the export"
    share = emulator.thread(GENERAL, parent)[-1]
    assert share.subtype == "file_share"
    assert share.text == "Here is the export"
    assert share.files[0]["id"] == uploaded.id
    methods = [c.method for c in emulator.calls]
    assert methods[-3:] == [
        "files.getUploadURLExternal",
        "files.upload_url",
        "files.completeUploadExternal",
    ]


def test_upload_without_channel_is_private(web: WebClient, emulator: SlackEmulator) -> None:
    web.files_upload_v2(content=b"\x00\x01binary", filename="blob.bin")
    [uploaded] = emulator.uploaded_files()
    assert uploaded.channel is None and uploaded.content == b"\x00\x01binary"
    assert emulator.messages(GENERAL) == []


def _command(slack: SlackAppClient, app: RecordingApp) -> str:
    assert (
        slack.slash_command("/readalong", "status", user_id=ALICE, channel_id=GENERAL).status == 200
    )
    form = parse_qs(app.received[-1].body.decode())
    return form["response_url"][0]


def test_response_url_five_uses_then_used_url(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator
) -> None:
    url = _command(slack, app)
    assert url.startswith(emulator.base_url + "/commands/" + emulator.team_id + "/")
    hook = WebhookClient(url)
    statuses = [hook.send(text=f"reply {i}").status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 200, 404]
    assert hook.send(text="again").body == "used_url"
    assert [m.text for m in emulator.ephemerals(ALICE)] == [f"reply {i}" for i in range(5)]
    assert all(m.response_type == "ephemeral" for m in emulator.ephemerals(ALICE))
    posts = emulator.response_url_posts()
    assert [p["status"] for p in posts] == [200] * 5 + [404, 404]
    assert posts[0]["payload"] == {"text": "reply 0"}


def test_response_url_expires_after_30_minutes(
    slack: SlackAppClient, app: RecordingApp, clock: FakeClock
) -> None:
    url = _command(slack, app)
    clock.advance(30 * 60 + 1)
    response = WebhookClient(url).send(text="too late")
    assert (response.status_code, response.body) == (404, "expired_url")


def test_response_url_in_channel_replace_and_delete(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator
) -> None:
    url = _command(slack, app)
    hook = WebhookClient(url)
    assert hook.send(text="Everyone: chapter 4", response_type="in_channel").status_code == 200
    [public] = emulator.messages(GENERAL)
    assert (public.text, public.response_type, public.bot_id) == (
        "Everyone: chapter 4",
        "in_channel",
        emulator.bot_id,
    )
    assert hook.send(text="working…").status_code == 200
    assert hook.send(text="done", replace_original=True).status_code == 200
    [eph] = emulator.ephemerals(ALICE)
    assert eph.text == "done"
    assert hook.send(delete_original=True).status_code == 200
    [eph] = emulator.ephemerals(ALICE)
    assert eph.deleted


def test_response_url_refuses_bad_payloads(
    slack: SlackAppClient, app: RecordingApp, emulator: SlackEmulator
) -> None:
    url = _command(slack, app)
    hook = WebhookClient(url)
    assert (hook.send(text="").status_code, hook.send(text="").body) == (400, "no_text")
    too_many = [{"type": "divider"}] * 51
    assert hook.send(text="x", blocks=too_many).body == "invalid_blocks"
    # refused posts do not count towards the five uses
    assert [hook.send(text=str(i)).status_code for i in range(5)] == [200] * 5
    assert len(emulator.ephemerals(ALICE)) == 5
