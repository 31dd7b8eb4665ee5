"""The bot token's scopes and standing: ``x-oauth-scopes`` on every answer, ``missing_scope``
for a method none of whose scopes was granted, and a token that can be revoked."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator
from bot.slack.manifest import bot_scopes
from tests.emulator.conftest import ALICE, GENERAL


def _header(headers: dict[str, object], name: str) -> str:
    found = {key.lower(): value for key, value in headers.items()}[name]
    return str(found[0] if isinstance(found, list) else found)


def test_the_token_carries_the_manifest_scopes_and_says_so(
    web: WebClient, emulator: SlackEmulator
) -> None:
    assert emulator.scopes == bot_scopes()
    response = web.auth_test()
    assert _header(response.headers, "x-oauth-scopes").split(",") == list(bot_scopes())
    posted = web.chat_postMessage(channel=GENERAL, text="hello")
    assert _header(posted.headers, "x-accepted-oauth-scopes") == "chat:write"


def test_fewer_scopes_are_reported_and_enforced(web: WebClient, emulator: SlackEmulator) -> None:
    emulator.grant_scopes(["commands", "channels:read"])
    response = web.auth_test()  # auth.test needs no scope
    assert _header(response.headers, "x-oauth-scopes") == "commands,channels:read"
    assert web.conversations_info(channel=GENERAL)["ok"] is True
    with pytest.raises(SlackApiError) as refused:
        web.chat_postMessage(channel=GENERAL, text="hello")
    assert refused.value.response.data == {
        "ok": False,
        "error": "missing_scope",
        "needed": "chat:write",
        "provided": "commands,channels:read",
    }
    with pytest.raises(SlackApiError) as no_users:
        web.users_info(user=ALICE)
    assert no_users.value.response["needed"] == "users:read"
    assert emulator.messages(GENERAL) == []  # the refused post changed nothing
    emulator.grant_scopes(bot_scopes())
    assert web.chat_postMessage(channel=GENERAL, text="hello")["ok"] is True


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive"])
def test_a_revoked_token_is_refused_until_restored(
    web: WebClient, emulator: SlackEmulator, error: str
) -> None:
    emulator.revoke_token(error)
    with pytest.raises(SlackApiError) as refused:
        web.auth_test()
    assert refused.value.response.data == {"ok": False, "error": error}
    assert "x-oauth-scopes" not in {key.lower() for key in refused.value.response.headers}
    with pytest.raises(SlackApiError):
        web.chat_postMessage(channel=GENERAL, text="hello")
    emulator.restore_token()
    assert web.auth_test()["ok"] is True
