"""Conversations people make: channels they create, DMs between two people, group DMs with
the app, joins, and a member's time zone, in Slack's shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackAppClient, SlackEmulator, SlackError
from tests.emulator.conftest import ALICE, BOB, CAROL, GENERAL, PRIVATE, RecordingApp


def events(app: RecordingApp) -> list[dict[str, Any]]:
    return [json.loads(r.body)["event"] for r in app.received if r.body.startswith(b"{")]


def test_a_person_creates_a_channel_under_slacks_name_rules(emulator: SlackEmulator) -> None:
    workspace = emulator.workspace
    channel_id = workspace.create_conversation("mentoring", creator=ALICE, is_private=True)
    channel = workspace.channel(channel_id)
    assert channel_id.startswith("C") and len(channel_id) == 11
    assert (channel.name, channel.is_private, channel.members, channel.creator) == (
        "mentoring",
        True,
        [ALICE],
        ALICE,
    )
    refusals = {
        "": "invalid_name_required",
        "x" * 81: "invalid_name_maxlength",
        "Mentoring": "invalid_name_specials",
        "book club": "invalid_name_specials",
        "dr.who": "invalid_name_specials",
        "--": "invalid_name_punctuation",
        "mentoring": "name_taken",
        "general": "name_taken",
        "alice": "name_taken",  # a member's name is taken too
    }
    for name, error in refusals.items():
        with pytest.raises(SlackError) as refused:
            workspace.create_conversation(name, creator=BOB)
        assert refused.value.error == error, name


def test_the_app_cannot_post_in_or_read_a_dm_between_two_people(
    emulator: SlackEmulator, web: WebClient
) -> None:
    workspace = emulator.workspace
    dm = workspace.person_dm(ALICE, BOB)
    assert workspace.person_dm(BOB, ALICE) == dm  # one DM per pair
    assert dm.startswith("D") and workspace.channel(dm).members == [ALICE, BOB]
    assert not workspace.has_dm(ALICE)  # it is not the app's DM with alice
    with pytest.raises(SlackApiError) as refused:
        web.chat_postMessage(channel=dm, text="hi")
    assert refused.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as unread:
        web.conversations_history(channel=dm)
    assert unread.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackError):
        workspace.person_dm(ALICE, ALICE)
    with pytest.raises(SlackError):
        workspace.person_dm(ALICE, emulator.bot_user_id)


def test_posts_and_reactions_where_the_app_is_absent_reach_it_not(
    emulator: SlackEmulator, slack: SlackAppClient, app: RecordingApp
) -> None:
    dm = emulator.workspace.person_dm(ALICE, BOB)
    assert not slack.app_hears(dm) and slack.app_hears(GENERAL)
    ts = slack.user_posts_unheard(ALICE, dm, "just between us")
    slack.user_reacts_unheard(BOB, dm, ts, "eyes")
    assert app.received == []
    [message] = emulator.messages(dm)
    assert (message.text, message.user, message.reactions) == (
        "just between us",
        ALICE,
        {"eyes": [BOB]},
    )
    with pytest.raises(ValueError, match="not a member"):
        slack.user_posts_unheard(CAROL, dm, "let me in")
    with pytest.raises(ValueError, match="use user_posts"):
        slack.user_posts_unheard(ALICE, GENERAL, "the app hears this one")


def test_joins_send_member_joined_channel_where_the_app_is(
    emulator: SlackEmulator, slack: SlackAppClient, app: RecordingApp
) -> None:
    workspace = emulator.workspace
    channel_id = workspace.create_conversation("mentoring", creator=ALICE, is_private=True)
    assert slack.member_joins(BOB, channel_id, inviter=ALICE) is None  # the app is not in it
    response = slack.member_joins(emulator.bot_user_id, channel_id, inviter=ALICE)
    assert response is not None and response.status == 200
    slack.member_joins(CAROL, channel_id, inviter=BOB)
    assert slack.member_joins(CAROL, channel_id) is None  # already in
    bot_join, carol_join = events(app)
    assert bot_join == {
        "type": "member_joined_channel",
        "user": emulator.bot_user_id,
        "channel": channel_id,
        "channel_type": "G",
        "team": emulator.team_id,
        "event_ts": bot_join["event_ts"],
        "inviter": ALICE,
    }
    assert (carol_join["user"], carol_join["inviter"]) == (CAROL, BOB)
    assert workspace.channel(channel_id).members == [ALICE, BOB, emulator.bot_user_id, CAROL]
    slack.member_joins(CAROL, GENERAL)
    public = events(app)[-1]
    assert (public["channel_type"], "inviter" in public) == ("C", False)
    with pytest.raises(ValueError, match="not a member"):
        slack.member_joins(BOB, PRIVATE, inviter=BOB)
    with pytest.raises(ValueError, match="DM"):
        slack.member_joins(CAROL, emulator.workspace.person_dm(ALICE, BOB))


def test_a_group_dm_made_by_a_person_is_the_one_the_app_opens(
    emulator: SlackEmulator, web: WebClient
) -> None:
    made = emulator.workspace.mpim_channel([ALICE, BOB], creator=ALICE)
    channel = emulator.workspace.channel(made)
    assert (channel.is_mpim, channel.creator, channel.name) == (True, ALICE, "mpdm-alice--bob-1")
    opened = web.conversations_open(users=f"{BOB},{ALICE}")
    assert opened["channel"]["id"] == made


def test_the_messages_tab_opens_without_the_home_view(
    emulator: SlackEmulator, slack: SlackAppClient, app: RecordingApp
) -> None:
    emulator.workspace.publish_home(ALICE, {"type": "home", "blocks": []})
    slack.app_home_opened(ALICE, tab="messages")
    slack.app_home_opened(ALICE)
    messages, home = events(app)
    assert (messages["tab"], "view" in messages) == ("messages", False)
    assert (home["tab"], "view" in home) == ("home", True)
    assert messages["channel"] == home["channel"] == emulator.workspace.dm_channel(ALICE)
    with pytest.raises(ValueError):
        slack.app_home_opened(ALICE, tab="about")


def test_a_members_new_time_zone_is_what_users_info_says(
    emulator: SlackEmulator, web: WebClient
) -> None:
    emulator.workspace.set_user_timezone(ALICE, "Asia/Tokyo")
    user = web.users_info(user=ALICE)["user"]
    assert (user["tz"], user["tz_label"], user["tz_offset"]) == (
        "Asia/Tokyo",
        "Japan Standard Time",
        9 * 3600,
    )


def test_slash_commands_name_each_kind_of_conversation_as_slack_does(
    emulator: SlackEmulator, slack: SlackAppClient
) -> None:
    workspace = emulator.workspace
    places = {
        GENERAL: "general",
        PRIVATE: "privategroup",
        workspace.person_dm(ALICE, BOB): "directmessage",
        workspace.dm_channel(ALICE): "directmessage",
        workspace.mpim_channel([ALICE, BOB], creator=ALICE): "mpdm-alice--bob-1",
    }
    for channel_id, name in places.items():
        fields = dict(
            slack.slash_command_fields("/book", "status", user_id=ALICE, channel_id=channel_id)
        )
        assert (fields["channel_id"], fields["channel_name"]) == (channel_id, name)
