"""The building blocks every message uses: ``Message``, sections, headers, splitting.

Every builder escapes user text (titles, reflections, names typed by members) and keeps
inside Slack's limits: 50 blocks per message, 3,000 characters per section.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.text import SECTION_LIMIT, cut_markup, escape, plain, truncate

MAX_MESSAGE_BLOCKS = 50
HEADER_LIMIT = 150


@dataclass(frozen=True, slots=True)
class Message:
    """What to send: fallback text (notifications, screen readers) and blocks.

    The fallback ``text`` is plain words only, never mentions: it is escaped here, once,
    because Slack parses it like mrkdwn in notifications.
    """

    text: str
    blocks: list[Block]

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", escape(self.text))


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut_markup(text, SECTION_LIMIT)))


def header(text: str) -> HeaderBlock:
    """A header: plain text, as typed (``&`` stays ``&``), never a control sequence."""
    return HeaderBlock(text=truncate(plain(text), HEADER_LIMIT))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=cut_markup(text, 2000))])


def text_sections(lines: Iterable[str], max_blocks: int = MAX_MESSAGE_BLOCKS - 2) -> list[Block]:
    """Pack lines into as few sections as fit 3,000 characters; note any that do not fit."""
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    all_lines = list(lines)
    for index, line in enumerate(all_lines):
        line = truncate(line, SECTION_LIMIT)
        if chunk and size + len(line) + 1 > SECTION_LIMIT:
            if len(blocks) == max_blocks - 1:
                blocks.append(context(f"…and {len(all_lines) - index} more."))
                return blocks
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


#: A button that runs a command as if the member had typed it (``value``: the command).
#: Buttons in one block need distinct action ids (Slack refuses repeats): each gets
#: ``run_command:<n>``, and the listener matches the prefix.
RUN_ACTION = "run_command"
RUN_ACTIONS = re.compile(rf"^{RUN_ACTION}(:\d+)?$")
BUTTON_LABEL_LIMIT = 75
VALUE_LIMIT = 2000


def button(label: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    """A button; its label is shortened to Slack's 75 characters (plain text, not escaped)."""
    return ButtonElement(
        text=truncate(plain(label), BUTTON_LABEL_LIMIT),
        action_id=action_id,
        value=value,
        style=style,
    )


def actions(*elements: ButtonElement) -> ActionsBlock:
    return ActionsBlock(elements=list(elements))


def run_buttons(choices: Sequence[tuple[str, str]]) -> list[Block]:
    """One button per (label, command to run), for "did you mean …?" answers."""
    usable = [(label, command) for label, command in choices if len(command) <= VALUE_LIMIT]
    if not usable:
        return []
    return [
        actions(
            *(
                button(label, f"{RUN_ACTION}:{i}", command)
                for i, (label, command) in enumerate(usable[:5])
            )
        )
    ]


def error(message: str, choices: Sequence[tuple[str, str]] = ()) -> Message:
    """A refusal in the member's words; ``choices`` become one-click "did you mean" buttons."""
    return Message(message, [section(f":warning: {escape(message)}"), *run_buttons(choices)])


def notice(message: str) -> Message:
    """A message whose text is ours, with no user text in it (still escaped, for safety)."""
    return Message(message, [section(escape(message))])


def help_message(markdown: str) -> Message:
    """Help text is ours but shows placeholders like <title>: escaped, they stay text."""
    return Message("Readalong help", [section(escape(markdown))])


def divider() -> DividerBlock:
    return DividerBlock()


def split_into_messages(
    text: str, all_blocks: Sequence[Block], per_message: int = MAX_MESSAGE_BLOCKS
) -> list[Message]:
    """Chunk blocks into messages that each stay within Slack's 50-block limit."""
    chunks = [
        list(all_blocks[i : i + per_message]) for i in range(0, len(all_blocks), per_message)
    ] or [[]]
    if len(chunks) == 1:
        return [Message(text, chunks[0])]
    return [
        Message(f"{text} ({n}/{len(chunks)})", chunk) for n, chunk in enumerate(chunks, start=1)
    ]
