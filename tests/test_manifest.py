"""manifest.yaml asks for what the code uses: its scopes, commands and events."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.listeners.threads import IGNORED_SUBTYPES
from bot.slack.manifest import bot_scopes, escaped_commands, manifest, slash_commands

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_ships_the_repository_manifest() -> None:
    """The installed package reads its own copy (OAuth scopes, `readalong check`): it must
    be the manifest.yaml people paste into Slack."""
    assert manifest() == yaml.safe_load((ROOT / "manifest.yaml").read_text()), (
        "manifest.yaml and bot/slack/manifest.yaml differ: copy manifest.yaml over the other"
    )


def test_manifest_matches_the_code() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(bot_scopes())
    assert {"commands", "chat:write", "channels:read", "users:read", "mpim:write"} <= set(
        bot_scopes()
    )  # mpim:write: a mentoring pair's group DM (conversations.open with two people)
    commands = {c["command"]: c["should_escape"] for c in manifest["features"]["slash_commands"]}
    # /mentor (issue 11) takes mentions: Slack sends them as <@U…|name> only with escaping.
    assert commands == slash_commands() == {"/book": False, "/reflect": False, "/mentor": True}
    assert escaped_commands() == {"/mentor"}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {
        "app_home_opened",
        "message.channels",
        "message.groups",
        "reaction_added",
        "reaction_removed",
    } <= events
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    urls = {c["url"] for c in manifest["features"]["slash_commands"]}
    urls.add(manifest["settings"]["event_subscriptions"]["request_url"])
    urls.add(manifest["settings"]["interactivity"]["request_url"])
    assert {u.rsplit("/", 2)[-2:] == ["slack", "events"] for u in urls} == {True}
    assert "channel_join" in IGNORED_SUBTYPES


def test_manifest_declares_what_issue_13_uses() -> None:
    """The "Save as reflection" shortcut the listener answers, the DM's file shares (the
    message.im event, reading the file, a writable Messages tab to drop it in)."""
    from bot.slack.listeners.reflections import SAVE_AS_REFLECTION

    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    (shortcut,) = manifest["features"]["shortcuts"]
    assert shortcut["type"] == "message" and shortcut["callback_id"] == SAVE_AS_REFLECTION
    assert shortcut["name"] == "Save as reflection" and len(shortcut["description"]) <= 80
    assert "message.im" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"files:read", "im:history"} <= set(bot_scopes())
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
