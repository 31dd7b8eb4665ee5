"""Conformance: the emulator and the app-facing client held to Slack's published samples.

Reads ``../shared/slack-samples`` (or ``$READALONG_SLACK_SAMPLES``) in place; the whole
module skips when that folder is absent.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

_DEFAULT = Path(__file__).resolve().parents[2] / ".." / "shared" / "slack-samples"
SAMPLES = Path(os.environ.get("READALONG_SLACK_SAMPLES") or _DEFAULT).resolve()
if not (SAMPLES / "bolt-python").is_dir():
    pytest.skip(
        f"Slack samples not found at {SAMPLES} (set READALONG_SLACK_SAMPLES)",
        allow_module_level=True,
    )

from slack_sdk import WebClient  # noqa: E402
from slack_sdk.errors import SlackApiError  # noqa: E402
from slack_sdk.signature import Clock, SignatureVerifier  # noqa: E402
from slack_sdk.web import SlackResponse  # noqa: E402

from bot.emulator import FakeClock, SlackAppClient, SlackEmulator, sign  # noqa: E402
from bot.emulator.webapi import AUTH_ERRORS, METHOD_ERRORS  # noqa: E402

ALICE = "U0ALICE0001"
BOB = "U0BOB000002"
GENERAL = "C0GENERAL01"
SECRET = "conformance-secret"

#: Error codes Slack documents today that the archived 2020 spec's enums predate.
NEWER_THAN_SPEC: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"invalid_blocks", "thread_not_found"}),
    "chat.postEphemeral": frozenset({"invalid_blocks"}),
    "chat.update": frozenset({"invalid_blocks"}),
}

#: Subtrees whose keys come from the caller (Block Kit, metadata), not from Slack.
CALLER_CONTENT = frozenset({"blocks", "event_payload", "state", "values"})


def load(relative: str) -> Any:
    return json.loads((SAMPLES / relative).read_text())


# ---------------------------------------------------------------------- fixtures


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    emu = SlackEmulator(clock=FakeClock(1_700_000_000.0))
    emu.add_user(ALICE, "alice", real_name="Alice Archer")
    emu.add_user(BOB, "bob")
    emu.add_channel(GENERAL, "general", members=[ALICE, BOB, emu.bot_user_id])
    with emu:
        yield emu


@pytest.fixture
def web(emulator: SlackEmulator) -> WebClient:
    return WebClient(token=emulator.bot_token, base_url=emulator.api_url)


@pytest.fixture
def app_url() -> Iterator[str]:
    """An app endpoint that answers 200 to everything."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# ---------------------------------------------------------------------- real views


VIEW_FILES = sorted((SAMPLES / "python-slack-sdk").glob("view_*.json"))


def test_there_are_view_samples() -> None:
    assert len(VIEW_FILES) >= 10


@pytest.mark.parametrize("path", VIEW_FILES, ids=lambda p: p.stem)
def test_emulator_accepts_real_views(path: Path, web: WebClient, emulator: SlackEmulator) -> None:
    view = json.loads(path.read_text())
    if view["type"] == "modal":
        trigger = emulator.workspace.issue_trigger(ALICE)
        returned = web.views_open(trigger_id=trigger, view=view)["view"]
        assert emulator.open_views(ALICE) == [returned]
    else:
        returned = web.views_publish(user_id=ALICE, view=view)["view"]
        assert emulator.home_view(ALICE) == returned
    assert returned["type"] == view["type"]
    # Slack echoes every block as sent, adding only the block_id/action_id it assigns
    assert echoed(view["blocks"], returned["blocks"])
    assert all(block["block_id"] for block in returned["blocks"])


def echoed(sent: Any, kept: Any) -> bool:
    """``kept`` holds everything in ``sent`` (plus, possibly, assigned ids)."""
    if isinstance(sent, dict):
        return (
            isinstance(kept, dict)
            and set(kept) - set(sent) <= {"block_id", "action_id"}
            and all(echoed(v, kept.get(k)) for k, v in sent.items())
        )
    if isinstance(sent, list):
        return (
            isinstance(kept, list)
            and len(kept) == len(sent)
            and all(echoed(a, b) for a, b in zip(sent, kept, strict=True))
        )
    return bool(sent == kept)


# ---------------------------------------------------------------------- signatures


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_signature_test_vector() -> None:
    vector = load("python-slack-sdk/signature_test_vector.json")
    body = vector["body"].encode()
    assert sign(vector["signing_secret"], vector["timestamp"], body) == vector["valid_signature"]
    verifier = SignatureVerifier(vector["signing_secret"], clock=_FixedClock(vector["clock_now"]))
    assert verifier.is_valid(body, vector["timestamp"], vector["valid_signature"])
    tampered = body.replace(b"text=", b"text=x")
    assert not verifier.is_valid(tampered, vector["timestamp"], vector["valid_signature"])
    late = SignatureVerifier(vector["signing_secret"], clock=_FixedClock(vector["clock_now"] + 301))
    assert not late.is_valid(body, vector["timestamp"], vector["valid_signature"])


# ---------------------------------------------------------------------- response keys


def extra_keys(ours: Any, sample: Any, path: str = "") -> list[str]:
    """Paths in ``ours`` whose keys do not appear in ``sample`` (recursively)."""
    out: list[str] = []
    if isinstance(ours, dict) and isinstance(sample, dict):
        for key, value in ours.items():
            if key not in sample:
                out.append(f"{path}.{key}".lstrip("."))
            elif key not in CALLER_CONTENT:
                out.extend(extra_keys(value, sample[key], f"{path}.{key}"))
    elif isinstance(ours, list) and isinstance(sample, list) and sample:
        merged: dict[str, Any] = {}
        for item in sample:
            if isinstance(item, dict):
                merged.update(item)
        for i, item in enumerate(ours):
            out.extend(extra_keys(item, merged or sample[0], f"{path}[{i}]"))
    return out


def missing_keys(ours: dict[str, Any], essential: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, nested in essential.items():
        if key not in ours:
            out.append(key)
        elif isinstance(nested, dict):
            out.extend(f"{key}.{k}" for k in missing_keys(ours[key], nested))
    return out


def _data(response: SlackResponse) -> dict[str, Any]:
    assert isinstance(response.data, dict)
    return response.data


def _successes(web: WebClient, emulator: SlackEmulator) -> dict[str, list[dict[str, Any]]]:
    """One or more successful responses per method."""
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "submit": {"type": "plain_text", "text": "S"},
        "close": {"type": "plain_text", "text": "C"},
        "blocks": blocks,
    }
    home = {"type": "home", "blocks": blocks}
    post = web.chat_postMessage(
        channel=GENERAL,
        text="hi",
        blocks=blocks,
        metadata={"event_type": "e", "event_payload": {"k": 1}},
    )
    reply = web.chat_postMessage(channel=GENERAL, text="reply", thread_ts=post["ts"])
    opened = web.views_open(trigger_id=emulator.workspace.issue_trigger(ALICE), view=modal)
    pushed = web.views_push(trigger_id=emulator.workspace.issue_trigger(ALICE), view=modal)
    responses = {
        "auth.test": [web.auth_test()],
        "chat.postMessage": [post, reply],
        "chat.postEphemeral": [web.chat_postEphemeral(channel=GENERAL, user=ALICE, text="e")],
        "chat.update": [web.chat_update(channel=GENERAL, ts=post["ts"], text="v2")],
        "chat.getPermalink": [web.chat_getPermalink(channel=GENERAL, message_ts=reply["ts"])],
        "chat.delete": [web.chat_delete(channel=GENERAL, ts=reply["ts"])],
        "conversations.info": [
            web.conversations_info(channel=GENERAL, include_num_members=True),
            web.conversations_info(channel=emulator.dm_channel(BOB)),
        ],
        "conversations.members": [web.conversations_members(channel=GENERAL, limit=1)],
        "conversations.open": [
            web.conversations_open(users=ALICE),
            web.conversations_open(users=ALICE, return_im=True),
        ],
        "users.info": [web.users_info(user=ALICE), web.users_info(user=emulator.bot_user_id)],
        "views.open": [opened],
        "views.push": [pushed],
        "views.update": [web.views_update(view_id=opened["view"]["id"], view=modal)],
        "views.publish": [web.views_publish(user_id=ALICE, view=home)],
    }
    return {method: [_data(r) for r in found] for method, found in responses.items()}


ESSENTIAL: dict[str, dict[str, Any]] = {
    "auth.test": {"ok": 1, "url": 1, "team": 1, "user": 1, "team_id": 1, "user_id": 1, "bot_id": 1},
    "chat.postMessage": {
        "ok": 1,
        "channel": 1,
        "ts": 1,
        "message": {"type": 1, "text": 1, "user": 1, "ts": 1, "bot_id": 1, "app_id": 1, "team": 1},
    },
    "chat.postEphemeral": {"ok": 1, "message_ts": 1},
    "chat.update": {"ok": 1, "channel": 1, "ts": 1, "text": 1, "message": {"text": 1, "type": 1}},
    "chat.getPermalink": {"ok": 1, "permalink": 1, "channel": 1},
    "chat.delete": {"ok": 1, "channel": 1, "ts": 1},
    "conversations.info": {"ok": 1, "channel": {"id": 1, "is_im": 1, "created": 1}},
    "conversations.members": {"ok": 1, "members": 1, "response_metadata": {"next_cursor": 1}},
    "conversations.open": {"ok": 1, "channel": {"id": 1}},
    "users.info": {
        "ok": 1,
        "user": {
            "id": 1,
            "team_id": 1,
            "name": 1,
            "real_name": 1,
            "tz": 1,
            "tz_label": 1,
            "tz_offset": 1,
            "is_admin": 1,
            "is_owner": 1,
            "is_bot": 1,
            "profile": {"real_name": 1, "display_name": 1},
        },
    },
    **{
        method: {
            "ok": 1,
            "view": {"id": 1, "team_id": 1, "type": 1, "blocks": 1, "hash": 1, "app_id": 1},
        }
        for method in ("views.open", "views.push", "views.update", "views.publish")
    },
}


def test_success_responses_use_only_real_keys(web: WebClient, emulator: SlackEmulator) -> None:
    problems: dict[str, list[str]] = {}
    for method, responses in _successes(web, emulator).items():
        sample = load(f"java-slack-sdk/api/{method}.json")
        for response in responses:
            extra = extra_keys(response, sample)
            missing = missing_keys(response, ESSENTIAL[method])
            if extra or missing:
                problems[method] = [f"extra: {e}" for e in extra] + [
                    f"missing: {m}" for m in missing
                ]
    assert problems == {}
    # the extended keys we check are really there: channel, user, message and view objects
    assert set(ESSENTIAL) == set(_successes(web, emulator))


def _provoke_errors(web: WebClient, emulator: SlackEmulator) -> None:
    """Make every method refuse in as many ways as the emulator knows."""
    ghost, nowhere = "U0GHOST0000", "C0NOWHERE00"
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    ts = web.chat_postMessage(channel=GENERAL, text="x")["ts"]
    human = emulator.workspace.post_message(GENERAL, user=ALICE, text="human").ts
    big = [{"type": "divider"}] * 51
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("chat.postMessage", {"channel": nowhere, "text": "x"}),
        ("chat.postMessage", {"channel": GENERAL}),
        ("chat.postMessage", {"channel": GENERAL, "text": "x" * 40_001}),
        ("chat.postMessage", {"channel": GENERAL, "text": "x", "blocks": big}),
        ("chat.postMessage", {"channel": GENERAL, "text": "x", "thread_ts": "1.000001"}),
        ("chat.postEphemeral", {"channel": GENERAL, "user": ghost, "text": "x"}),
        ("chat.postEphemeral", {"channel": nowhere, "user": ALICE, "text": "x"}),
        ("chat.postEphemeral", {"channel": GENERAL, "user": ALICE}),
        ("chat.postEphemeral", {"channel": GENERAL, "user": ALICE, "text": "x", "blocks": big}),
        ("chat.postEphemeral", {"channel": GENERAL, "user": ALICE, "text": "x" * 40_001}),
        ("chat.update", {"channel": GENERAL, "ts": "1.000001", "text": "x"}),
        ("chat.update", {"channel": GENERAL, "ts": human, "text": "x"}),
        ("chat.update", {"channel": nowhere, "ts": ts, "text": "x"}),
        ("chat.update", {"channel": GENERAL, "ts": ts}),
        ("chat.update", {"channel": GENERAL, "ts": ts, "text": "x", "blocks": big}),
        ("chat.update", {"channel": GENERAL, "ts": ts, "text": "x" * 40_001}),
        ("chat.delete", {"channel": GENERAL, "ts": "1.000001"}),
        ("chat.delete", {"channel": GENERAL, "ts": human}),
        ("chat.delete", {"channel": nowhere, "ts": ts}),
        ("chat.getPermalink", {"channel": nowhere, "message_ts": ts}),
        ("chat.getPermalink", {"channel": GENERAL, "message_ts": "1.000001"}),
        ("conversations.info", {"channel": nowhere}),
        ("conversations.members", {"channel": nowhere}),
        ("conversations.members", {"channel": GENERAL, "limit": "abc"}),
        ("conversations.members", {"channel": GENERAL, "limit": 0}),
        ("conversations.members", {"channel": GENERAL, "cursor": "%%%"}),
        ("conversations.open", {}),
        ("conversations.open", {"users": ghost}),
        ("conversations.open", {"channel": nowhere}),
        ("users.info", {"user": ghost}),
        ("users.info", {}),
        ("views.open", {"trigger_id": "1.2.3", "view": modal}),
        ("views.open", {"view": modal}),
        ("views.update", {"view_id": "V0NOPE00000", "view": modal}),
        ("views.publish", {"user_id": ghost, "view": {"type": "home", "blocks": []}}),
        ("views.push", {"trigger_id": "1.2.3", "view": modal}),
    ]
    for method, params in attempts:
        with pytest.raises(SlackApiError):
            web.api_call(method, json=params)
    with pytest.raises(SlackApiError):
        WebClient(token="xoxb-wrong", base_url=emulator.api_url).auth_test()
    with pytest.raises(SlackApiError):
        WebClient(base_url=emulator.api_url).auth_test()


def _spec_errors() -> dict[str, frozenset[str]]:
    spec = load("slack-api-specs/web-api__slack_web_openapi_v2.json")
    out: dict[str, frozenset[str]] = {}
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            schema = operation.get("responses", {}).get("default", {}).get("schema", {})
            enum = schema.get("properties", {}).get("error", {}).get("enum")
            if enum:
                out[path.lstrip("/")] = frozenset(enum)
    return out


def test_declared_error_codes_are_in_the_spec() -> None:
    spec = _spec_errors()
    checked = 0
    for method, codes in METHOD_ERRORS.items():
        if method not in spec:
            continue  # views.* and files.* have no error enum in the 2020 spec
        allowed = spec[method] | NEWER_THAN_SPEC.get(method, frozenset())
        assert codes | AUTH_ERRORS <= allowed, (method, sorted(codes - allowed))
        checked += 1
    assert checked >= 10


def test_returned_error_codes_are_declared_and_in_the_spec(
    web: WebClient, emulator: SlackEmulator
) -> None:
    _provoke_errors(web, emulator)
    spec = _spec_errors()
    seen: dict[str, set[str]] = {}
    for call in emulator.calls:
        error = call.response.get("error")
        if call.response.get("ok") is False and error:
            seen.setdefault(call.method, set()).add(str(error))
            assert error in METHOD_ERRORS[call.method] | AUTH_ERRORS, (call.method, error)
            if call.method in spec:
                allowed = spec[call.method] | NEWER_THAN_SPEC.get(call.method, frozenset())
                assert error in allowed, (call.method, error)
            # error bodies carry only keys Slack uses for that method
            sample = load(f"java-slack-sdk/api/{call.method}.json")
            assert set(call.response) <= set(sample), (call.method, set(call.response))
    assert seen["chat.postMessage"] >= {
        "channel_not_found",
        "no_text",
        "msg_too_long",
        "invalid_blocks",
        "thread_not_found",
    }
    assert len(seen) >= 12


# ---------------------------------------------------------------------- request bodies


def _sample_keys(*names: str) -> set[str]:
    keys: set[str] = set()
    for name in names:
        keys |= set(load(name))
    return keys


# Keys an enterprise-grid install adds, and the legacy ``authed_users``, which Slack
# no longer sends to new apps: a plain workspace install has none of them.
ENTERPRISE_ONLY = {"enterprise_id", "enterprise_name", "authed_users", "authed_teams"}


def _check_keys(ours: set[str], bolt: set[str], java: set[str]) -> None:
    assert ours <= bolt | java, sorted(ours - bolt - java)
    assert bolt - ENTERPRISE_ONLY <= ours, sorted(bolt - ENTERPRISE_ONLY - ours)


def test_slash_command_form_keys(emulator: SlackEmulator, app_url: str) -> None:
    slack = SlackAppClient(emulator, app_url, SECRET)
    response = slack.slash_command("/readalong", "hi", user_id=ALICE, channel_id=GENERAL)
    ours = set(parse_qs(response.request_body.decode(), keep_blank_values=True))
    sample = SAMPLES / "bolt-python/slash_command__slash_command__slash_command_body.form.txt"
    bolt = set(parse_qs(sample.read_text().strip(), keep_blank_values=True))
    java = set(load("java-slack-sdk/app-backend/slash-commands/SlashCommandPayload.json"))
    _check_keys(ours, bolt, java)


def _payload(body: bytes) -> dict[str, Any]:
    return dict(json.loads(parse_qs(body.decode())["payload"][0]))


def test_interactivity_payload_keys(emulator: SlackEmulator, web: WebClient, app_url: str) -> None:
    slack = SlackAppClient(emulator, app_url, SECRET)
    button = {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}
        ],
    }
    ts = web.chat_postMessage(channel=GENERAL, text="x", blocks=[button])["ts"]
    action = _payload(
        slack.block_action(
            user_id=ALICE, channel_id=GENERAL, message_ts=ts, action_id="go"
        ).request_body
    )
    _check_keys(
        set(action),
        set(load("bolt-python/block_actions__block_actions__body.json")),
        set(load("java-slack-sdk/app-backend/interactive-components/BlockActionPayload.json")),
    )
    java_message = load("java-slack-sdk/app-backend/interactive-components/BlockActionPayload.json")
    assert set(action["message"]) <= set(java_message["message"])
    assert set(action["container"]) <= set(java_message["container"])

    modal = {
        "type": "modal",
        "callback_id": "c",
        "title": {"type": "plain_text", "text": "T"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "b",
                "label": {"type": "plain_text", "text": "L"},
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ],
    }
    view_id = web.views_open(trigger_id=emulator.workspace.issue_trigger(ALICE), view=modal)[
        "view"
    ]["id"]
    submission = _payload(
        slack.view_submission(view_id, {"b": {"a": "text"}}, user_id=ALICE).request_body
    )
    java_view = load("java-slack-sdk/app-backend/views/ViewSubmissionPayload.json")
    _check_keys(
        set(submission),
        set(load("bolt-python/view_submission__view_submission__body.json")),
        set(java_view),
    )
    bolt_view = load("bolt-python/view_submission__view_submission__body.json")["view"]
    assert set(submission["view"]) <= set(bolt_view) | set(java_view["view"])
    assert set(bolt_view) <= set(submission["view"])

    view_id = web.views_open(trigger_id=emulator.workspace.issue_trigger(ALICE), view=modal)[
        "view"
    ]["id"]
    closed = _payload(slack.view_closed(view_id, user_id=ALICE).request_body)
    _check_keys(
        set(closed),
        set(load("bolt-python/view_closed__view_closed__body.json")),
        set(load("java-slack-sdk/app-backend/views/ViewClosedPayload.json")),
    )


def test_event_bodies_match_samples(emulator: SlackEmulator, app_url: str) -> None:
    slack = SlackAppClient(emulator, app_url, SECRET)
    ts, posted = slack.user_posts(ALICE, GENERAL, "hello")
    _, replied = slack.user_posts(BOB, GENERAL, "reply", thread_ts=ts)
    cases = [
        (posted, "event_message__message__message_body.json", "events/MessagePayload.json"),
        (
            replied,
            "event_message_threaded_reply__events_assistant__channel_user_message_event_body.json",
            "events/MessagePayload.json",
        ),
        (
            slack.user_edits(ALICE, GENERAL, ts, "edited"),
            "event_message_message_changed__message_changed__event_payload.json",
            "events/MessageChangedPayload.json",
        ),
        (
            slack.user_reacts(BOB, GENERAL, ts, "eyes"),
            "event_reaction_added__events__valid_reaction_added_body.json",
            "events/ReactionAddedPayload.json",
        ),
        (
            slack.user_deletes(ALICE, GENERAL, ts),
            "event_message_message_deleted__message_deleted__event_payload.json",
            "events/MessageDeletedPayload.json",
        ),
        (
            slack.app_home_opened(ALICE),
            "event_app_home_opened__events_org_apps__event_payload.json",
            "events/AppHomeOpenedPayload.json",
        ),
    ]
    for response, bolt_name, java_name in cases:
        ours = json.loads(response.request_body)
        bolt = load(f"bolt-python/{bolt_name}")
        java = load(f"java-slack-sdk/{java_name}")
        _check_keys(set(ours), set(bolt), set(java))
        event_keys = set(bolt["event"]) | set(java["event"])
        assert set(ours["event"]) <= event_keys, (bolt_name, set(ours["event"]) - event_keys)
        for nested in ("message", "previous_message", "item"):
            if nested in ours["event"]:
                allowed = set(bolt["event"].get(nested, {})) | set(java["event"][nested])
                assert set(ours["event"][nested]) <= allowed, (bolt_name, nested)
        assert ours["event"]["type"] == bolt["event"]["type"]
        assert ours["event"].get("subtype") == bolt["event"].get("subtype")


def test_a_shared_file_and_a_message_shortcut_match_the_samples(
    emulator: SlackEmulator, app_url: str
) -> None:
    """Issue 13: a file shared in the bot's DM (``file_share``, with Slack's file object)
    and a message shortcut (``message_action``) carry Slack's keys, and only those."""
    slack = SlackAppClient(emulator, app_url, SECRET)
    dm = emulator.dm_channel(ALICE)
    _ts, shared = slack.user_shares_file(ALICE, dm, "book.epub", b"PK\x03\x04")
    assert shared is not None
    ours = json.loads(shared.request_body)
    bolt = load("bolt-python/event_message_file_share__message_file_share__event_payload.json")
    java = load("java-slack-sdk/events/MessageFileSharePayload.json")
    _check_keys(set(ours), set(bolt), set(java))
    assert set(ours["event"]) <= set(bolt["event"]) | set(java["event"])
    assert ours["event"]["subtype"] == "file_share" and ours["event"]["channel_type"] == "im"
    file_keys = set(bolt["event"]["files"][0]) | set(java["event"]["files"][0])
    (file,) = ours["event"]["files"]
    assert set(file) <= file_keys, sorted(set(file) - file_keys)
    assert file["url_private_download"].startswith(emulator.base_url + "/files-pri/")
    assert file["size"] == 4 and file["mimetype"] == "application/epub+zip"

    ts, _posted = slack.user_posts(BOB, GENERAL, "a thought worth keeping")
    shortcut = _payload(
        slack.message_shortcut(
            user_id=ALICE, channel_id=GENERAL, message_ts=ts, callback_id="save"
        ).request_body
    )
    bolt_shortcut = load("bolt-python/message_action__app_using_methods_in_class__payload.json")
    java_shortcut = load(
        "java-slack-sdk/app-backend/interactive-components/MessageShortcutPayload.json"
    )
    _check_keys(set(shortcut), set(bolt_shortcut), set(java_shortcut))
    assert set(shortcut["message"]) <= set(bolt_shortcut["message"]) | set(java_shortcut["message"])
    assert set(shortcut["user"]) <= set(java_shortcut["user"])
    assert shortcut["message"]["user"] == BOB and shortcut["message_ts"] == ts
