"""The next-book poll's buttons and forms: propose (the form), Vote (the ballot), and
starting the winner (at once, or through the plan form). ``/book propose`` and
``/book poll`` themselves are subcommands of ``/book`` (see ``books.run_book_command``).

Each listener acks, parses, calls one service function and renders; the ballot, its
result and a started plan's announcement are posted by the services, through the
Notifier.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import InvalidInput, is_number
from bot.services.polls import Proposed, Voted
from bot.slack import blocks
from bot.slack.blocks import polls as poll_blocks
from bot.slack.listeners.common import (
    SlackDeps,
    answer_submission,
    ephemeral_in,
    ephemeral_via,
    replying,
)
from bot.slack.modals import PlanStartModal, metadata, state_values
from bot.slack.poll_modals import POLL_BALLOT, POLL_PROPOSE, BallotModal, ProposeModal


def register(app: App, deps: SlackDeps) -> None:
    services = deps.services

    def on_button(action_id: str, what: str, handle: Any) -> None:
        """A button whose value is a poll's id: ack, then ``handle(body, poll_id, …)``."""

        def listener(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
            ack()
            value = str(((body.get("actions") or [{}])[0]).get("value") or "")

            def work() -> None:
                with replying(ephemeral_via(respond), what):
                    if not is_number(value):
                        raise InvalidInput("That button is out of date.")
                    handle(body, int(value), respond, client)

            deps.later(work, what)

        app.action(action_id)(listener)

    def open_ballot(
        body: dict[str, Any], poll_id: int, respond: Respond, client: WebClient
    ) -> None:
        form = services.polls.ballot_form(body["team"]["id"], body["user"]["id"], poll_id)
        client.views_open(
            trigger_id=body["trigger_id"], view=BallotModal(form.poll, form.ballot).build()
        )

    def start_now(body: dict[str, Any], poll_id: int, respond: Respond, client: WebClient) -> None:
        caller = deps.caller(body["team"]["id"], body["user"]["id"], check_admin=True)
        view = services.polls.start_winner(caller, poll_id)  # announced in the channel
        ephemeral_via(respond)(
            blocks.notice(f"Started “{view.book.title}” here. `/book plan` shows every step.")
        )

    def choose_schedule(
        body: dict[str, Any], poll_id: int, respond: Respond, client: WebClient
    ) -> None:
        caller = deps.caller(body["team"]["id"], body["user"]["id"], check_admin=True)
        chosen = services.polls.winner_to_start(caller, poll_id)
        defaults = services.defaults
        shelf = [chosen.book, *(b for b in chosen.shelf if b.id != chosen.book.id)]
        modal = PlanStartModal(
            channel_id=chosen.poll.channel_id,
            books=shelf,
            default_weekday=defaults.weekday,
            default_time=defaults.at,
            default_chapters=defaults.chapters_per_step,
            default_timezone=defaults.timezone,
            today=services.clock.now().date(),
            initial_book_id=chosen.book.id,
        )
        client.views_open(trigger_id=body["trigger_id"], view=modal.build())

    on_button(poll_blocks.VOTE_ACTION, "poll vote button", open_ballot)
    on_button(poll_blocks.START_ACTION, "poll start button", start_now)
    on_button(poll_blocks.SCHEDULE_ACTION, "poll schedule button", choose_schedule)

    def submit_ballot(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        meta = metadata(view)
        poll_id = meta.get("poll_id")

        def save() -> Voted:
            ranking = BallotModal.parse(state_values(view))
            if not isinstance(poll_id, int):
                raise InvalidInput("This ballot is out of date; click Vote again.")
            return services.polls.vote(team, user, poll_id, ranking)

        voted = answer_submission(
            ack,
            save,
            field="rank1",
            fields={"rank2": "rank2", "rank3": "rank3"},
            what="ballot form",
        )
        if voted is not None:
            reply = ephemeral_in(client, str(meta.get("channel_id") or user), user)

            def confirm() -> None:
                with replying(reply, "ballot form"):
                    reply(poll_blocks.ballot_saved(voted.poll, voted.ballot, voted.first))

            deps.later(confirm, "ballot form")

    app.view(POLL_BALLOT)(submit_ballot)

    def submit_proposal(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        channel = str(metadata(view).get("channel_id") or "")

        def save() -> Proposed:
            return services.polls.propose(
                team, user, channel, ProposeModal.parse(state_values(view))
            )

        proposed = answer_submission(
            ack,
            save,
            field="title",
            fields={"chapters": "chapters"},
            what="proposal form",
        )
        if proposed is not None:
            reply = ephemeral_in(client, channel or user, user)

            def confirm() -> None:
                with replying(reply, "proposal form"):
                    reply(poll_blocks.proposed(proposed.poll, proposed.candidate))

            deps.later(confirm, "proposal form")

    app.view(POLL_PROPOSE)(submit_proposal)
