"""views.open / push / update / publish, triggers that expire by the injected clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import FakeClock, SlackEmulator
from tests.emulator.conftest import ALICE, BOB


def modal(title: str = "Reflection", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "reflection",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "answer",
                "label": {"type": "plain_text", "text": "Your thoughts"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
    }
    view.update(extra)
    return view


def error_of(call: Callable[[], object]) -> str:
    with pytest.raises(SlackApiError) as excinfo:
        call()
    return str(excinfo.value.response["error"])


def test_views_open_returns_slack_view(web: WebClient, emulator: SlackEmulator) -> None:
    trigger = emulator.workspace.issue_trigger(ALICE)
    view = web.views_open(trigger_id=trigger, view=modal(private_metadata="book=7"))["view"]
    assert view["id"].startswith("V")
    assert view["type"] == "modal"
    assert view["team_id"] == emulator.team_id
    assert view["root_view_id"] == view["id"] and view["previous_view_id"] is None
    assert view["callback_id"] == "reflection"
    assert view["private_metadata"] == "book=7"
    assert view["state"] == {"values": {}}
    assert view["app_id"] == emulator.app_id and view["bot_id"] == emulator.bot_id
    assert view["hash"]
    assert emulator.open_views(ALICE) == [view]
    assert emulator.open_views(BOB) == []


def test_trigger_expires_after_three_seconds(
    web: WebClient, emulator: SlackEmulator, clock: FakeClock
) -> None:
    trigger = emulator.workspace.issue_trigger(ALICE)
    clock.advance(2.999)
    web.views_open(trigger_id=trigger, view=modal())  # still fresh
    late = emulator.workspace.issue_trigger(ALICE)
    clock.advance(3.0)
    assert error_of(lambda: web.views_open(trigger_id=late, view=modal())) == "expired_trigger_id"
    assert len(emulator.open_views(ALICE)) == 1


def test_unknown_and_reused_triggers(web: WebClient, emulator: SlackEmulator) -> None:
    assert (
        error_of(lambda: web.views_open(trigger_id="123.456.abc", view=modal()))
        == "invalid_trigger_id"
    )
    trigger = emulator.workspace.issue_trigger(ALICE)
    web.views_open(trigger_id=trigger, view=modal())
    assert (
        error_of(lambda: web.views_open(trigger_id=trigger, view=modal())) == "exchanged_trigger_id"
    )
    assert error_of(lambda: web.api_call("views.open", json={"view": modal()})) == (
        "invalid_arguments"
    )
    home = {"type": "home", "blocks": []}
    fresh = emulator.workspace.issue_trigger(ALICE)
    assert error_of(lambda: web.views_open(trigger_id=fresh, view=home)) == "invalid_arguments"


def test_views_update_by_id_external_id_and_hash(web: WebClient, emulator: SlackEmulator) -> None:
    trigger = emulator.workspace.issue_trigger(ALICE)
    opened = web.views_open(trigger_id=trigger, view=modal(external_id="reflect-1"))["view"]
    updated = web.views_update(view_id=opened["id"], view=modal("Step 2"), hash=opened["hash"])
    view = updated["view"]
    assert view["id"] == opened["id"]
    assert view["title"]["text"] == "Step 2"
    assert view["external_id"] == "reflect-1"
    assert emulator.open_views(ALICE)[0]["title"]["text"] == "Step 2"
    # a stale hash is a conflict
    stale = opened["hash"]
    assert (
        error_of(lambda: web.views_update(view_id=opened["id"], view=modal("x"), hash=stale))
        == "hash_conflict"
    )
    by_external = web.views_update(external_id="reflect-1", view=modal("Step 3"))["view"]
    assert by_external["id"] == opened["id"]
    assert error_of(lambda: web.views_update(view_id="V0NOPE00000", view=modal())) == "not_found"
    assert error_of(lambda: web.api_call("views.update", json={"view": modal()})) == (
        "invalid_arguments"
    )


def test_views_push_stack_limit(web: WebClient, emulator: SlackEmulator) -> None:
    root = web.views_open(trigger_id=emulator.workspace.issue_trigger(ALICE), view=modal("1"))
    second = web.views_push(trigger_id=emulator.workspace.issue_trigger(ALICE), view=modal("2"))
    assert second["view"]["previous_view_id"] == root["view"]["id"]
    assert second["view"]["root_view_id"] == root["view"]["id"]
    web.views_push(trigger_id=emulator.workspace.issue_trigger(ALICE), view=modal("3"))
    fourth = emulator.workspace.issue_trigger(ALICE)
    assert error_of(lambda: web.views_push(trigger_id=fourth, view=modal("4"))) == (
        "push_limit_reached"
    )
    assert [v["title"]["text"] for v in emulator.open_views(ALICE)] == ["1", "2", "3"]


def test_views_publish_home(web: WebClient, emulator: SlackEmulator) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    first = web.views_publish(user_id=ALICE, view=home)["view"]
    assert first["type"] == "home"
    again = web.views_publish(user_id=ALICE, view={"type": "home", "blocks": []})["view"]
    assert again["id"] == first["id"]  # one Home view per user, updated in place
    home_view = emulator.home_view(ALICE)
    assert home_view is not None and home_view["blocks"] == []
    assert emulator.home_view(BOB) is None
    assert emulator.open_views() == []  # Home is not a modal
    assert error_of(lambda: web.views_publish(user_id="U0GHOST0000", view=home)) == (
        "user_not_found"
    )
    assert error_of(lambda: web.views_publish(user_id=ALICE, view=modal())) == ("invalid_arguments")
    assert (
        error_of(lambda: web.views_publish(user_id=ALICE, view=home, hash="1.stale"))
        == "hash_conflict"
    )
