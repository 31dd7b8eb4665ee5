"""App Home: published on every ``app_home_opened``.

The listener acks, asks the home service for the member's groups (membership and time
zone come through the ports), and publishes the view: its one Web API call answers the
event.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.home import HomeTab
from bot.slack.listeners.common import SlackDeps


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
    home = deps.services.home.for_member(team_id, user_id)
    client.views_publish(user_id=user_id, view=HomeTab(home).build())
