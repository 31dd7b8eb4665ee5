"""Messages about reflections: saved, echoed in a thread, listed; progress; the Reflect button."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.commands import Typo, VisibilityQuestion
from bot.domain.model import Progress, Reflection, Step, Visibility
from bot.domain.reflections import MAX_REFLECTION_CHARS, NO_REFLECTIONS, split_text
from bot.domain.text import plural
from bot.services.plans import PlanView
from bot.slack.blocks.base import (
    MAX_MESSAGE_BLOCKS,
    RUN_ACTION,
    VALUE_LIMIT,
    Message,
    actions,
    button,
    context,
    header,
    notice,
    section,
    text_sections,
)
from bot.slack.text import SECTION_LIMIT, escape, mention, quote

REFLECT_ACTION = "reflect_open"


SWITCH_ACTION = "reflect_switch"  # value: "<number>:<visibility>"; more in a block: ":<n>"
SWITCH_ACTIONS = re.compile(rf"^{SWITCH_ACTION}(:\d+)?$")
DRAFT_ACTION = "reflect_draft"  # value: "<draft id>:<choice>"; action id: "reflect_draft:<choice>"
DRAFT_ACTIONS = re.compile(rf"^{DRAFT_ACTION}(:\w+)?$")


class DraftChoice:
    """What a draft's buttons ask for."""

    PRIVATE = "private"  # the leading word was the keyword: save the rest privately
    AS_TYPED = "as_typed"  # every word, shared (the default)
    PARTS = "parts"  # too long: save in parts
    FORM = "form"  # open the form with the text in it
    RESTORE = "restore"  # undo a deletion: the same text, chapter, visibility and number


def draft_button(
    label: str, draft_id: int, choice: str, *, style: str | None = None
) -> ButtonElement:
    """A choice about a kept text; each choice its own action id within the block."""
    return button(label, f"{DRAFT_ACTION}:{choice}", f"{draft_id}:{choice}", style=style)


def where(reflection: Reflection, step: Step) -> str:
    return f"chapter {reflection.chapter}" if reflection.chapter else step.describe_chapters()


def reflection_label(reflection: Reflection, book_title: str | None = None) -> str:
    """``#3 · Dune · chapter 2 · private`` (the book when known: lists span books)."""
    place = (
        f"chapter {reflection.chapter}" if reflection.chapter else f"step {reflection.step_number}"
    )
    book = f" · {book_title}" if book_title else ""
    return f"#{reflection.number}{book} · {place} · {visibility_label(reflection.visibility)}"


def visibility_label(visibility: Visibility) -> str:
    """``private``, ``shared``, ``for your mentor``: how a reflection's visibility reads."""
    return "for your mentor" if visibility is Visibility.MENTOR else visibility.value


def _kind(reflection: Reflection) -> str:
    """``private reflection``, ``shared reflection``, ``reflection for your mentor``."""
    if reflection.visibility is Visibility.MENTOR:
        return "reflection for your mentor"
    return f"{reflection.visibility.value} reflection"


def visibility_words(reflection: Reflection, echoed: bool, late: bool) -> str:
    """Where the reflection can be seen, said plainly: the confirmation's promise."""
    if reflection.visibility is Visibility.PRIVATE:
        return "Only you can see it."
    if reflection.visibility is Visibility.MENTOR:
        return (
            "Only you and your mentor can see it: it reaches them privately, and they can "
            "reply to you privately."
        )
    if echoed:
        return "It is shared in the step's thread."
    if late:
        return "It is shared with the group (the plan has finished)."
    return "It will be shared in the step's thread once the prompt is posted."


_SWITCH_LABELS = {
    Visibility.PRIVATE: ("Make it private", "Make them private"),
    Visibility.SHARED: ("Share it with the group", "Share them with the group"),
    Visibility.MENTOR: ("Only for my mentor", "Only for my mentor"),
}


def switch_buttons(
    *reflections: Reflection,
    choices: Sequence[Visibility] = (Visibility.SHARED, Visibility.PRIVATE),
) -> list[ButtonElement]:
    """One click to each other visibility the author may choose (for all of them: a text
    saved in parts)."""
    numbers = ",".join(str(r.number) for r in reflections)
    several = len(reflections) > 1
    current = reflections[0].visibility
    targets = [target for target in choices if target is not current]
    # Buttons in one block need distinct action ids: the first is SWITCH_ACTION itself.
    return [
        button(
            _SWITCH_LABELS[target][several],
            f"{SWITCH_ACTION}:{i}" if i else SWITCH_ACTION,
            f"{numbers}:{target}",
        )
        for i, target in enumerate(targets)
    ]


def of_book(book_title: str | None) -> str:
    return f" of *{escape(book_title)}*" if book_title else ""


def reflection_saved(
    reflection: Reflection,
    step: Step,
    echoed: bool,
    *,
    late: bool = False,
    verb: str = "Saved",
    book_title: str | None = None,
    choices: Sequence[Visibility] = (Visibility.SHARED, Visibility.PRIVATE),
) -> Message:
    """The confirmation: what was saved, on which chapters of which book, who can see it,
    and one click to switch visibility."""
    late_note = " The plan has finished; it counts as a late reflection." if late else ""
    edited = " (edited)" if verb != "Saved" else ""
    text = (
        f":memo: Saved your {_kind(reflection)} *#{reflection.number}*{edited} on "
        f"{where(reflection, step)}{of_book(book_title)}. "
        f"{visibility_words(reflection, echoed, late)}{late_note}"
    )
    return Message(
        f"Saved reflection #{reflection.number} ({reflection.visibility.value})",
        [
            section(text),
            actions(*switch_buttons(reflection, choices=choices)),
            context(f"`/reflect edit {reflection.number}` to change it, `/reflect list` for all."),
        ],
    )


def deleted(number: int, draft_id: int | None) -> Message:
    """Deleted, with one click to undo it."""
    blocks: list[Block] = [section(f":wastebasket: Deleted reflection #{number}.")]
    if draft_id is not None:
        blocks.append(actions(draft_button("Undo", draft_id, DraftChoice.RESTORE)))
    return Message(f"Deleted reflection #{number}.", blocks)


def parts_saved(
    saved: Sequence[tuple[Reflection, Step, bool]],
    book_title: str | None = None,
    choices: Sequence[Visibility] = (Visibility.SHARED, Visibility.PRIVATE),
) -> Message:
    """A text saved in parts: where, who can see them, and one click to switch them all."""
    numbers = ", ".join(f"#{r.number}" for r, _s, _e in saved)
    first, step, echoed = saved[0]
    return Message(
        f"Saved {plural(len(saved), 'reflection')}",
        [
            section(
                f":memo: Saved your text as {plural(len(saved), 'reflection')} ({numbers}) on "
                f"{where(first, step)}{of_book(book_title)}. "
                f"{visibility_words(first, echoed, False)}"
            ),
            actions(*switch_buttons(*(r for r, _s, _e in saved), choices=choices)),
        ],
    )


def visibility_question(
    draft_id: int, question: VisibilityQuestion, default: Visibility = Visibility.SHARED
) -> Message:
    """A leading "Private" that may be a keyword or prose: ask, showing both readings.
    The other reading is the conversation's default: shared in a group, for the mentor
    in a mentoring pair."""
    first_word = question.as_typed.split(maxsplit=1)[0]
    other, where, label = (
        ("for your mentor", "*For your mentor*", "Send it to my mentor as written")
        if default is Visibility.MENTOR
        else ("shared", "*Shared with the group*", "Share it as written")
    )
    return Message(
        f"Private, or {other}? Nothing is saved yet.",
        [
            section(
                f":lock: *Private, or {other}?* Your text starts with “{escape(first_word)}”, "
                "so I have not saved anything yet."
            ),
            section(f"*Private* (only you):\n{quote(question.as_keyword, 600)}"),
            section(f"{where}, every word:\n{quote(question.as_typed, 600)}"),
            actions(
                draft_button("Keep it private", draft_id, DraftChoice.PRIVATE),
                draft_button(label, draft_id, DraftChoice.AS_TYPED, style="primary"),
            ),
            context("Tip: `/reflect private: …` (with a colon) saves privately without asking."),
        ],
    )


def typo_question(command: str, typo: Typo, draft_id: int | None) -> Message:
    """``/reflect lst``: did you mean ``/reflect list``? One click either way."""
    meant = f"{command} {typo.meant}" + (f" {typo.rest}" if typo.rest else "")
    buttons = [button(f"Run {meant}", f"{RUN_ACTION}:0", meant, style="primary")]
    if draft_id is not None:
        typed = f"{typo.typed} {typo.rest}".strip()
        buttons.append(
            draft_button(f"Save “{typed}” as a reflection", draft_id, DraftChoice.AS_TYPED)
        )
    return Message(
        f"Did you mean {command} {typo.meant}?",
        [
            section(f":thinking_face: Did you mean `{escape(meant)}`? Nothing was posted."),
            actions(*buttons) if len(meant) <= VALUE_LIMIT else context(f"Type `{escape(meant)}`."),
        ],
    )


def unclear(message: str, draft_id: int | None, text: str) -> Message:
    """A subcommand word with arguments that don't fit: how it goes, and the text kept."""
    blocks: list[Block] = [section(f":warning: {escape(message)}")]
    if draft_id is not None and text:
        blocks += [
            section(f"Nothing was posted. If you meant a reflection:\n{quote(text, 600)}"),
            actions(draft_button("Save it as a reflection", draft_id, DraftChoice.AS_TYPED)),
        ]
    return Message(message, blocks)


def too_long(draft_id: int, text: str, parts: int) -> Message:
    """Over the limit: refused, the text given back whole, and one click to save it in parts."""
    head = (
        f":warning: That reflection is {len(text):,} characters; the limit is "
        f"{MAX_REFLECTION_CHARS:,}. Nothing is saved yet, and nothing is lost: here is your text."
    )
    body = [quote(chunk, SECTION_LIMIT - 10) for chunk in split_text(text, 2800)]
    return Message(
        f"That reflection is {len(text):,} characters; the limit is {MAX_REFLECTION_CHARS:,}.",
        [
            section(head),
            *[section(chunk) for chunk in body[: MAX_MESSAGE_BLOCKS - 4]],
            actions(
                draft_button(
                    f"Save it in {parts} parts", draft_id, DraftChoice.PARTS, style="primary"
                ),
                draft_button("Trim it in a form", draft_id, DraftChoice.FORM),
            ),
        ],
    )


def reflection_echo(reflection: Reflection, step: Step) -> Message:
    place = where(reflection, step)
    return Message(
        f"Reflection on {place}",
        [
            section(
                f"{mention(reflection.author_id)} reflected on {place}:\n{quote(reflection.text, 2900)}"
            )
        ],
    )


def reflection_list(
    reflections: Sequence[Reflection], titles: Mapping[int, str] | None = None
) -> Message:
    if not reflections:
        return notice(NO_REFLECTIONS)
    titles = titles or {}
    lines = [
        f"*{escape(reflection_label(r, titles.get(r.plan_id)))}*{_read(r)}\n{quote(r.text, 200)}"
        for r in reflections
    ]
    return Message(
        plural(len(reflections), "reflection"), [header("Your reflections"), *text_sections(lines)]
    )


def _read(reflection: Reflection) -> str:
    """Whether the mentor has read a reflection written for them."""
    if reflection.visibility is not Visibility.MENTOR:
        return ""
    return " · ✓ read by your mentor" if reflection.mentor_read_at else " · not read yet"


def progress_message(progress: Progress, view: PlanView) -> Message:
    return Message(
        "Your progress",
        [
            section(
                f"*{escape(view.book.title)}*: {progress.chapters_reflected} of "
                f"{plural(progress.chapter_count, 'chapter')} reflected on ({progress.percent}%) · "
                f"{progress.steps_reflected} of {plural(progress.steps_posted, 'prompt')} answered · "
                f"streak {progress.streak}"
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
