"""``/mentor``, and the buttons and forms of a mentoring pair.

Each listener acks, parses, calls one service function and renders. Mentions arrive as
Slack's own ``<@U…|name>`` tokens (the command is declared with ``should_escape``); the
parser tells them from text a member typed to look like one.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain import commands as cmd
from bot.domain.errors import InvalidInput, is_number
from bot.domain.model import Role
from bot.domain.text import from_slack
from bot.observability import COMMANDS
from bot.slack import blocks
from bot.slack.blocks import pairs as pair_blocks
from bot.slack.listeners.common import (
    SlackDeps,
    answer_submission,
    ephemeral_in,
    ephemeral_via,
    remember_names,
    replace_via,
    replying,
)
from bot.slack.modals import metadata, opened_in, state_values
from bot.slack.pair_modals import (
    PAIR_ACTION,
    PAIR_GOALS,
    PAIR_LOOK_BACK,
    PAIR_PUBLISH,
    PAIR_REPLY,
    ActionItemModal,
    AgreementModal,
    LookBackModal,
    PublishModal,
    ReplyModal,
)

logger = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps) -> None:
    services = deps.services

    def mentor_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        typed = f"/mentor {from_slack(str(command.get('text') or ''))}".strip()

        def work() -> None:
            COMMANDS.labels("/mentor").inc()
            with replying(ephemeral_via(respond), "/mentor", typed):
                run_mentor_command(deps, command, respond, client)
            remember_names(deps, command)

        deps.later(work, "/mentor")

    app.command("/mentor")(mentor_command)

    def on_button(action_id: Any, what: str, handle: Any) -> None:
        """Register a button: ack, then ``handle(body, value, respond, client)`` after."""

        def listener(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
            ack()
            value = str(((body.get("actions") or [{}])[0]).get("value") or "")

            def work() -> None:
                with replying(ephemeral_via(respond), what):
                    handle(body, value, respond, client)

            deps.later(work, what)

        app.action(action_id)(listener)

    def who(body: dict[str, Any]) -> tuple[str, str]:
        return body["team"]["id"], body["user"]["id"]

    def number(value: str) -> int:
        if not is_number(value):
            raise InvalidInput("That button is out of date.")
        return int(value)

    def accept(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        pair = services.pairs.accept(*who(body), number(value))
        replace_via(respond)(pair_blocks.answered(pair))

    def decline(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        pair = services.pairs.decline(*who(body), number(value))
        replace_via(respond)(pair_blocks.answered(pair))

    def open_reply(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        conversation = services.pairs.conversation(*who(body), number(value))
        client.views_open(
            trigger_id=body["trigger_id"],
            view=opened_in(ReplyModal(conversation).build(), _channel(body, "")),
        )

    def mark_read(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        services.pairs.mark_read(*who(body), number(value))  # the copy updates itself

    def action_from(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        team, user = who(body)
        feedback = services.pairs.feedback_for_action(team, user, number(value))
        modal = ActionItemModal(feedback.pair_id, feedback.id, feedback.text.split("\n")[0])
        client.views_open(
            trigger_id=body["trigger_id"], view=opened_in(modal.build(), _channel(body, ""))
        )

    def open_goals(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        team, user = who(body)
        pair = services.pairs.get(team, user, number(value))
        role = pair.role_of(user) or Role.MENTEE
        view = opened_in(AgreementModal(pair, role).build(), _channel(body, ""))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def agree(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        pair = services.pairs.agree(*who(body), number(value))
        replace_via(respond)(
            blocks.notice("You agreed to the goals; I'll ask you both to look back at the end.")
            if pair.goals_agreed_at
            else blocks.notice("Agreed.")
        )

    def look_back(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        pair = services.pairs.get(*who(body), number(value))
        view = opened_in(LookBackModal(pair).build(), _channel(body, ""))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def done(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        pair_text, _, number_text = value.partition(":")
        team, user = who(body)
        _pair, item = services.pairs.finish_action(
            team, user, number(number_text), pair_id=number(pair_text)
        )
        ephemeral_in(client, _channel(body, user), user)(
            pair_blocks.action_done(number(number_text), item)
        )

    def consent(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
        publication, feedback, allowed = [*value.split(":"), "", "", ""][:3]
        request = services.pairs.consent(
            *who(body), number(publication), number(feedback), allowed == "1"
        )
        replace_via(respond)(pair_blocks.publish_request(request))

    def decide(approve: bool) -> Any:
        def handle(body: dict[str, Any], value: str, respond: Respond, client: WebClient) -> None:
            result = services.pairs.decide(*who(body), number(value), approve)
            replace_via(respond)(pair_blocks.publish_request(result.request))

        return handle

    on_button(pair_blocks.ACCEPT_ACTION, "pair accept", accept)
    on_button(pair_blocks.DECLINE_ACTION, "pair decline", decline)
    on_button(pair_blocks.REPLY_ACTION, "pair reply", open_reply)
    on_button(pair_blocks.READ_ACTION, "pair read", mark_read)
    on_button(pair_blocks.ACTION_FROM_ACTION, "pair action item", action_from)
    on_button(pair_blocks.GOALS_ACTION, "pair goals", open_goals)
    on_button(pair_blocks.AGREE_ACTION, "pair agree", agree)
    on_button(pair_blocks.LOOK_BACK_ACTION, "pair look back", look_back)
    on_button(pair_blocks.DONE_ACTIONS, "pair done", done)
    on_button(pair_blocks.CONSENT_ACTIONS, "pair consent", consent)
    on_button(pair_blocks.APPROVE_ACTION, "pair approve", decide(True))
    on_button(pair_blocks.REFUSE_ACTION, "pair decline post", decide(False))

    def on_form(callback_id: str, what: str, field: str, save: Any, confirm: Any) -> None:
        """Register a form: validate and save in the ack (errors stay in the form), then
        confirm privately after it."""

        def listener(
            ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
        ) -> None:
            team, user = who(body)
            meta = metadata(view)
            saved = answer_submission(
                ack, lambda: save(team, user, meta, state_values(view)), field=field, what=what
            )
            if saved is not None:
                reply = ephemeral_in(client, str(meta.get("channel_id") or user), user)

                def follow_up() -> None:
                    with replying(reply, what):
                        message = confirm(saved, user)
                        if message is not None:
                            reply(message)

                deps.later(follow_up, what)

        app.view(callback_id)(listener)

    def save_reply(team: str, user: str, meta: dict[str, Any], state: Any) -> Any:
        return services.pairs.reply(
            team, user, _meta_id(meta, "reflection_id"), ReplyModal.parse(state)
        )

    def save_action(team: str, user: str, meta: dict[str, Any], state: Any) -> Any:
        feedback_id = meta.get("feedback_id")
        return services.pairs.add_action(
            team,
            user,
            text=ActionItemModal.parse(state),
            pair_id=_meta_id(meta, "pair_id"),
            feedback_id=feedback_id if isinstance(feedback_id, int) else None,
        )

    def save_goals(team: str, user: str, meta: dict[str, Any], state: Any) -> Any:
        hopes, goals = AgreementModal.parse(state)
        return services.pairs.save_agreement(team, user, _meta_id(meta, "pair_id"), hopes, goals)

    def save_look_back(team: str, user: str, meta: dict[str, Any], state: Any) -> Any:
        return services.pairs.save_look_back(
            team, user, _meta_id(meta, "pair_id"), LookBackModal.parse(state)
        )

    def save_publish(team: str, user: str, meta: dict[str, Any], state: Any) -> Any:
        chosen, notes = PublishModal.parse(state)
        return services.pairs.request_publication(
            team, user, _meta_id(meta, "pair_id"), _meta_id(meta, "plan_id"), chosen, notes
        )

    on_form(
        PAIR_REPLY,
        "pair reply form",
        "text",
        save_reply,
        lambda saved, user: blocks.notice("Sent privately. Only the two of you can see it."),
    )
    on_form(
        PAIR_ACTION,
        "action item form",
        "text",
        save_action,
        lambda saved, user: blocks.notice(f"Added action item {saved[1]}: {saved[0].text}"),
    )
    on_form(
        PAIR_GOALS,
        "agreement form",
        "goals",
        save_goals,
        lambda saved, user: blocks.notice(
            "Saved your agreement. Your partner is asked to agree to it."
        ),
    )
    on_form(
        PAIR_LOOK_BACK,
        "look back form",
        "text",
        save_look_back,
        lambda saved, user: blocks.notice("Saved. Your partner can read your look back."),
    )
    on_form(
        PAIR_PUBLISH,
        "publish form",
        "reflections",
        save_publish,
        lambda saved, user: blocks.notice(
            "Asked your mentor to approve the post. You'll get the file once they do."
        ),
    )


def run_mentor_command(
    deps: SlackDeps, command: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    services = deps.services
    team, user, channel = command["team_id"], command["user_id"], command["channel_id"]
    trigger_id = str(command.get("trigger_id") or "")
    reply = ephemeral_via(respond)
    parsed = cmd.parse_mentor(str(command.get("text") or ""))
    match parsed:
        case cmd.Simple("help" | "mentor-help"):
            reply(blocks.help_message(cmd.MENTOR_HELP))
        case cmd.MentorAsk(other, role):
            pair = services.pairs.propose(team, user, other, role)
            reply(pair_blocks.proposed(pair, user))
        case cmd.Simple("mentor-list"):
            reply(pair_blocks.pair_list(services.pairs.pairs_of(team, user), user))
        case cmd.Simple("mentor-leave"):
            reply(pair_blocks.left(services.pairs.leave(team, user, channel)))
        case cmd.Simple("mentor-goals"):
            pair = services.pairs.pair_of(team, user, channel)
            role = pair.role_of(user) or Role.MENTEE
            view = opened_in(AgreementModal(pair, role).build(), channel)
            client.views_open(trigger_id=trigger_id, view=view)
        case cmd.Simple("mentor-actions"):
            pair, items = services.pairs.actions(team, user, channel)
            reply(pair_blocks.action_list(pair, items))
        case cmd.MentorAction(text):
            item, number = services.pairs.add_action(team, user, text=text, channel_id=channel)
            reply(blocks.notice(f"Added action item {number}: {item.text}"))
        case cmd.MentorDone(number):
            _pair, item = services.pairs.finish_action(team, user, number, channel_id=channel)
            reply(pair_blocks.action_done(number, item))
        case cmd.Simple("mentor-publish"):
            choice = services.pairs.publish_choice(team, user, channel)
            view = opened_in(PublishModal(choice).build(), channel)
            client.views_open(trigger_id=trigger_id, view=view)
        case cmd.Simple("mentor-cohort"):
            caller = deps.caller(team, user, check_admin=True)
            reply(pair_blocks.cohort(services.pairs.cohort(caller), services.clock.now()))
        case cmd.Typo():
            reply(blocks.typo_question("/mentor", parsed, None))
        case _:
            reply(blocks.help_message(cmd.MENTOR_HELP))


def _channel(body: dict[str, Any], user: str) -> str:
    return str(
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or user
    )


def _meta_id(meta: dict[str, Any], key: str) -> int:
    value = meta.get(key)
    if not isinstance(value, int):
        raise InvalidInput("This form is out of date; please open it again.")
    return value
