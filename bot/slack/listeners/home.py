"""App Home: published on every ``app_home_opened``."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.home import HomeGroup, HomeTab
from bot.slack.listeners.common import SlackDeps

logger = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps) -> None:
    def publish_home(
        ack: Ack, event: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        if event.get("tab", "home") == "home":
            team, user = str(body.get("team_id") or ""), str(event["user"])
            deps.later(lambda: publish(deps, client, team, user), "App Home")

    app.event("app_home_opened")(publish_home)


def publish(deps: SlackDeps, client: WebClient, team_id: str, user_id: str) -> None:
    services = deps.services
    groups = []
    for view in services.plans.running_in_workspace(team_id):
        if user_id in channel_members(client, view.group.channel_id):
            progress = services.reflections.progress(team_id, view.group.channel_id, user_id)
            groups.append(HomeGroup(view, progress))
    tab = HomeTab(
        user_timezone=user_timezone(client, user_id),
        now=services.clock.now(),
        groups=groups,
        reflections=services.reflections.list_own(team_id, user_id),
    )
    client.views_publish(user_id=user_id, view=tab.build())


def channel_members(client: WebClient, channel_id: str) -> set[str]:
    members: set[str] = set()
    try:
        for page in client.conversations_members(channel=channel_id, limit=200):
            members.update(page.get("members") or [])
    except SlackApiError as exc:
        logger.warning(
            "conversations.members failed for %s: %s", channel_id, exc.response.get("error")
        )
    return members


def user_timezone(client: WebClient, user_id: str) -> str:
    try:
        tz = (client.users_info(user=user_id).get("user") or {}).get("tz") or "UTC"
        ZoneInfo(tz)
        return str(tz)
    except (SlackApiError, ZoneInfoNotFoundError, ValueError):
        return "UTC"
