"""slack_sdk's WebClient against the emulator, method by method."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import FakeClock, SlackEmulator
from tests.emulator.conftest import ALICE, BOB, CAROL, GENERAL, PRIVATE


def _error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


def test_auth_test_reports_the_bot_identity(web: WebClient, emulator: SlackEmulator) -> None:
    data = web.auth_test().data
    assert data == {
        "ok": True,
        "url": "https://readalong-emulator.slack.com/",
        "team": "Readalong Emulator",
        "user": "readalong",
        "team_id": "T0EMULATOR1",
        "user_id": emulator.bot_user_id,
        "bot_id": emulator.bot_id,
        "is_enterprise_install": False,
    }


def test_missing_and_wrong_tokens(emulator: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=emulator.api_url).auth_test()
    assert _error(missing) == "not_authed"
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxb-wrong", base_url=emulator.api_url).chat_postMessage(
            channel=GENERAL, text="hi"
        )
    assert _error(wrong) == "invalid_auth"
    assert emulator.messages(GENERAL) == []


def test_token_as_form_parameter_and_get(emulator: SlackEmulator) -> None:
    url = emulator.api_url + f"users.info?token={emulator.bot_token}&user={BOB}"
    with urllib.request.urlopen(url) as response:  # GET with query parameters
        body = json.loads(response.read())
    assert body["ok"] is True
    assert body["user"]["name"] == "bob"
    assert body["user"]["tz"] == "America/New_York"
    assert body["user"]["tz_offset"] == -5 * 3600  # November: EST


def test_unknown_method_is_404(emulator: SlackEmulator) -> None:
    request = urllib.request.Request(emulator.api_url + "chat.teleport", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request)
    assert excinfo.value.code == 404
    assert json.loads(excinfo.value.read()) == {"ok": False, "error": "unknown_method"}


def test_post_message_shape_and_recording(web: WebClient, emulator: SlackEmulator) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Chapter 3* is due"}}]
    metadata = {"event_type": "prompt_posted", "event_payload": {"prompt_id": 7}}
    response = web.chat_postMessage(
        channel=GENERAL, text="Chapter 3 is due", blocks=blocks, metadata=metadata
    )
    assert response["channel"] == GENERAL
    message = response["message"]
    assert message["type"] == "message"
    assert message["text"] == "Chapter 3 is due"
    assert message["user"] == emulator.bot_user_id
    assert message["bot_id"] == emulator.bot_id
    assert message["app_id"] == emulator.app_id
    assert message["team"] == emulator.team_id
    assert message["ts"] == response["ts"]
    assert message["blocks"] == blocks
    assert message["metadata"] == metadata
    assert "thread_ts" not in message

    [call] = emulator.calls_to("chat.postMessage")
    assert call.status == 200
    assert call.params["blocks"] == blocks  # decoded from the JSON body
    assert call.params["metadata"] == metadata
    assert call.response["ts"] == response["ts"]
    assert "token" not in call.params

    [stored] = emulator.messages(GENERAL)
    assert (stored.text, stored.blocks, stored.metadata) == ("Chapter 3 is due", blocks, metadata)
    assert stored.bot_id == emulator.bot_id


def test_form_encoded_post_message_decodes_blocks(emulator: SlackEmulator) -> None:
    blocks = [{"type": "divider"}]
    data = urllib.parse.urlencode(
        {"channel": GENERAL, "text": "x", "blocks": json.dumps(blocks), "mrkdwn": "false"}
    ).encode()
    request = urllib.request.Request(
        emulator.api_url + "chat.postMessage",
        data=data,
        headers={"Authorization": f"Bearer {emulator.bot_token}"},
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["ok"] is True
    [call] = emulator.calls_to("chat.postMessage")
    assert call.params["blocks"] == blocks
    assert call.params["mrkdwn"] == "false"


def test_ts_strictly_increasing_even_when_clock_stands_still(
    web: WebClient, emulator: SlackEmulator, clock: FakeClock
) -> None:
    stamps = [web.chat_postMessage(channel=GENERAL, text=str(i))["ts"] for i in range(5)]
    clock.advance(1.5)
    stamps.append(web.chat_postMessage(channel=PRIVATE, text="later")["ts"])
    assert stamps[0] == "1700000000.000000"
    assert stamps[-1] == "1700000001.500000"
    as_numbers = [tuple(map(int, s.split("."))) for s in stamps]
    assert as_numbers == sorted(set(as_numbers))
    assert all(len(s.split(".")[1]) == 6 for s in stamps)
    assert [m.text for m in emulator.messages(GENERAL)] == ["0", "1", "2", "3", "4"]


def test_threads(web: WebClient, emulator: SlackEmulator) -> None:
    parent = web.chat_postMessage(channel=GENERAL, text="Discuss chapter 1")["ts"]
    reply = web.chat_postMessage(channel=GENERAL, text="first!", thread_ts=parent)
    assert reply["message"]["thread_ts"] == parent
    assert reply["message"]["parent_user_id"] == emulator.bot_user_id
    web.chat_postMessage(channel=GENERAL, text="unrelated")
    # replying to a reply files it under the thread's parent, like Slack
    nested = web.chat_postMessage(channel=GENERAL, text="second", thread_ts=reply["ts"])
    assert nested["message"]["thread_ts"] == parent
    assert [m.text for m in emulator.thread(GENERAL, parent)] == [
        "Discuss chapter 1",
        "first!",
        "second",
    ]
    with pytest.raises(SlackApiError) as excinfo:
        web.chat_postMessage(channel=GENERAL, text="orphan", thread_ts="1600000000.000100")
    assert _error(excinfo) == "thread_not_found"


def test_reply_broadcast(web: WebClient, emulator: SlackEmulator) -> None:
    parent = web.chat_postMessage(channel=GENERAL, text="p")["ts"]
    reply = web.chat_postMessage(channel=GENERAL, text="b", thread_ts=parent, reply_broadcast=True)
    assert reply["message"]["subtype"] == "thread_broadcast"
    assert emulator.messages(GENERAL)[-1].reply_broadcast is True


def test_concurrent_posts_get_unique_increasing_ts(emulator: SlackEmulator) -> None:
    stamps: list[str] = []
    lock = threading.Lock()

    def post(worker: int) -> None:
        client = WebClient(token=emulator.bot_token, base_url=emulator.api_url)
        for i in range(15):
            ts = client.chat_postMessage(channel=GENERAL, text=f"{worker}-{i}")["ts"]
            with lock:
                stamps.append(ts)

    threads = [threading.Thread(target=post, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(stamps)) == 120
    history = emulator.messages(GENERAL)
    assert sorted(m.ts for m in history) == [m.ts for m in history]
    assert {m.ts for m in history} == set(stamps)
    assert len(emulator.calls_to("chat.postMessage")) == 120


def test_channel_resolution(web: WebClient, emulator: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        web.chat_postMessage(channel="C0NOPE00000", text="hi")
    assert _error(excinfo) == "channel_not_found"
    with pytest.raises(SlackApiError) as missing:
        web.chat_postMessage(channel="", text="hi")
    assert _error(missing) == "channel_not_found"
    # a user id opens the DM with that user
    dm = web.chat_postMessage(channel=CAROL, text="hello Carol")
    assert dm["channel"].startswith("D")
    assert dm["channel"] == emulator.dm_channel(CAROL)
    assert [m.text for m in emulator.messages(dm["channel"])] == ["hello Carol"]
    # a private channel the bot is not in is invisible
    emulator.add_channel("C0SECRET001", "secret", is_private=True, members=[ALICE])
    with pytest.raises(SlackApiError) as hidden:
        web.conversations_info(channel="C0SECRET001")
    assert _error(hidden) == "channel_not_found"


def test_post_ephemeral(web: WebClient, emulator: SlackEmulator) -> None:
    response = web.chat_postEphemeral(channel=GENERAL, user=ALICE, text="only you")
    [eph] = emulator.ephemerals(ALICE)
    assert eph.ts == response["message_ts"]
    assert (eph.channel, eph.ephemeral_to, eph.text) == (GENERAL, ALICE, "only you")
    assert emulator.messages(GENERAL) == []
    assert emulator.ephemerals(BOB) == []
    with pytest.raises(SlackApiError) as excinfo:
        web.chat_postEphemeral(channel=GENERAL, user=CAROL, text="not a member")
    assert _error(excinfo) == "user_not_in_channel"


def test_update_and_delete(web: WebClient, emulator: SlackEmulator) -> None:
    ts = web.chat_postMessage(channel=GENERAL, text="v1")["ts"]
    updated = web.chat_update(channel=GENERAL, ts=ts, text="v2")
    assert (updated["ts"], updated["text"], updated["message"]["text"]) == (ts, "v2", "v2")
    assert updated["message"]["edited"]["user"] == emulator.bot_id
    [message] = emulator.messages(GENERAL)
    assert message.edited and message.text == "v2"

    deleted = web.chat_delete(channel=GENERAL, ts=ts)
    assert (deleted["channel"], deleted["ts"]) == (GENERAL, ts)
    [message] = emulator.messages(GENERAL)
    assert message.deleted
    with pytest.raises(SlackApiError) as again:
        web.chat_update(channel=GENERAL, ts=ts, text="v3")
    assert _error(again) == "message_not_found"
    with pytest.raises(SlackApiError) as twice:
        web.chat_delete(channel=GENERAL, ts=ts)
    assert _error(twice) == "message_not_found"


def test_bot_cannot_edit_a_persons_message(web: WebClient, emulator: SlackEmulator) -> None:
    message = emulator.workspace.post_message(GENERAL, user=ALICE, text="mine")
    with pytest.raises(SlackApiError) as update:
        web.chat_update(channel=GENERAL, ts=message.ts, text="hijacked")
    assert _error(update) == "cant_update_message"
    with pytest.raises(SlackApiError) as delete:
        web.chat_delete(channel=GENERAL, ts=message.ts)
    assert _error(delete) == "cant_delete_message"


def test_get_permalink(web: WebClient) -> None:
    parent = web.chat_postMessage(channel=GENERAL, text="p")["ts"]
    reply = web.chat_postMessage(channel=GENERAL, text="r", thread_ts=parent)["ts"]
    link = web.chat_getPermalink(channel=GENERAL, message_ts=parent)
    assert link["permalink"] == (
        f"https://readalong-emulator.slack.com/archives/{GENERAL}/p{parent.replace('.', '')}"
    )
    assert link["channel"] == GENERAL
    reply_link = web.chat_getPermalink(channel=GENERAL, message_ts=reply)["permalink"]
    assert reply_link.endswith(f"?thread_ts={parent}&cid={GENERAL}")
    with pytest.raises(SlackApiError) as excinfo:
        web.chat_getPermalink(channel=GENERAL, message_ts="1.000001")
    assert _error(excinfo) == "message_not_found"


def test_conversations_info(web: WebClient, emulator: SlackEmulator) -> None:
    channel = web.conversations_info(channel=GENERAL, include_num_members=True)["channel"]
    assert channel["id"] == GENERAL
    assert channel["name"] == "general"
    assert channel["is_channel"] is True and channel["is_private"] is False
    assert channel["is_member"] is True
    assert channel["num_members"] == 3
    private = web.conversations_info(channel=PRIVATE)["channel"]
    assert private["is_private"] is True and private["is_group"] is True
    im = web.conversations_info(channel=emulator.dm_channel(ALICE))["channel"]
    assert im["is_im"] is True


def test_conversations_members_paginates(web: WebClient, emulator: SlackEmulator) -> None:
    many = [f"U0MEMBER{i:03d}" for i in range(7)]
    for user_id in many:
        emulator.add_user(user_id, user_id.lower())
        emulator.join(GENERAL, user_id)
    expected = [ALICE, BOB, emulator.bot_user_id, *many]
    pages = [page["members"] for page in web.conversations_members(channel=GENERAL, limit=4)]
    assert [len(p) for p in pages] == [4, 4, 2]
    assert [m for page in pages for m in page] == expected
    calls = emulator.calls_to("conversations.members")
    assert calls[-1].response["response_metadata"]["next_cursor"] == ""
    assert calls[1].params["cursor"] == calls[0].response["response_metadata"]["next_cursor"]
    with pytest.raises(SlackApiError) as excinfo:
        web.conversations_members(channel=GENERAL, cursor="bm9wZQ==")
    assert _error(excinfo) == "invalid_cursor"
    with pytest.raises(SlackApiError) as bad_limit:
        web.conversations_members(channel=GENERAL, limit=0)
    assert _error(bad_limit) == "invalid_limit"


def test_conversations_open(web: WebClient, emulator: SlackEmulator) -> None:
    first = web.conversations_open(users=BOB)
    assert first["channel"]["id"].startswith("D")
    assert "already_open" not in first
    again = web.conversations_open(users=[BOB], return_im=True)
    assert again["already_open"] is True and again["no_op"] is True
    assert again["channel"]["id"] == first["channel"]["id"]
    assert again["channel"]["user"] == BOB and again["channel"]["is_im"] is True
    assert emulator.dm_channel(BOB) == first["channel"]["id"]
    group = web.conversations_open(users=[ALICE, BOB])["channel"]["id"]
    assert group.startswith("G") and group != first["channel"]["id"]
    with pytest.raises(SlackApiError) as unknown:
        web.conversations_open(users="U0GHOST0000")
    assert _error(unknown) == "user_not_found"
    with pytest.raises(SlackApiError) as missing:
        web.api_call("conversations.open", json={})
    assert _error(missing) == "users_list_not_supplied"


def test_users_info(web: WebClient) -> None:
    user = web.users_info(user=ALICE)["user"]
    assert user["id"] == ALICE and user["name"] == "alice"
    assert user["real_name"] == "Alice Archer"
    assert user["profile"]["real_name"] == "Alice Archer"
    assert user["is_admin"] is True and user["is_bot"] is False
    assert user["tz"] == "Europe/Berlin" and user["tz_offset"] == 3600
    assert user["tz_label"] == "Central European Time"
    with pytest.raises(SlackApiError) as excinfo:
        web.users_info(user="U0GHOST0000")
    assert _error(excinfo) == "user_not_found"


def test_workspace_lookup_helpers(emulator: SlackEmulator) -> None:
    assert emulator.workspace.user_id_by_name("@bob") == BOB
    assert emulator.workspace.user_id_by_name("Carol Cook") == CAROL
    assert emulator.workspace.user_id_by_name("nobody") is None
    assert emulator.workspace.channel_id_by_name("#book-club") == PRIVATE


def test_reset_calls_and_copies(web: WebClient, emulator: SlackEmulator) -> None:
    web.auth_test()
    calls = emulator.calls
    calls[0].params["tampered"] = True
    assert "tampered" not in emulator.calls[0].params
    emulator.reset_calls()
    assert emulator.calls == []
