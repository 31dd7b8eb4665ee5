"""Modals: each has a builder (``build()`` → View) and a parser of its submitted state.

A parser raises :class:`FieldErrors`, mapping block ids to messages, which the view
listener returns to Slack as ``response_action: errors`` so the modal stays open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.domain.books import parse_chapters
from bot.domain.commands import BookAdd, PlanOptions
from bot.domain.errors import DomainError
from bot.domain.model import Book, Visibility
from bot.domain.quotes import MAX_QUOTE_CHARS, SourceMessage, room_for_own_words
from bot.domain.reflections import MAX_REFLECTION_CHARS
from bot.domain.schedule import WEEKDAY_NAMES
from bot.slack.blocks import context, section
from bot.slack.text import escape, plain, quote, truncate

BOOK_ADD = "book_add"
BOOK_EDIT = "book_edit"
PLAN_START = "plan_start"
REFLECT = "reflect_submit"
MAX_SELECT_OPTIONS = 100
CURRENT_STEP = "current"
EVERY_DAY = "daily"

State = dict[str, dict[str, dict[str, Any]]]


class FieldErrors(Exception):
    """Per-block messages for ``response_action: errors``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _value(state: State, block_id: str, action_id: str) -> Any:
    block = state.get(block_id)
    element = block.get(action_id) if isinstance(block, dict) else None
    if not isinstance(element, dict):
        return None
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        option = element.get("selected_option")
        return option.get("value") if isinstance(option, dict) else None
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "timepicker":
        return element.get("selected_time")
    return element.get("value")


def state_values(view: dict[str, Any]) -> State:
    """The submitted values; an empty mapping when Slack sent none."""
    values = (view.get("state") or {}).get("values")
    return values if isinstance(values, dict) else {}


def opened_in(view: View, channel_id: str) -> View:
    """The form remembers the conversation it was opened in, so that its confirmation is
    shown there (a submission itself says nothing of where the member was)."""
    meta = metadata({"private_metadata": view.private_metadata})
    view.private_metadata = json.dumps({**meta, "channel_id": channel_id})
    return view


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


# --- /book add ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookAddModal:
    """Add a book, or (with ``book``) edit one: the same fields, filled in."""

    channel_id: str
    book: Book | None = None

    def build(self) -> View:
        book = self.book
        chapters = None
        if book is not None:
            titled = any(c.title for c in book.chapters)
            chapters = (
                "; ".join(c.title or f"Chapter {c.number}" for c in book.chapters)
                if titled
                else str(book.chapter_count)
            )
        return View(
            type="modal",
            callback_id=BOOK_EDIT if book else BOOK_ADD,
            title="Edit a book" if book else "Add a book",
            submit="Save" if book else "Add",
            close="Cancel",
            private_metadata=json.dumps(
                {"channel_id": self.channel_id, "book_id": book.id if book else None}
            ),
            blocks=[
                InputBlock(
                    block_id="title",
                    label="Title",
                    element=PlainTextInputElement(
                        action_id="value",
                        max_length=200,
                        initial_value=book.title if book else None,
                    ),
                ),
                InputBlock(
                    block_id="author",
                    label="Author",
                    element=PlainTextInputElement(
                        action_id="value",
                        max_length=120,
                        initial_value=book.author if book else None,
                    ),
                ),
                InputBlock(
                    block_id="chapters",
                    label="Chapters",
                    hint="A count (e.g. 12), or chapter titles separated by ;",
                    element=PlainTextInputElement(
                        action_id="value",
                        multiline=True,
                        max_length=3000,
                        initial_value=chapters[:3000] if chapters else None,
                    ),
                ),
            ],
        )

    @staticmethod
    def parse(state: State) -> BookAdd:
        title = str(_value(state, "title", "value") or "").strip()
        author = str(_value(state, "author", "value") or "").strip()
        chapters = str(_value(state, "chapters", "value") or "").strip()
        errors = {}
        if not title:
            errors["title"] = "Give the book's title."
        if not author:
            errors["author"] = "Give the author's name."
        try:
            parse_chapters(chapters)
        except DomainError as exc:
            errors["chapters"] = exc.message
        if errors:
            raise FieldErrors(errors)
        return BookAdd(title=title, author=author, chapters=chapters)


# --- /book start ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanStartModal:
    channel_id: str
    books: list[Book]
    default_weekday: int
    default_time: time
    default_chapters: int
    default_timezone: str
    today: date
    initial_book_id: int | None = None  # the book chosen already (a poll's winner)

    def build(self) -> View:
        days = [
            Option(value=str(i), label=name.capitalize()) for i, name in enumerate(WEEKDAY_NAMES)
        ]
        days.append(Option(value=EVERY_DAY, label="Every day"))
        book_options = [
            Option(value=str(b.id), label=truncate(plain(f"#{b.id} {b.title} — {b.author}"), 75))
            for b in self.books[:MAX_SELECT_OPTIONS]
        ]
        chosen = next((o for o in book_options if o.value == str(self.initial_book_id)), None)
        blocks: list[Block] = [
            InputBlock(
                block_id="book",
                label="Book",
                element=StaticSelectElement(
                    action_id="value",
                    options=book_options,
                    placeholder="Choose a book",
                    initial_option=chosen,
                ),
            ),
            InputBlock(
                block_id="weekday",
                label="Prompt day",
                element=StaticSelectElement(
                    action_id="value", options=days, initial_option=days[self.default_weekday]
                ),
            ),
            InputBlock(
                block_id="at",
                label="Prompt time",
                element=TimePickerElement(
                    action_id="value", initial_time=self.default_time.strftime("%H:%M")
                ),
            ),
            InputBlock(
                block_id="chapters",
                label="Chapters per step",
                element=PlainTextInputElement(
                    action_id="value", initial_value=str(self.default_chapters), max_length=3
                ),
            ),
            InputBlock(
                block_id="start",
                label="Start date",
                element=DatePickerElement(action_id="value", initial_date=self.today.isoformat()),
            ),
            InputBlock(
                block_id="tz",
                label="Time zone",
                hint="An IANA name such as Europe/Berlin",
                element=PlainTextInputElement(
                    action_id="value", initial_value=self.default_timezone, max_length=64
                ),
            ),
        ]
        return View(
            type="modal",
            callback_id=PLAN_START,
            title="Start a reading plan",
            submit="Start",
            close="Cancel",
            private_metadata=json.dumps({"channel_id": self.channel_id}),
            blocks=blocks,
        )

    @staticmethod
    def parse(state: State) -> PlanOptions:
        errors: dict[str, str] = {}
        book = _value(state, "book", "value")
        if not book:
            errors["book"] = "Choose a book."
        day = str(_value(state, "weekday", "value") or "0")
        if day != EVERY_DAY and not (day.isdecimal() and 0 <= int(day) <= 6):
            errors["weekday"] = "Choose a day."
            day = "0"
        at_text = str(_value(state, "at", "value") or "09:00")
        chapters_text = str(_value(state, "chapters", "value") or "").strip()
        if not (chapters_text.isascii() and chapters_text.isdecimal()):
            errors["chapters"] = "Give a whole number of chapters, e.g. 2."  # range: the domain's
        start_text = str(_value(state, "start", "value") or "")
        tz = str(_value(state, "tz", "value") or "").strip()
        if not tz:
            errors["tz"] = "Give a time zone such as Europe/Berlin."
        try:
            at = time.fromisoformat(at_text)
        except ValueError:
            errors["at"] = "Choose a time."
            at = time(9)
        try:
            start = date.fromisoformat(start_text) if start_text else None
        except ValueError:
            errors["start"] = "Choose a date."
            start = None
        if errors:
            raise FieldErrors(errors)
        return PlanOptions(
            book_ref=str(book),
            weekday=None if day == EVERY_DAY else int(day),
            every_days=1 if day == EVERY_DAY else None,
            at=at,
            chapters_per_step=int(chapters_text),
            start_date=start,
            timezone=tz,
        )


# --- /reflect -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReflectionInput:
    text: str
    chapter: int | None
    visibility: Visibility


@dataclass(frozen=True, slots=True)
class ReflectionModal:
    """Write (or edit, with ``reflection_number``: the member's own number) a reflection.

    The form belongs to one step: the one whose Reflect button was pressed (a prompt, a DM
    nudge), or the step being read. It says which, and the reflection is saved there
    unless the member picks a single chapter. When editing, the chapter can be changed.
    """

    channel_id: str
    book: Book
    current_label: str
    step_id: int | None = None
    step_number: int | None = None
    reflection_number: int | None = None
    initial_text: str | None = None
    initial_chapter: int | None = None
    initial_visibility: Visibility = Visibility.SHARED
    hint: str | None = None
    choices: tuple[Visibility, ...] = (Visibility.SHARED, Visibility.PRIVATE)
    # "Save as reflection": the message it is saved from, whether its words go in, and
    # why not (the author has not agreed to be quoted, or it is a bot's).
    source: SourceMessage | None = None
    copy: bool = False
    note: str | None = None

    def build(self) -> View:
        chapters = [
            Option(
                value=CURRENT_STEP, label=truncate(plain(f"This step ({self.current_label})"), 75)
            )
        ]
        chapters += [
            Option(value=str(c.number), label=truncate(plain(c.label()), 75))
            for c in self.book.chapters[: MAX_SELECT_OPTIONS - 1]
        ]
        initial_chapter = chapters[0]
        if self.initial_chapter is not None and self.initial_chapter < len(chapters):
            initial_chapter = chapters[self.initial_chapter]
        in_pair = Visibility.MENTOR in self.choices
        labels = {
            Visibility.MENTOR: "For my mentor: only the two of us",
            Visibility.SHARED: "Shared in our conversation" if in_pair else "Shared with the group",
            Visibility.PRIVATE: "Private: only me",
        }
        choices = (
            self.choices
            if self.initial_visibility in self.choices
            else (
                self.initial_visibility,
                *self.choices,
            )
        )
        visibility = [Option(value=v.value, label=labels[v]) for v in choices]
        editing = self.reflection_number is not None
        source = self.source
        room = (
            room_for_own_words(source, self.copy, MAX_REFLECTION_CHARS)
            if source is not None
            else MAX_REFLECTION_CHARS
        )
        blocks: list[Block] = [
            section(
                f"*{escape(self.book.title)}* by {escape(self.book.author)}"
                + (
                    f" · step {self.step_number}: {escape(self.current_label)}"
                    if self.step_number is not None
                    else ""
                )
            ),
            *self._source_blocks(),
            InputBlock(
                block_id="chapter",
                label="Chapter",
                element=StaticSelectElement(
                    action_id="value", options=chapters, initial_option=initial_chapter
                ),
            ),
            InputBlock(
                block_id="text",
                label="Your thoughts on it" if self.copy else "Your reflection",
                optional=self.copy,
                hint=self.hint
                or (
                    "Optional: the quote is saved with them."
                    if self.copy
                    else f"Up to {room:,} characters; line breaks are kept."
                ),
                element=PlainTextInputElement(
                    action_id="value",
                    multiline=True,
                    max_length=room,
                    initial_value=self.initial_text[:room] if self.initial_text else None,
                    placeholder="What struck you? What would you ask the author?",
                ),
            ),
            InputBlock(
                block_id="visibility",
                label="Who can see it",
                element=RadioButtonsElement(
                    action_id="value",
                    options=visibility,
                    initial_option=visibility[choices.index(self.initial_visibility)],
                ),
            ),
        ]
        meta: dict[str, Any] = {
            "channel_id": self.channel_id,
            "step_id": self.step_id,
            "reflection_number": self.reflection_number,
        }
        if source is not None:
            meta["source"] = source_metadata(source)
        title = "Save as reflection" if source is not None else "Reflect"
        return View(
            type="modal",
            callback_id=REFLECT,
            title=f"Edit reflection #{self.reflection_number}"[:24] if editing else title,
            submit="Save",
            close="Cancel",
            private_metadata=json.dumps(meta, ensure_ascii=False),
            blocks=blocks,
        )

    def _source_blocks(self) -> list[Block]:
        source = self.source
        if source is None:
            return []
        link = f" · <{escape(source.permalink)}|the message>" if source.permalink else ""
        if self.copy:
            who = escape(source.author_name or "someone")
            return [
                section(f"{quote(source.text, MAX_QUOTE_CHARS)}\n— {who}{link}"),
                context("Saved with your reflection: the quote, its author and a link."),
            ]
        if self.note:
            return [context(f":information_source: {escape(self.note)}{link}")]
        return [context(f"Your own message, to edit as you like. A link to it is kept{link}.")]

    @staticmethod
    def parse(state: State, *, optional_text: bool = False) -> ReflectionInput:
        text = str(_value(state, "text", "value") or "").strip()
        errors = {}
        if not text and not optional_text:
            errors["text"] = "Write something first."
        elif len(text) > MAX_REFLECTION_CHARS:
            errors["text"] = f"At most {MAX_REFLECTION_CHARS:,} characters."
        chapter_value = _value(state, "chapter", "value")
        chapter = (
            int(chapter_value)
            if chapter_value and str(chapter_value).isascii() and str(chapter_value).isdecimal()
            else None
        )
        visibility_value = _value(state, "visibility", "value") or Visibility.SHARED.value
        if visibility_value not in {v.value for v in Visibility}:
            errors["visibility"] = "Choose who can see it."
        if errors:
            raise FieldErrors(errors)
        return ReflectionInput(text=text, chapter=chapter, visibility=Visibility(visibility_value))


#: ``private_metadata`` holds at most 3,000 characters; the quote gives way first.
METADATA_LIMIT = 2900


def source_metadata(source: SourceMessage) -> dict[str, Any]:
    """The message a reflection is saved from, as the form carries it to its submission
    (the quote shortened until it fits the form's metadata)."""
    data = {
        "channel_id": source.channel_id,
        "ts": source.ts,
        "author_id": source.author_id,
        "author_name": source.author_name,
        "permalink": source.permalink,
        "text": source.text,
    }
    text = source.text
    while len(json.dumps(data, ensure_ascii=False)) > METADATA_LIMIT and text:
        text = text[: max(0, len(text) - 200)].rstrip()
        data["text"] = text + "…" if text else ""
    return data


def source_from_metadata(meta: dict[str, Any]) -> SourceMessage | None:
    """The message a submitted reflection form was saved from, if any."""
    data = meta.get("source")
    if not isinstance(data, dict) or not data.get("channel_id") or not data.get("ts"):
        return None

    def text_or_none(key: str) -> str | None:
        value = data.get(key)
        return str(value) if value else None

    return SourceMessage(
        channel_id=str(data["channel_id"]),
        ts=str(data["ts"]),
        author_id=text_or_none("author_id"),
        text=str(data.get("text") or ""),
        permalink=text_or_none("permalink"),
        author_name=text_or_none("author_name"),
    )
