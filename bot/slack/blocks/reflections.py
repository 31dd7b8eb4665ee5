"""Messages about reflections: saved, echoed in a thread, listed; progress; the Reflect button."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.domain.model import Progress, Reflection, Step, Visibility
from bot.services.plans import PlanView
from bot.slack.blocks.base import Message, context, header, notice, section, text_sections
from bot.slack.text import escape, mention, quote

REFLECT_ACTION = "reflect_open"


def reflection_label(reflection: Reflection) -> str:
    where = (
        f"chapter {reflection.chapter}" if reflection.chapter else f"step {reflection.step_number}"
    )
    return f"#{reflection.number} · {where} · {reflection.visibility.value}"


def reflection_saved(reflection: Reflection, step: Step, echoed: bool) -> Message:
    where = f"chapter {reflection.chapter}" if reflection.chapter else step.describe_chapters()
    if reflection.visibility is Visibility.PRIVATE:
        extra = "Only you can see it."
    elif echoed:
        extra = "It is shared in the step's thread."
    else:
        extra = "It will be shared in the step's thread once the prompt is posted."
    return Message(
        f"Saved reflection #{reflection.number}",
        [
            section(
                f":memo: Saved your {reflection.visibility.value} reflection *#{reflection.number}* on {where}. {extra}"
            ),
            context(
                "`/reflect edit "
                + str(reflection.number)
                + "` to change it, `/reflect list` for all."
            ),
        ],
    )


def reflection_echo(reflection: Reflection, step: Step) -> Message:
    where = f"chapter {reflection.chapter}" if reflection.chapter else step.describe_chapters()
    return Message(
        f"Reflection on {where}",
        [
            section(
                f"{mention(reflection.author_id)} reflected on {where}:\n{quote(reflection.text, 2900)}"
            )
        ],
    )


def reflection_list(reflections: Sequence[Reflection]) -> Message:
    if not reflections:
        return notice("You have no reflections yet. Write one with `/reflect <text>`.")
    lines = [f"*{reflection_label(r)}*\n{quote(r.text, 200)}" for r in reflections]
    return Message(
        f"{len(reflections)} reflections", [header("Your reflections"), *text_sections(lines)]
    )


def progress_message(progress: Progress, view: PlanView) -> Message:
    return Message(
        "Your progress",
        [
            section(
                f"*{escape(view.book.title)}*: {progress.chapters_reflected} of {progress.chapter_count} chapters "
                f"reflected on ({progress.percent}%) · {progress.steps_reflected} of "
                f"{progress.steps_posted} prompts answered · streak {progress.streak}"
            )
        ],
    )


def reflect_button(step_id: int | None) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Reflect",
                action_id=REFLECT_ACTION,
                value=str(step_id or ""),
                style="primary",
            )
        ]
    )
