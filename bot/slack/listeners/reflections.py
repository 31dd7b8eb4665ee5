"""``/reflect``, the Reflect button on prompts, and the reflection modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import commands as cmd
from bot.domain.errors import InvalidInput, is_number
from bot.domain.model import Reflection, Visibility
from bot.observability import COMMANDS
from bot.services.reflections import SavedReflection
from bot.slack import blocks
from bot.slack.listeners.common import (
    SlackDeps,
    answer_submission,
    ephemeral_in,
    ephemeral_via,
    replying,
)
from bot.slack.modals import REFLECT, ReflectionModal, metadata, state_values

logger = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps) -> None:
    services = deps.services

    def reflect_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()

        def work() -> None:
            COMMANDS.labels("/reflect").inc()
            with replying(ephemeral_via(respond), "/reflect"):
                run_reflect_command(deps, command, respond, client)

        deps.later(work, "/reflect")

    app.command("/reflect")(reflect_command)

    def reflect_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        channel = str((body.get("channel") or {}).get("id") or user)  # no channel on App Home
        step_value = (body.get("actions") or [{}])[0].get("value") or ""

        def open_modal() -> None:
            with replying(ephemeral_in(client, channel, user), "Reflect button"):
                open_reflection_modal(
                    deps,
                    client,
                    body["trigger_id"],
                    body["team"]["id"],
                    channel,
                    step_id=int(step_value) if is_number(step_value) else None,
                )

        deps.later(open_modal, "Reflect button")

    app.action(blocks.REFLECT_ACTION)(reflect_button)

    def submit_reflection(
        ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        meta = metadata(view)
        team, user = body["team"]["id"], body["user"]["id"]

        def save() -> int | None:
            entry = ReflectionModal.parse(state_values(view))
            if meta.get("reflection_number"):
                saved = services.reflections.edit(
                    team, user, int(meta["reflection_number"]), entry.text, entry.visibility
                )
            else:
                saved = services.reflections.write(
                    team,
                    str(meta.get("channel_id", "")),
                    user,
                    entry.text,
                    chapter=entry.chapter,
                    visibility=entry.visibility,
                    step_number=meta.get("step_number"),
                )
            return saved.reflection.number

        reflection_id = answer_submission(ack, save, field="text", what="reflection modal")
        if reflection_id is not None:
            reply = ephemeral_in(client, str(meta.get("channel_id") or user), user)

            def follow_up() -> None:
                with replying(reply, "reflection modal"):
                    saved = services.reflections.get_own(team, user, reflection_id)
                    echoed = sync_echo(deps, client, saved)
                    reply(blocks.reflection_saved(saved.reflection, saved.step, echoed))

            deps.later(follow_up, "reflection modal")

    app.view(REFLECT)(submit_reflection)


def open_reflection_modal(
    deps: SlackDeps,
    client: WebClient,
    trigger_id: str,
    team: str,
    channel: str,
    *,
    step_id: int | None = None,
    reflection: SavedReflection | None = None,
) -> None:
    services = deps.services
    if reflection is not None:
        view = reflection.view
    elif step_id is not None:
        view = services.plans.for_step(step_id)  # the button may be in a DM reminder
    else:
        view = services.plans.current(team, channel)
    channel = view.group.channel_id
    now = services.clock.now()
    step = next((s for s in view.plan.steps if step_id is not None and s.id == step_id), None)
    step = step or view.plan.current_step(now)
    label = step.describe_chapters() if step else "current"
    modal = ReflectionModal(
        channel_id=channel,
        book=view.book,
        current_label=label,
        step_number=step.number if step and step_id is not None else None,
        reflection_number=reflection.reflection.number if reflection else None,
        initial_text=reflection.reflection.text if reflection else None,
        initial_visibility=reflection.reflection.visibility if reflection else Visibility.SHARED,
    )
    client.views_open(trigger_id=trigger_id, view=modal.build())


def run_reflect_command(
    deps: SlackDeps, command: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    services = deps.services
    team, user, channel = command["team_id"], command["user_id"], command["channel_id"]
    reply = ephemeral_via(respond)
    parsed = cmd.parse_reflect(command.get("text") or "")
    match parsed:
        case cmd.Simple("help"):
            reply(blocks.help_message(cmd.REFLECT_HELP))
        case cmd.Simple("form"):
            open_reflection_modal(deps, client, command["trigger_id"], team, channel)
        case cmd.Simple("list"):
            reply(blocks.reflection_list(services.reflections.list_own(team, user)))
        case cmd.Simple("progress"):
            view = services.plans.current(team, channel)
            reply(blocks.progress_message(services.reflections.progress(team, channel, user), view))
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
                    "Digests and other members' exports may now quote your shared reflections."
                    if on
                    else "Nobody else's export or digest will quote you."
                )
            )
        case cmd.ReflectWrite(text, chapter, visibility):
            saved = services.reflections.write(
                team, channel, user, text, chapter=chapter, visibility=visibility
            )
            echoed = sync_echo(deps, client, saved)
            reply(blocks.reflection_saved(saved.reflection, saved.step, echoed))
        case cmd.ReflectEdit(None, _):
            mine = services.reflections.list_own(team, user)
            if not mine:
                raise InvalidInput(
                    "You have no reflections to edit yet. Write one with `/reflect <text>`."
                )
            latest = services.reflections.get_own(team, user, _id(mine[-1]))
            open_reflection_modal(
                deps, client, command["trigger_id"], team, channel, reflection=latest
            )
        case cmd.ReflectEdit(reflection_id, None):
            assert reflection_id is not None
            saved = services.reflections.get_own(team, user, reflection_id)
            open_reflection_modal(
                deps, client, command["trigger_id"], team, channel, reflection=saved
            )
        case cmd.ReflectEdit(reflection_id, text):
            assert reflection_id is not None
            saved = services.reflections.edit(team, user, reflection_id, text)
            echoed = sync_echo(deps, client, saved)
            reply(blocks.reflection_saved(saved.reflection, saved.step, echoed))
        case cmd.ReflectDelete(reflection_id):
            removed = services.reflections.delete(team, user, reflection_id)
            remove_echo(client, deps, removed, channel=None)
            reply(blocks.notice(f"Deleted reflection #{reflection_id}."))
        case cmd.ReflectExport(book_ref):
            send_export(deps, client, team, user, book_ref)
            reply(
                blocks.notice(
                    "I've sent your reflections to you as a Markdown file in a direct message."
                )
            )
        case _:
            reply(blocks.help_message(cmd.REFLECT_HELP))


def send_export(
    deps: SlackDeps, client: WebClient, team: str, user: str, book_ref: str | None
) -> None:
    """Build the member's post and upload it to their DM (only they can see it)."""
    names = display_names(client, [user])
    export = deps.services.exports.member_post(
        team, user, book_ref, names.get(user, user), names=_NameLookup(client)
    )
    note = (
        f" ({export.private_left_out} private reflection(s) left out)"
        if export.private_left_out
        else ""
    )
    dm = client.conversations_open(users=user)["channel"]["id"]
    client.files_upload_v2(
        channel=dm,
        filename=export.filename,
        title=export.title,
        content=export.markdown,
        initial_comment=f"Your {export.shared} shared reflection(s), ready to publish{note}.",
    )


class _NameLookup(dict[str, str]):
    """Display names fetched from Slack on first use (only for the few quoted members)."""

    def __init__(self, client: WebClient) -> None:
        super().__init__()
        self.client = client

    def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
        if key not in self:
            self[key] = display_names(self.client, [key]).get(key, default or key)
        return self[key]


def display_names(client: WebClient, user_ids: list[str]) -> dict[str, str]:
    names = {}
    for user_id in user_ids:
        try:
            user = client.users_info(user=user_id).get("user") or {}
            profile = user.get("profile") or {}
            names[user_id] = str(
                profile.get("display_name") or user.get("real_name") or user.get("name") or user_id
            )
        except SlackApiError:
            names[user_id] = user_id
    return names


def _id(reflection: Reflection) -> int:
    """The member's own number of their reflection."""
    assert reflection.number is not None
    return reflection.number


def sync_echo(deps: SlackDeps, client: WebClient, saved: SavedReflection) -> bool:
    """Make the prompt thread show a shared reflection (posted or updated) and not a private one.

    Returns whether the reflection is now visible in the thread.
    """
    reflection, step = saved.reflection, saved.step
    channel = saved.view.group.channel_id
    if reflection.visibility is Visibility.PRIVATE:
        remove_echo(client, deps, reflection, channel)
        return False
    if step.message_ts is None:
        return False
    message = blocks.reflection_echo(reflection, step)
    if reflection.message_ts:
        client.chat_update(
            channel=channel, ts=reflection.message_ts, text=message.text, blocks=message.blocks
        )
        return True
    posted = client.chat_postMessage(
        channel=channel, thread_ts=step.message_ts, text=message.text, blocks=message.blocks
    )
    deps.services.reflections.mark_echoed(_id(reflection), str(posted["ts"]))
    return True


def remove_echo(
    client: WebClient, deps: SlackDeps, reflection: Reflection, channel: str | None
) -> None:
    """Delete the thread copy of a reflection that became private or was deleted."""
    if not reflection.message_ts:
        return
    if channel is None:
        channel = deps.services.plans.channel_of(reflection.plan_id)
    try:
        client.chat_delete(channel=channel, ts=reflection.message_ts)
    except SlackApiError as exc:
        if exc.response.get("error") != "message_not_found":
            raise
    if reflection.id is not None and deps.services.reflections.exists(reflection.id):
        deps.services.reflections.mark_echoed(reflection.id, None)
