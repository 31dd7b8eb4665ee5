"""``/book`` and its forms: the shelf and the channel's reading plan.

Each listener acks, parses, calls one service function and renders the answer; a plan
change is announced in the channel through the command's own ``response_url``. The
command's text is decoded from Slack's entities once, here (``from_slack``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain import commands as cmd
from bot.domain.errors import InvalidInput
from bot.domain.model import Caller
from bot.domain.text import from_slack
from bot.observability import COMMANDS
from bot.services.plans import PlanChange, PlanView
from bot.slack import blocks
from bot.slack.blocks import pace as pace_blocks
from bot.slack.blocks import polls as poll_blocks
from bot.slack.listeners.common import (
    SlackDeps,
    answer_submission,
    ephemeral_in,
    ephemeral_via,
    in_channel_via,
    remember_names,
    replace_via,
    replying,
)
from bot.slack.modals import (
    BOOK_ADD,
    BOOK_EDIT,
    PLAN_START,
    BookAddModal,
    PlanStartModal,
    metadata,
    state_values,
)
from bot.slack.poll_modals import ProposeModal

MANAGE = {"pause", "resume", "skip", "finish", "cancel"}


def register(app: App, deps: SlackDeps) -> None:
    services = deps.services

    def book_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        typed = f"/book {from_slack(str(command.get('text') or ''))}".strip()

        def work() -> None:
            COMMANDS.labels("/book").inc()
            with replying(ephemeral_via(respond), "/book", typed):
                run_book_command(deps, command, respond, client)
            remember_names(deps, command)  # after: the command may have made the group

        deps.later(work, "/book")

    app.command("/book")(book_command)

    def submit_book(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        book_id = metadata(view).get("book_id")

        def save() -> int | None:
            request = BookAddModal.parse(state_values(view))
            if isinstance(book_id, int):
                caller = deps.caller(team, user, check_admin=True)
                edit = cmd.BookEdit(
                    f"#{book_id}",
                    title=request.title,
                    author=request.author,
                    chapters=request.chapters,
                )
                return services.books.edit(caller, edit).id
            return services.books.add(
                team, user, request.title, request.author, request.chapters
            ).id

        saved_id = answer_submission(ack, save, field="title", what="book modal")
        if saved_id is not None:
            reply = ephemeral_in(client, metadata(view).get("channel_id") or user, user)

            def confirm() -> None:
                with replying(reply, "book modal"):
                    book = services.books.find(team, f"#{saved_id}")
                    reply(blocks.book_saved(book, edited=isinstance(book_id, int)))

            deps.later(confirm, "book modal")

    app.view(BOOK_ADD)(submit_book)
    app.view(BOOK_EDIT)(submit_book)

    def submit_plan(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        channel = str(metadata(view).get("channel_id", ""))

        def save() -> PlanView:
            options = PlanStartModal.parse(state_values(view))
            caller = deps.caller(team, user, check_admin=False)
            return services.plans.start_from(caller, channel, options)

        started = answer_submission(ack, save, field="book", fields=PLAN_FIELDS, what="plan modal")
        if started is not None:

            def announce() -> None:
                with replying(ephemeral_in(client, channel, user), "plan modal"):
                    services.notifier.announce_plan_started(channel, started)

            deps.later(announce, "plan modal")

    app.view(PLAN_START)(submit_plan)

    def confirm_remove(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        team, user = body["team"]["id"], body["user"]["id"]
        book_id = str(((body.get("actions") or [{}])[0]).get("value") or "")

        def remove() -> None:
            with replying(ephemeral_via(respond), "book removal"):
                caller = deps.caller(team, user, check_admin=True)
                removed = services.books.remove(caller, f"#{book_id}")
                replace_via(respond)(blocks.book_removed(removed))

        deps.later(remove, "book removal")

    app.action(blocks.REMOVE_ACTION)(confirm_remove)


def run_book_command(
    deps: SlackDeps, command: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    services = deps.services
    team, user, channel = command["team_id"], command["user_id"], command["channel_id"]
    trigger_id = str(command.get("trigger_id") or "")
    reply = ephemeral_via(respond)
    announce = in_channel_via(respond)
    parsed = cmd.parse_book(from_slack(command.get("text") or ""))
    match parsed:
        case cmd.Simple("help"):
            reply(blocks.help_message(cmd.BOOK_HELP))
        case cmd.Simple("list"):
            reply(blocks.book_list(services.books.all(team)))
        case cmd.Simple("status"):
            caller = deps.caller(team, user, check_admin=False)
            status = services.readers.status(caller, channel)
            reply(pace_blocks.group_status(status, services.clock.now()))
        case cmd.BookCalendar(whole_group, reset):
            caller = deps.caller(team, user, check_admin=whole_group)
            services.readers.calendar_link(caller, channel, whole_group=whole_group, reset=reset)
            reply(pace_blocks.calendar_sent())
        case cmd.Simple("plan"):
            reply(blocks.plan_schedule(services.plans.current(team, channel)))
        case cmd.Simple("history"):
            reply(blocks.plan_history(services.plans.history(team, channel)))
        case cmd.Simple(name) if name in MANAGE:
            caller = deps.caller(team, user, check_admin=True)
            actions: dict[str, Callable[[Caller, str], PlanChange]] = {
                "pause": services.plans.pause,
                "resume": services.plans.resume,
                "skip": services.plans.skip,
                "finish": services.plans.finish,
                "cancel": services.plans.cancel,
            }
            announce(blocks.plan_changed(name, actions[name](caller, channel), user))
        case cmd.Simple("add-form"):
            client.views_open(trigger_id=trigger_id, view=BookAddModal(channel).build())
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
            client.views_open(trigger_id=trigger_id, view=modal.build())
        case cmd.Simple("propose-form"):
            client.views_open(trigger_id=trigger_id, view=ProposeModal(channel).build())
        case cmd.Simple("propose-withdraw"):
            reply(poll_blocks.withdrawn(services.polls.withdraw(team, user, channel)))
        case cmd.BookPropose():
            proposed = services.polls.propose(team, user, channel, parsed)
            reply(poll_blocks.proposed(proposed.poll, proposed.candidate))
        case cmd.PollOpen(closes):
            caller = deps.caller(team, user, check_admin=False)
            reply(poll_blocks.poll_opened(services.polls.open(caller, channel, closes)))
        case cmd.Simple("poll-close"):
            caller = deps.caller(team, user, check_admin=True)
            services.polls.close(caller, channel)  # the count is posted in the channel
            reply(blocks.notice("Closed the poll. The count is in the channel."))
        case cmd.Simple("poll-status"):
            poll = services.polls.status(team, channel)
            names = services.directory.user_names([c.proposed_by for c in poll.poll.candidates])
            reply(poll_blocks.poll_status(poll.poll, poll.ballots, names))
        case cmd.Typo():
            reply(blocks.typo_question("/book", parsed, None))
        case cmd.BookAdd(title, author, chapters):
            reply(blocks.book_added(services.books.add(team, user, title, author, chapters)))
        case cmd.BookEdit(book_ref) if parsed.changes_nothing:
            book = services.books.find(team, book_ref)
            client.views_open(trigger_id=trigger_id, view=BookAddModal(channel, book).build())
        case cmd.BookEdit():
            caller = deps.caller(team, user, check_admin=True)
            reply(blocks.book_saved(services.books.edit(caller, parsed), edited=True))
        case cmd.BookRemove(book_ref):
            caller = deps.caller(team, user, check_admin=True)
            reply(blocks.remove_question(services.books.removable(caller, book_ref)))
        case cmd.PlanOptions():
            caller = deps.caller(team, user, check_admin=False)
            announce(blocks.plan_started(services.plans.start_from(caller, channel, parsed)))
        case cmd.BookQuestions(chapter, questions):
            caller = deps.caller(team, user, check_admin=True)
            services.plans.set_questions(caller, channel, chapter, questions)
            reply(blocks.questions_saved(len(questions), chapter))
        case cmd.SummaryScope():
            caller = deps.caller(team, user, check_admin=True)
            posted = services.digests.post_on_demand(caller, channel, parsed)
            if posted.channel_id is None:
                for message in blocks.digest_for_one(posted.digest):
                    reply(message)
                return
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
