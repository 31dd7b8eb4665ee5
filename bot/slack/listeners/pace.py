"""A member's own pace: "I've read these" on a prompt, "I'm away…" on a nudge (a form),
"Show anyway" in App Home, and the welcome of a member who joins mid-book."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import DatePickerElement, InputBlock
from slack_sdk.models.views import View

from bot.domain.errors import InvalidInput, is_number
from bot.slack.blocks import pace as pace_blocks
from bot.slack.blocks.base import section
from bot.slack.listeners.common import (
    SlackDeps,
    answer_submission,
    ephemeral_in,
    ephemeral_via,
    replying,
)
from bot.slack.listeners.home import publish
from bot.slack.listeners.reflections import timezone_of
from bot.slack.modals import FieldErrors, state_values

AWAY_FORM = "pace_away_submit"


def away_form(back: date) -> View:
    return View(
        type="modal",
        callback_id=AWAY_FORM,
        title="Away",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({}),
        blocks=[
            section("No nudges while you're away, and your streaks are frozen, not broken."),
            InputBlock(
                block_id="until",
                label="Back on",
                element=DatePickerElement(action_id="value", initial_date=back.isoformat()),
            ),
        ],
    )


def parse_away(state: dict[str, Any]) -> date:
    element = (state.get("until") or {}).get("value") or {}
    chosen = element.get("selected_date") if isinstance(element, dict) else None
    try:
        return date.fromisoformat(str(chosen))
    except ValueError:
        raise FieldErrors({"until": "Pick the day you're back."}) from None


def register(app: App, deps: SlackDeps) -> None:
    services = deps.services

    def read_step(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        value = str(((body.get("actions") or [{}])[0]).get("value") or "")

        def work() -> None:
            with replying(ephemeral_via(respond), "I've read these"):
                if not is_number(value):
                    raise InvalidInput("That button is out of date.")
                position = services.readers.read_step(
                    body["team"]["id"], body["user"]["id"], int(value)
                )
                ephemeral_via(respond)(pace_blocks.read_noted(position))

        deps.later(work, "I've read these")

    app.action(pace_blocks.READ_STEP_ACTION)(read_step)

    def away(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]

        def work() -> None:
            with replying(ephemeral_in(client, user, user), "away form"):
                a_week = services.clock.now().date() + timedelta(days=7)
                client.views_open(trigger_id=body["trigger_id"], view=away_form(a_week))

        deps.later(work, "away form")

    app.action(pace_blocks.AWAY_ACTION)(away)

    def submit_away(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        back = answer_submission(
            ack,
            lambda: services.readers.go_away(team, user, until=parse_away(state_values(view))),
            field="until",
            what="away form",
        )
        if back is not None:
            reply = ephemeral_in(client, user, user)
            deps.later(
                lambda: reply(pace_blocks.away_set(back, timezone_of(deps, user))), "away form"
            )

    app.view(AWAY_FORM)(submit_away)

    def reveal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team, user = body["team"]["id"], body["user"]["id"]
        plan_text, _, step_text = str(
            ((body.get("actions") or [{}])[0]).get("value") or ""
        ).partition(":")

        def work() -> None:
            with replying(ephemeral_in(client, user, user), "show anyway"):
                if not (is_number(plan_text) and is_number(step_text)):
                    raise InvalidInput("That button is out of date.")
                services.readers.reveal(team, user, int(plan_text), int(step_text))
                publish(deps, client, team, user)

        deps.later(work, "show anyway")

    app.action(pace_blocks.REVEAL_ACTION)(reveal)

    def member_joined(ack: Ack, event: dict[str, Any], body: dict[str, Any]) -> None:
        ack()
        team = str(body.get("team_id") or "")
        channel, user = str(event.get("channel") or ""), str(event.get("user") or "")
        if team and channel and user:

            def work() -> None:
                services.readers.welcome(team, channel, user)

            deps.later(work, "welcome")

    app.event("member_joined_channel")(member_joined)
