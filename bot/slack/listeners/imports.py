"""A book file shared with the bot in a DM, and the form that picks its chapters.

The ``message`` event of a file shared in the bot's DM (``message.im``, subtype
``file_share``) is acknowledged at once; the import service then checks the file (from
what Slack says of it: nothing is downloaded when it is not an EPUB or too big),
downloads it with the bot's token and answers the member in their DM, through the
Notifier. The "Pick the chapters" button opens the form; its submission adds the book.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import InvalidInput, is_number
from bot.domain.model import Book
from bot.services.imports import SharedFile
from bot.slack.blocks import imports as import_blocks
from bot.slack.import_modals import IMPORT_PICK, ImportModal
from bot.slack.listeners.common import (
    SlackDeps,
    answer_submission,
    ephemeral_in,
    ephemeral_via,
    replying,
)
from bot.slack.modals import metadata, state_values

#: Files a member may send at once to be read (Slack allows ten on one message).
MAX_FILES = 3


def is_file_sent_to_me(body: dict[str, Any]) -> bool:
    """A person (not a bot) shared files in their DM with the bot."""
    event = body.get("event") or {}
    return (
        event.get("channel_type") == "im"
        and event.get("subtype") == "file_share"
        and not event.get("bot_id")
        and bool(event.get("user"))
        and isinstance(event.get("files"), list)
        and bool(event["files"])
    )


def is_typed_to_me(body: dict[str, Any]) -> bool:
    """A person typed a message (no file) in their DM with the bot."""
    event = body.get("event") or {}
    return (
        event.get("channel_type") == "im"
        and event.get("subtype") is None
        and not event.get("bot_id")
        and bool(event.get("user"))
        and not event.get("thread_ts")
    )


def shared_file(data: dict[str, Any]) -> SharedFile:
    size = data.get("size")
    return SharedFile(
        id=str(data.get("id") or ""),
        name=str(data.get("name") or data.get("title") or "file"),
        size=int(size) if isinstance(size, int) else None,
        url=str(data.get("url_private_download") or data.get("url_private") or "") or None,
        filetype=str(data.get("filetype") or ""),
        mimetype=str(data.get("mimetype") or ""),
    )


def register(app: App, deps: SlackDeps) -> None:
    services = deps.services

    def on_file_shared(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        event = body["event"]
        team, user = str(body.get("team_id") or ""), str(event["user"])
        event_id = str(body.get("event_id") or "")
        files = [shared_file(f) for f in event["files"][:MAX_FILES] if isinstance(f, dict)]

        def receive(file: SharedFile) -> None:
            services.imports.receive_shared(
                team, user, file, delivery=f"{event_id}:{file.id}" if event_id else None
            )

        for file in files:
            deps.later(partial(receive, file), "shared file")

    # Before the thread listener (the first listener that matches an event is the one run).
    app.event("message", matchers=[is_file_sent_to_me])(on_file_shared)

    def on_typed_to_me(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        team, user = str(body.get("team_id") or ""), str(body["event"]["user"])
        event_id = str(body.get("event_id") or "") or None
        deps.later(lambda: services.imports.answer_typed(team, user, delivery=event_id), "typed DM")

    app.event("message", matchers=[is_typed_to_me])(on_typed_to_me)

    def pick_chapters(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        value = str(((body.get("actions") or [{}])[0]).get("value") or "")

        def open_form() -> None:
            with replying(ephemeral_via(respond), "import button"):
                if not is_number(value):
                    raise InvalidInput("That button is out of date; send me the file again.")
                form = services.imports.pick_form(
                    body["team"]["id"], body["user"]["id"], int(value)
                )
                client.views_open(
                    trigger_id=body["trigger_id"],
                    view=ImportModal(form.pending, form.picked).build(),
                )

        deps.later(open_form, "import button")

    app.action(import_blocks.PICK_ACTION)(pick_chapters)

    def submit_import(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        import_id = metadata(view).get("import_id")

        def save() -> Book:
            title, author, picked = ImportModal.parse(state_values(view))
            if not isinstance(import_id, int):
                raise InvalidInput("This form is out of date; send me the file again.")
            return services.imports.finish(team, user, import_id, title, author, picked)

        added = answer_submission(
            ack, save, field="chapters", fields={"title": "title"}, what="import form"
        )
        if added is not None:
            reply = ephemeral_in(client, user, user)

            def confirm() -> None:
                with replying(reply, "import form"):
                    reply(import_blocks.book_imported(added))

            deps.later(confirm, "import form")

    app.view(IMPORT_PICK)(submit_import)
