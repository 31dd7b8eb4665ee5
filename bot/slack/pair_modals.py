"""The forms of a mentoring pair: a private reply, an action item, the agreement, the
look-back, and choosing what goes into a post. Each has ``build()`` and ``parse()``.

User text shown in a form is escaped (mrkdwn) or made plain (labels, options), once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.model import Feedback, Pair, Reflection, Role, Visibility
from bot.domain.pairs import (
    HOPES_QUESTION,
    MAX_ACTION_CHARS,
    MAX_GOAL_CHARS,
    MAX_GOALS,
    MAX_HOPES_CHARS,
    MAX_LOOK_BACK_CHARS,
)
from bot.domain.reflections import MAX_REFLECTION_CHARS
from bot.services.pairs import Conversation, PublishChoice
from bot.slack.blocks import section
from bot.slack.blocks.pairs import conversation_blocks, goals_lines
from bot.slack.blocks.reflections import visibility_label
from bot.slack.modals import MAX_SELECT_OPTIONS, FieldErrors, State
from bot.slack.text import escape, plain, truncate

PAIR_REPLY = "pair_reply_submit"
PAIR_ACTION = "pair_action_submit"
PAIR_GOALS = "pair_goals_submit"
PAIR_LOOK_BACK = "pair_look_back_submit"
PAIR_PUBLISH = "pair_publish_submit"


def _text(state: State, block_id: str) -> str:
    element = (state.get(block_id) or {}).get("value")
    return str(element.get("value") or "") if isinstance(element, dict) else ""


def _selected(state: State, block_id: str) -> list[int]:
    element = (state.get(block_id) or {}).get("value")
    options = element.get("selected_options") if isinstance(element, dict) else None
    found = []
    for option in options if isinstance(options, list) else []:
        value = str(option.get("value") or "") if isinstance(option, dict) else ""
        if value.isascii() and value.isdigit():
            found.append(int(value))
    return found


def _required(text: str, block_id: str, limit: int, what: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise FieldErrors({block_id: f"Write {what} first."})
    if len(cleaned) > limit:
        raise FieldErrors({block_id: f"At most {limit:,} characters."})
    return cleaned


def _view(callback_id: str, title: str, meta: dict[str, Any], blocks: list[Block]) -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=title[:24],
        submit="Send" if callback_id == PAIR_REPLY else "Save",
        close="Cancel",
        private_metadata=json.dumps(meta),
        blocks=blocks,
    )


def _input(
    block_id: str,
    label: str,
    *,
    limit: int,
    initial: str | None = None,
    multiline: bool = True,
    optional: bool = False,
    hint: str | None = None,
    placeholder: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id="value",
            multiline=multiline,
            max_length=limit,
            initial_value=initial[:limit] if initial else None,
            placeholder=placeholder,
        ),
    )


@dataclass(frozen=True, slots=True)
class ReplyModal:
    """A reply in the private conversation on a reflection."""

    conversation: Conversation

    def build(self) -> View:
        reflection = self.conversation.reflection
        return _view(
            PAIR_REPLY,
            "Reply privately",
            {"reflection_id": reflection.id},
            [
                *conversation_blocks(self.conversation),
                _input(
                    "text",
                    "Your reply",
                    limit=MAX_REFLECTION_CHARS,
                    hint="Only the two of you can see it.",
                ),
            ],
        )

    @staticmethod
    def parse(state: State) -> str:
        return _required(_text(state, "text"), "text", MAX_REFLECTION_CHARS, "your reply")


@dataclass(frozen=True, slots=True)
class ActionItemModal:
    pair_id: int
    feedback_id: int | None = None
    initial: str | None = None

    def build(self) -> View:
        return _view(
            PAIR_ACTION,
            "An action item",
            {"pair_id": self.pair_id, "feedback_id": self.feedback_id},
            [
                _input(
                    "text",
                    "What will you do?",
                    limit=MAX_ACTION_CHARS,
                    initial=self.initial,
                    hint="Short and concrete. I'll remind you both with your next prompt.",
                )
            ],
        )

    @staticmethod
    def parse(state: State) -> str:
        return _required(_text(state, "text"), "text", MAX_ACTION_CHARS, "the action item")


@dataclass(frozen=True, slots=True)
class AgreementModal:
    """What the mentee wants from this (only the mentee writes it) and the goals."""

    pair: Pair
    role: Role

    def build(self) -> View:
        blocks: list[Block] = []
        if self.role is Role.MENTEE:
            blocks.append(
                _input(
                    "hopes",
                    truncate(HOPES_QUESTION, 150),
                    limit=MAX_HOPES_CHARS,
                    initial=self.pair.hopes,
                    optional=True,
                    hint="Only your mentor will read this.",
                )
            )
        elif self.pair.hopes:
            blocks.append(section(f"*{escape(HOPES_QUESTION)}*\n{escape(self.pair.hopes)}"))
        blocks.append(
            _input(
                "goals",
                "Our goals for this book",
                limit=MAX_GOALS * (MAX_GOAL_CHARS + 1),
                initial="\n".join(self.pair.goals) or None,
                hint=f"One per line, up to {MAX_GOALS}. Your partner is asked to agree.",
                placeholder="Spot disruption early in my own product area",
            )
        )
        return _view(PAIR_GOALS, "Our agreement", {"pair_id": self.pair.id}, blocks)

    @staticmethod
    def parse(state: State) -> tuple[str | None, str]:
        hopes = _text(state, "hopes") if "hopes" in state else None
        return hopes, _required(
            _text(state, "goals"), "goals", MAX_GOALS * (MAX_GOAL_CHARS + 1), "a goal"
        )


@dataclass(frozen=True, slots=True)
class LookBackModal:
    pair: Pair

    def build(self) -> View:
        return _view(
            PAIR_LOOK_BACK,
            "Look back",
            {"pair_id": self.pair.id},
            [
                section(f"*The goals you agreed*\n{goals_lines(self.pair)}"),
                _input(
                    "text",
                    "How did it go?",
                    limit=MAX_LOOK_BACK_CHARS,
                    hint="Your partner will read this, nobody else.",
                ),
            ],
        )

    @staticmethod
    def parse(state: State) -> str:
        return _required(_text(state, "text"), "text", MAX_LOOK_BACK_CHARS, "your look back")


@dataclass(frozen=True, slots=True)
class PublishModal:
    """Which of the mentee's reflections go into the post, and which of the mentor's
    replies they would like to quote (the mentor then decides, note by note)."""

    choice: PublishChoice

    def build(self) -> View:
        reflections = self.choice.reflections[-MAX_SELECT_OPTIONS:]
        options = [_reflection_option(r) for r in reflections]
        blocks: list[Block] = [
            section(
                f"A post on *{escape(self.choice.view.book.title)}*: pick your reflections. "
                "Your mentor's replies go in only where they agree; nothing is sent before "
                "they approve."
            ),
            InputBlock(
                block_id="reflections",
                label="Your reflections",
                element=StaticMultiSelectElement(
                    action_id="value",
                    options=options,
                    initial_options=[
                        o
                        for o, r in zip(options, reflections, strict=True)
                        if r.visibility is not Visibility.PRIVATE
                    ]
                    or None,
                ),
            ),
        ]
        notes = self.choice.notes[-MAX_SELECT_OPTIONS:]
        if notes:
            blocks.append(
                InputBlock(
                    block_id="notes",
                    label="Your mentor's replies to quote",
                    optional=True,
                    element=StaticMultiSelectElement(
                        action_id="value",
                        options=[_note_option(f, self.choice.reflections) for f in notes],
                    ),
                )
            )
        return _view(
            PAIR_PUBLISH,
            "Publish a post",
            {"pair_id": self.choice.pair.id, "plan_id": self.choice.view.plan.id},
            blocks,
        )

    @staticmethod
    def parse(state: State) -> tuple[list[int], list[int]]:
        chosen = _selected(state, "reflections")
        if not chosen:
            raise FieldErrors({"reflections": "Choose at least one reflection."})
        return chosen, _selected(state, "notes")


def _reflection_option(reflection: Reflection) -> Option:
    where = f"ch {reflection.chapter}" if reflection.chapter else f"step {reflection.step_number}"
    label = (
        f"#{reflection.number} · {where} · {visibility_label(reflection.visibility)}: "
        f"{' '.join(reflection.text.split())}"
    )
    return Option(value=str(reflection.id), label=truncate(plain(label), 75))


def _note_option(note: Feedback, reflections: list[Reflection]) -> Option:
    number = next((r.number for r in reflections if r.id == note.reflection_id), "?")
    label = f"On #{number}: {' '.join(note.text.split())}"
    return Option(value=str(note.id), label=truncate(plain(label), 75))
