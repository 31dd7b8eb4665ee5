"""``/reflect``, the Reflect button, the reflection form, and the buttons on the bot's answers.

Each listener acks, parses, calls one service function and renders the answer. The
thread copy of a shared reflection is the services' job (through the Notifier port);
the only Web API calls here answer the request (respond, views.open).

Slack sends a slash command's text with ``&``, ``<``, ``>`` as entities: it is decoded
once here (``from_slack``), and escaped once again wherever it is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain import commands as cmd
from bot.domain.errors import InvalidInput, NotFound, is_number
from bot.domain.model import Visibility
from bot.domain.reflections import MAX_REFLECTION_CHARS, TooLong, split_text
from bot.domain.schedule import usable_zone
from bot.domain.text import from_slack
from bot.observability import COMMANDS
from bot.services.export import NothingToExport
from bot.services.reflections import MessageToSave, SavedReflection
from bot.slack import blocks
from bot.slack.blocks import DraftChoice, Message
from bot.slack.blocks import pace as pace_blocks
from bot.slack.listeners.common import (
    SlackDeps,
    answer_submission,
    ephemeral_in,
    ephemeral_via,
    remember_names,
    replace_via,
    replying,
)
from bot.slack.modals import (
    REFLECT,
    ReflectionModal,
    metadata,
    source_from_metadata,
    state_values,
)

logger = logging.getLogger(__name__)

#: The message shortcut "Save as reflection" (declared in manifest.yaml).
SAVE_AS_REFLECTION = "save_as_reflection"


def register(app: App, deps: SlackDeps) -> None:
    services = deps.services

    def reflect_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()

        typed = f"/reflect {from_slack(str(command.get('text') or ''))}".strip()

        def work() -> None:
            COMMANDS.labels("/reflect").inc()
            with replying(ephemeral_via(respond), "/reflect", typed):
                run_reflect_command(deps, command, respond, client)
            remember_names(deps, command)  # after: the command may have made the group

        deps.later(work, "/reflect")

    app.command("/reflect")(reflect_command)

    def reflect_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        channel = str((body.get("channel") or {}).get("id") or user)  # no channel on App Home
        step_value = str((body.get("actions") or [{}])[0].get("value") or "")

        def open_modal() -> None:
            with replying(ephemeral_in(client, channel, user), "Reflect button"):
                open_new_reflection(
                    deps,
                    client,
                    body["trigger_id"],
                    body["team"]["id"],
                    channel,
                    user,
                    step_id=int(step_value) if is_number(step_value) else None,
                )

        deps.later(open_modal, "Reflect button")

    app.action(blocks.REFLECT_ACTION)(reflect_button)

    def switch_visibility(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """The one-click button on every confirmation: private ⇄ shared."""
        ack()
        team, user = body["team"]["id"], body["user"]["id"]
        number_text, _, target = str(_action_value(body)).partition(":")

        def switch() -> None:
            with replying(ephemeral_via(respond), "visibility switch"):
                numbers = number_text.split(",")
                if not all(map(is_number, numbers)) or target not in {v.value for v in Visibility}:
                    raise InvalidInput("That button is out of date; use `/reflect edit <n>`.")
                saved = [
                    services.reflections.edit(
                        team, user, int(n), visibility=Visibility(target), echo=True
                    )
                    for n in numbers
                ]
                replace_via(respond)(
                    confirmation(saved[0], verb="Updated")
                    if len(saved) == 1
                    else parts_confirmation(saved)
                )

        deps.later(switch, "visibility switch")

    app.action(blocks.SWITCH_ACTIONS)(switch_visibility)

    def draft_choice(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """An answer to one of the bot's questions about text it kept (a draft)."""
        ack()
        team, user = body["team"]["id"], body["user"]["id"]
        draft_text, _, choice = str(_action_value(body)).partition(":")
        trigger_id = str(body.get("trigger_id") or "")

        def answer() -> None:
            with replying(ephemeral_via(respond), "draft"):
                if not is_number(draft_text):
                    raise InvalidInput("That button is out of date; please type it again.")
                answer_draft(deps, client, respond, team, user, int(draft_text), choice, trigger_id)

        deps.later(answer, "draft")

    app.action(blocks.DRAFT_ACTIONS)(draft_choice)

    def submit_reflection(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        meta = metadata(view)
        team, user = body["team"]["id"], body["user"]["id"]
        step_id = meta.get("step_id")
        number = meta.get("reflection_number")

        source = source_from_metadata(meta)

        def save() -> int | None:
            entry = ReflectionModal.parse(state_values(view), optional_text=source is not None)
            if isinstance(number, int):
                saved = services.reflections.edit(
                    team,
                    user,
                    number,
                    entry.text,
                    entry.visibility,
                    chapter=entry.chapter,
                    whole_step=entry.chapter is None,
                    echo=False,
                )
            else:
                saved = services.reflections.write(
                    team,
                    str(meta.get("channel_id", "")),
                    user,
                    entry.text,
                    chapter=entry.chapter,
                    visibility=entry.visibility,
                    step_id=step_id if isinstance(step_id, int) else None,
                    echo=False,
                    source=source,
                )
            return saved.reflection.number

        saved_number = answer_submission(ack, save, field="text", what="reflection modal")
        if saved_number is not None:
            reply = ephemeral_in(client, str(meta.get("channel_id") or user), user)

            def follow_up() -> None:
                with replying(reply, "reflection modal"):
                    saved = services.reflections.publish(team, user, saved_number)
                    reply(confirmation(saved, verb="Updated" if number else "Saved"))

            deps.later(follow_up, "reflection modal")

    app.view(REFLECT)(submit_reflection)

    def save_as_reflection(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        """The message shortcut: the reflection form, filled in from the message."""
        ack()
        team, user = body["team"]["id"], body["user"]["id"]
        channel = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        by_app = bool(message.get("bot_id")) or message.get("subtype") == "bot_message"
        to_save = MessageToSave(
            channel_id=channel,
            ts=str(message.get("ts") or body.get("message_ts") or ""),
            author_id=None if by_app else (str(message.get("user") or "") or None),
            text=str(message.get("text") or ""),
        )

        def open_form() -> None:
            with replying(ephemeral_via(respond), "Save as reflection"):
                if not channel or not to_save.ts:
                    raise InvalidInput("Slack did not say which message that was; try again.")
                form = services.reflections.form_from_message(team, channel, user, to_save)
                modal = ReflectionModal(
                    channel_id=form.view.group.channel_id,
                    book=form.view.book,
                    current_label=form.step.describe_chapters(),
                    step_id=form.step.id,
                    step_number=form.step.number,
                    initial_text=form.own_text,
                    initial_visibility=form.choices[0],
                    choices=form.choices,
                    source=form.source,
                    copy=form.copy,
                    note=form.note,
                )
                client.views_open(trigger_id=body["trigger_id"], view=modal.build())

        deps.later(open_form, "Save as reflection")

    app.shortcut(SAVE_AS_REFLECTION)(save_as_reflection)


def _action_value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def confirmation(saved: SavedReflection, *, verb: str = "Saved") -> Message:
    return blocks.reflection_saved(
        saved.reflection,
        saved.step,
        saved.echoed,
        late=saved.late,
        verb=verb,
        book_title=saved.view.book.title,
        choices=saved.choices,
    )


def parts_confirmation(parts: Sequence[SavedReflection]) -> Message:
    return blocks.parts_saved(
        [(p.reflection, p.step, p.echoed) for p in parts],
        parts[0].view.book.title,
        parts[0].choices,
    )


# --------------------------------------------------------------------------- forms


def open_new_reflection(
    deps: SlackDeps,
    client: WebClient,
    trigger_id: str,
    team: str,
    channel: str,
    user: str,
    *,
    step_id: int | None = None,
    text: str | None = None,
    chapter: int | None = None,
    visibility: Visibility | None = None,
    hint: str | None = None,
) -> None:
    """The form for a new reflection on ``step_id`` (a button's step) or the channel's."""
    view, step, choices = deps.services.reflections.form_target(team, channel, user, step_id)
    modal = ReflectionModal(
        channel_id=view.group.channel_id,
        book=view.book,
        current_label=step.describe_chapters(),
        step_id=step.id,
        step_number=step.number,
        initial_text=text,
        initial_chapter=chapter,
        initial_visibility=visibility if visibility in choices else choices[0],
        hint=hint,
        choices=choices,
    )
    client.views_open(trigger_id=trigger_id, view=modal.build())


def open_edit(
    deps: SlackDeps,
    client: WebClient,
    trigger_id: str,
    saved: SavedReflection,
    *,
    text: str | None = None,
    hint: str | None = None,
) -> None:
    """The form to edit a reflection: its text, or ``text`` (a new text kept for it)."""
    reflection, step = saved.reflection, saved.step
    modal = ReflectionModal(
        channel_id=saved.view.group.channel_id,
        book=saved.view.book,
        current_label=step.describe_chapters(),
        step_id=step.id,
        step_number=step.number,
        reflection_number=reflection.number,
        initial_text=reflection.text if text is None else text,
        initial_chapter=reflection.chapter,
        initial_visibility=reflection.visibility,
        hint=hint,
        choices=saved.choices,
    )
    client.views_open(trigger_id=trigger_id, view=modal.build())


# --------------------------------------------------------------------------- /reflect


def run_reflect_command(
    deps: SlackDeps, command: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    services = deps.services
    team, user, channel = command["team_id"], command["user_id"], command["channel_id"]
    trigger_id = str(command.get("trigger_id") or "")
    reply = ephemeral_via(respond)
    text = from_slack(command.get("text") or "")
    parsed = cmd.parse_reflect(text)
    match parsed:
        case cmd.Simple("help"):
            reply(blocks.help_message(cmd.REFLECT_HELP))
        case cmd.Simple("form"):
            open_new_reflection(deps, client, trigger_id, team, channel, user)
        case cmd.Simple("list"):
            reply(blocks.reflection_list(*services.reflections.list_with_titles(team, user)))
        case cmd.Simple("progress"):
            reply(
                pace_blocks.position_message(
                    services.readers.position(team, user, channel), timezone_of(deps, user)
                )
            )
        case cmd.ReflectProgress(chapter):
            reply(
                pace_blocks.position_message(
                    services.readers.set_progress(team, user, channel, chapter),
                    timezone_of(deps, user),
                )
            )
        case cmd.ReflectAway(until, days):
            back = services.readers.go_away(team, user, until=until, days=days)
            reply(pace_blocks.away_set(back, timezone_of(deps, user)))
        case cmd.Simple("back"):
            reply(pace_blocks.back_again(services.readers.come_back(team, user)))
        case cmd.ReflectPace(days):
            position = services.readers.set_pace(team, user, channel, days)
            reply(pace_blocks.pace_set(position, timezone_of(deps, user)))
        case cmd.ReflectQuietHours(on):
            services.readers.set_quiet_hours(team, user, on)
            reply(pace_blocks.quiet_hours_set(on))
        case cmd.Simple("mute" | "unmute" as name):
            services.reflections.set_member_flags(team, user, muted=name == "mute")
            reply(
                blocks.notice(
                    "Reminders are off. `/reflect unmute` turns them back on."
                    if name == "mute"
                    else "Reminders are on again."
                )
            )
        case cmd.ReflectQuotable(on):
            services.reflections.set_member_flags(team, user, quotable=on)
            reply(
                blocks.notice(
                    "Digests and other members' exports may now quote your shared reflections "
                    "and replies. `/reflect quotable off` stops that."
                    if on
                    else "Nobody else's export or digest will quote you; digests already "
                    "posted are updated to leave your words out. `/reflect quotable on` allows it."
                )
            )
        case cmd.Typo(typed, _meant, rest):
            words = f"{typed} {rest}".strip()
            typo_draft = services.reflections.keep_draft(team, user, channel, words)
            reply(blocks.typo_question("/reflect", parsed, typo_draft.id))
        case cmd.Unclear(message, kept):
            kept_draft = (
                services.reflections.keep_draft(team, user, channel, kept) if kept else None
            )
            reply(blocks.unclear(message, kept_draft.id if kept_draft else None, kept))
        case cmd.ReflectWrite(body, chapter, visibility, question):
            if question is not None:
                asked = services.reflections.keep_draft(
                    team, user, channel, question.as_typed, chapter=chapter
                )
                assert asked.id is not None
                default = services.reflections.default_choice(team, channel, user)
                reply(blocks.visibility_question(asked.id, question, default))
            elif not body:
                open_new_reflection(
                    deps,
                    client,
                    trigger_id,
                    team,
                    channel,
                    user,
                    chapter=chapter,
                    visibility=visibility,
                )
            else:
                write_or_keep(
                    deps,
                    reply,
                    lambda: services.reflections.write(
                        team, channel, user, body, chapter=chapter, visibility=visibility, echo=True
                    ),
                    keep=lambda long: (
                        services.reflections.keep_draft(
                            team, user, channel, long, chapter=chapter, visibility=visibility
                        ).id
                    ),
                )
        case cmd.ReflectEdit(number) if parsed.changes_nothing:
            saved = (
                services.reflections.latest_own(team, user)
                if number is None
                else services.reflections.get_own(team, user, number)
            )
            open_edit(deps, client, trigger_id, saved)
        case cmd.ReflectEdit(int() as number_given, question=cmd.VisibilityQuestion() as asked):
            own = services.reflections.get_own(team, user, number_given)  # theirs, or a no
            edit_draft = services.reflections.keep_draft(
                team,
                user,
                channel,
                asked.as_typed,
                chapter=parsed.chapter,
                visibility=own.choices[0],  # the question's other answer: the default
                reflection_number=number_given,
            )
            assert edit_draft.id is not None
            reply(blocks.visibility_question(edit_draft.id, asked, own.choices[0]))
        case cmd.ReflectEdit(int() as number_given, new_text, visibility, chapter):
            edited: int = number_given  # narrowed, for the closures below
            write_or_keep(
                deps,
                reply,
                lambda: services.reflections.edit(
                    team, user, edited, new_text, visibility, chapter=chapter, echo=True
                ),
                keep=lambda long: (
                    services.reflections.keep_draft(
                        team,
                        user,
                        channel,
                        long,
                        chapter=chapter,
                        visibility=visibility,
                        reflection_number=edited,
                    ).id
                ),
                verb="Updated",
            )
        case cmd.ReflectDelete(number):
            removed = services.reflections.delete_with_undo(team, user, number, channel)
            reply(blocks.deleted(number, removed.undo_draft_id))
        case cmd.ReflectExport(book_ref):
            try:
                sent = send_member_post(deps, team, user, book_ref)
            except NothingToExport:
                raise
            except NotFound as exc:
                if not book_ref:
                    raise
                unsent = services.reflections.keep_draft(team, user, channel, text)
                reply(blocks.unclear(exc.message, unsent.id, text))
                return
            reply(blocks.notice(sent))
        case _:
            reply(blocks.help_message(cmd.REFLECT_HELP))


def timezone_of(deps: SlackDeps, user: str) -> str:
    """The member's own time zone (Slack's), for times shown to them; UTC if unknown."""
    return usable_zone(deps.services.directory.user_timezone(user)) or "UTC"


def send_member_post(deps: SlackDeps, team: str, user: str, book_ref: str | None) -> str:
    """Build the member's post and send it to their DM (only they can see it), through
    the Notifier; returns what to tell them."""
    export = deps.services.exports.member_post(team, user, book_ref)
    deps.services.notifier.send_file(
        user, export.filename, export.title, export.markdown, export.comment
    )
    return "I've sent your reflections to you as a Markdown file in a direct message."


def write_or_keep(
    deps: SlackDeps,
    reply: Callable[[Message], None],
    save: Callable[[], SavedReflection],
    *,
    keep: Callable[[str], int | None],
    verb: str = "Saved",
) -> None:
    """Save, and confirm; a text over the limit is kept (a draft) and given back whole."""
    try:
        saved = save()
    except TooLong as exc:
        draft_id = keep(exc.text)
        assert draft_id is not None
        reply(
            blocks.too_long(draft_id, exc.text, len(split_text(exc.text, MAX_REFLECTION_CHARS - 8)))
        )
        return
    reply(confirmation(saved, verb=verb))


def answer_draft(
    deps: SlackDeps,
    client: WebClient,
    respond: Respond,
    team: str,
    user: str,
    draft_id: int,
    choice: str,
    trigger_id: str,
) -> None:
    """Do what the member chose for text the bot kept: save it (privately, as typed, in
    parts) or open it in a form."""
    reflections = deps.services.reflections
    answer = replace_via(respond)
    if choice == DraftChoice.FORM:
        draft = reflections.draft(team, user, draft_id)
        cut = split_text(draft.text, MAX_REFLECTION_CHARS)[0]
        note = (
            f"The form holds {MAX_REFLECTION_CHARS:,} characters; the rest of your text is in "
            "my message, to paste into another reflection."
            if len(cut) < len(draft.text)
            else None
        )
        if draft.reflection_number is not None:
            saved = reflections.get_own(team, user, draft.reflection_number)
            open_edit(deps, client, trigger_id, saved, text=cut, hint=note)
        else:
            open_new_reflection(
                deps,
                client,
                trigger_id,
                team,
                draft.channel_id,
                user,
                step_id=draft.step_id,
                text=cut,
                chapter=draft.chapter,
                visibility=draft.visibility,
                hint=note,
            )
        return
    draft = reflections.take_draft(team, user, draft_id)
    editing = draft.reflection_number
    if choice == DraftChoice.RESTORE:
        saved = reflections.write(
            team,
            draft.channel_id,
            user,
            draft.text,
            chapter=draft.chapter,
            visibility=draft.visibility,
            step_id=draft.step_id,
            echo=True,
            number=draft.reflection_number,
        )
        answer(confirmation(saved))
        return
    if choice == DraftChoice.PARTS:
        if editing is not None:
            parts = reflections.edit_parts(
                team,
                user,
                editing,
                draft.text,
                draft.visibility,
                chapter=draft.chapter,
                echo=True,
            )
        else:
            parts = reflections.write_parts(
                team,
                draft.channel_id,
                user,
                draft.text,
                chapter=draft.chapter,
                visibility=draft.visibility,
                step_id=draft.step_id,
                echo=True,
            )
        answer(parts_confirmation(parts))
        return
    visibility: Visibility | None
    if choice == DraftChoice.PRIVATE:
        words = draft.text.split(maxsplit=1)
        text, visibility = (words[1] if len(words) > 1 else ""), Visibility.PRIVATE
    elif choice == DraftChoice.AS_TYPED:
        text, visibility = draft.text, draft.visibility
    else:
        raise InvalidInput("That button is out of date; please type it again.")

    def save() -> SavedReflection:
        if editing is not None:
            return reflections.edit(
                team, user, editing, text, visibility, chapter=draft.chapter, echo=True
            )
        return reflections.write(
            team,
            draft.channel_id,
            user,
            text,
            chapter=draft.chapter,
            visibility=visibility,
            step_id=draft.step_id,
            echo=True,
        )

    write_or_keep(
        deps,
        answer,
        save,
        keep=lambda long: (
            reflections.keep_draft(
                team,
                user,
                draft.channel_id,
                long,
                chapter=draft.chapter,
                visibility=visibility,
                step_id=draft.step_id,
                reflection_number=editing,
            ).id
        ),
        verb="Updated" if editing is not None else "Saved",
    )
