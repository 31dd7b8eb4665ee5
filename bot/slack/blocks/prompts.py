"""Chapter prompts, catch-up notes after downtime, and private nudges."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.model import Step
from bot.domain.prompts import PromptContent
from bot.slack.blocks.base import (
    MAX_MESSAGE_BLOCKS,
    Message,
    actions,
    context,
    header,
    section,
    text_sections,
)
from bot.slack.blocks.pace import away_button, read_button
from bot.slack.blocks.pairs import done_button
from bot.slack.blocks.reflections import reflect_button
from bot.slack.text import escape, local_time

PROMPT_EVENT = "readalong_prompt"


def prompt_message(content: PromptContent) -> Message:
    """A step's chapter prompt: what to read, questions, the deadline and a Reflect button."""
    chapters = "\n".join(
        f"• Chapter {number}" + (f": {escape(title)}" if title else "")
        for number, title in content.chapters
    )
    questions = "\n".join(f"{i}. {escape(q)}" for i, q in enumerate(content.questions, start=1))
    deadline = (
        f"Reflect before the next step, {local_time(content.deadline, content.timezone)}."
        if content.deadline
        else "This is the last step: reflect whenever you finish."
    )
    blocks: list[Block] = [
        header(f"📖 {content.book_title}: step {content.step_number} of {content.step_count}"),
        section(
            f"This step: *{content.chapter_label}* of _{escape(content.book_title)}_ by {escape(content.book_author)}\n{chapters}"
        ),
        section(f"*To talk about*\n{questions}"),
        context(f"{deadline} Reply in this thread to discuss."),
    ]
    if content.late:
        blocks.insert(
            1,
            context(
                f":hourglass: Posted late: this prompt was due {local_time(content.due_at, content.timezone)}."
            ),
        )
    if content.open_actions and content.pair_id is not None:
        items = "\n".join(f"{n}. {escape(text)}" for n, text in content.open_actions)
        blocks.append(section(f"*Last time you planned to*\n{items}"))
        blocks.append(
            actions(*(done_button(content.pair_id, n) for n, _text in content.open_actions))
        )
    buttons = reflect_button(content.step_id)
    buttons.elements.append(read_button(content.step_id))
    blocks.append(buttons)
    return Message(
        f"{content.book_title}: {content.chapter_label} (step {content.step_number} of {content.step_count})",
        blocks,
    )


def _with(block: ActionsBlock, button: ButtonElement) -> ActionsBlock:
    block.elements.append(button)
    return block


def catch_up_message(
    book_title: str, missed: Sequence[Step], timezone: str, next_step: Step | None
) -> Message:
    lines = [
        f"• Step {s.number}: {s.describe_chapters()} (was due {local_time(s.due_at, timezone)})"
        for s in missed
    ]
    following = (
        f"Next prompt: {next_step.describe_chapters()}, {local_time(next_step.due_at, timezone)}."
        if next_step
        else "There are no more prompts in this plan."
    )
    return Message(
        f"{book_title}: {len(missed)} prompts were missed",
        [
            section(
                f":hourglass: I was offline and missed {len(missed)} prompt{'s' if len(missed) != 1 else ''} "
                f"for *{escape(book_title)}*. Catch up at your own pace; `/reflect ch <n>` works for any chapter."
            ),
            *text_sections(lines, max_blocks=MAX_MESSAGE_BLOCKS - 3),
            context(following),
        ],
    )


def reminder_message(
    content: PromptContent,
    channel_id: str,
    permalink: str | None,
    timezone: str | None = None,
) -> Message:
    """A private nudge; the deadline in the member's own ``timezone`` when known."""
    where = f"<{permalink}|the prompt>" if permalink else f"the prompt in <#{channel_id}>"
    deadline = (
        f" before {local_time(content.deadline, timezone or content.timezone)}"
        if content.deadline
        else ""
    )
    return Message(
        f"A nudge: {content.book_title}, {content.chapter_label}",
        [
            section(
                f":wave: A gentle nudge: you haven't reflected on {content.chapter_label} of "
                f"*{escape(content.book_title)}* yet. A few lines{deadline} are plenty, via {where} or `/reflect <text>`."
            ),
            context(
                "Only you can see this. `/reflect mute` turns these nudges off; "
                "`/reflect away until YYYY-MM-DD` pauses them."
            ),
            _with(reflect_button(content.step_id), away_button()),
        ],
    )
