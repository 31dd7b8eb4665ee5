"""``/book`` and its modals: the shelf and the channel's reading plan."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import commands as cmd
from bot.domain.errors import InvalidInput
from bot.domain.model import Caller
from bot.domain.plans import resolve_options
from bot.observability import COMMANDS
from bot.services.plans import PlanView
from bot.slack import blocks
from bot.slack.listeners.common import (
    SlackDeps,
    answer_submission,
    ephemeral_in,
    ephemeral_via,
    in_channel_via,
    replying,
)
from bot.slack.modals import (
    BOOK_ADD,
    PLAN_START,
    BookAddModal,
    PlanStartModal,
    metadata,
    state_values,
)

MANAGE = {"pause", "resume", "skip", "finish"}


def register(app: App, deps: SlackDeps) -> None:
    services = deps.services

    def book_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()

        def work() -> None:
            COMMANDS.labels("/book").inc()
            with replying(ephemeral_via(respond), "/book"):
                run_book_command(deps, command, respond, client)

        deps.later(work, "/book")

    app.command("/book")(book_command)

    def submit_book(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        team, user = body["team"]["id"], body["user"]["id"]

        def save() -> int | None:
            request = BookAddModal.parse(state_values(view))
            return services.books.add(
                team, user, request.title, request.author, request.chapters
            ).id

        book_id = answer_submission(ack, save, field="title", what="book modal")
        if book_id is not None:
            reply = ephemeral_in(client, metadata(view).get("channel_id") or user, user)

            def confirm() -> None:
                with replying(reply, "book modal"):
                    reply(blocks.book_added(services.books.find(team, str(book_id))))

            deps.later(confirm, "book modal")

    app.view(BOOK_ADD)(submit_book)

    def submit_plan(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        team, user = body["team"]["id"], body["user"]["id"]

        def save() -> str:
            options = PlanStartModal.parse(state_values(view))
            caller = deps.caller(client, team, user, check_admin=False)
            channel = str(metadata(view).get("channel_id", ""))
            return start_plan(deps, caller, channel, options).group.channel_id

        channel = answer_submission(ack, save, field="book", fields=PLAN_FIELDS, what="plan modal")
        if channel is not None:

            def announce() -> None:
                with replying(ephemeral_in(client, channel, user), "plan modal"):
                    message = blocks.plan_started(services.plans.current(team, channel))
                    client.chat_postMessage(
                        channel=channel, text=message.text, blocks=message.blocks
                    )

            deps.later(announce, "plan modal")

    app.view(PLAN_START)(submit_plan)


def run_book_command(
    deps: SlackDeps, command: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    services = deps.services
    team, user, channel = command["team_id"], command["user_id"], command["channel_id"]
    reply = ephemeral_via(respond)
    announce = in_channel_via(respond)
    parsed = cmd.parse_book(command.get("text") or "")
    match parsed:
        case cmd.Simple("help"):
            reply(blocks.help_message(cmd.BOOK_HELP))
        case cmd.Simple("list"):
            reply(blocks.book_list(services.books.all(team)))
        case cmd.Simple("status"):
            view, progress = services.reflections.group_progress(team, channel)
            reply(blocks.plan_status(view, services.clock.now(), progress))
        case cmd.Simple("plan"):
            reply(blocks.plan_schedule(services.plans.current(team, channel)))
        case cmd.Simple("history"):
            reply(blocks.plan_history(services.plans.history(team, channel)))
        case cmd.Simple(name) if name in MANAGE:
            caller = deps.caller(client, team, user, check_admin=True)
            change = getattr(services.plans, name)(caller, channel)
            announce(blocks.plan_changed(name, change, user))
        case cmd.Simple("add-form"):
            client.views_open(trigger_id=command["trigger_id"], view=BookAddModal(channel).build())
        case cmd.Simple("start-form"):
            books = services.books.all(team)
            if not books:
                raise InvalidInput(
                    "The shelf is empty. Add a book first: `/book add <title> | <author> | <chapters>`."
                )
            defaults = services.defaults
            modal = PlanStartModal(
                channel_id=channel,
                books=books,
                default_weekday=defaults.weekday,
                default_time=defaults.at,
                default_chapters=defaults.chapters_per_step,
                default_timezone=defaults.timezone,
                today=services.clock.now().date(),
            )
            client.views_open(trigger_id=command["trigger_id"], view=modal.build())
        case cmd.BookAdd(title, author, chapters):
            reply(blocks.book_added(services.books.add(team, user, title, author, chapters)))
        case cmd.PlanOptions():
            require_reachable_channel(client, channel)
            caller = deps.caller(client, team, user, check_admin=False)
            announce(blocks.plan_started(start_plan(deps, caller, channel, parsed)))
        case cmd.BookQuestions(chapter, questions):
            caller = deps.caller(client, team, user, check_admin=True)
            services.plans.set_questions(caller, channel, chapter, questions)
            reply(blocks.notice(f"Saved {len(questions)} questions for chapter {chapter}."))
        case cmd.SummaryScope():
            posted = services.digests.post_on_demand(team, channel, parsed)
            where = "here" if posted.channel_id == channel else f"in <#{posted.channel_id}>"
            reply(blocks.notice(f"Posted the digest {where}."))
        case _:
            reply(blocks.help_message(cmd.BOOK_HELP))


# Domain error fields → the plan modal's blocks.
PLAN_FIELDS = {
    "timezone": "tz",
    "chapters_per_step": "chapters",
    "time": "at",
    "date": "start",
    "weekday": "weekday",
}


def start_plan(deps: SlackDeps, caller: Caller, channel: str, options: cmd.PlanOptions) -> PlanView:
    """Start a plan from what the member gave, with the configured defaults for the rest."""
    services = deps.services
    resolved = resolve_options(options, services.defaults, services.clock.now())
    return services.plans.start(
        caller,
        channel,
        resolved.book_ref,
        resolved.cadence,
        resolved.chapters_per_step,
        resolved.start_date,
        resolved.timezone,
    )


def require_reachable_channel(client: WebClient, channel_id: str) -> None:
    """The bot must be able to post in the channel before a plan may start there."""
    try:
        client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        if exc.response.get("error") in ("channel_not_found", "not_in_channel"):
            raise InvalidInput(
                "I can't see this conversation. Invite me first (`/invite @Readalong`), then start the plan."
            ) from None
        raise
