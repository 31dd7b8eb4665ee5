"""Parsing of the ``/book`` and ``/reflect`` command text into plain requests.

Pure functions: they know nothing of Slack, only the words a member typed. Every malformed
input raises :class:`InvalidInput` with a message saying what to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time

from bot.domain.digests import DigestKind
from bot.domain.errors import InvalidInput, is_number
from bot.domain.model import Visibility
from bot.domain.schedule import parse_date, parse_time, parse_weekday

MAX_COMMAND_TEXT = 4000

BOOK_HELP = """\
*Readalong: `/book`*
• `/book add <title> | <author> | <chapters>`: add a book (chapters: a count, or titles separated by `;`). `/book add` alone opens a form.
• `/book list`: the books on the shelf.
• `/book start <book> [every <weekday>|every <n> days] [at HH:MM] [<n> chapters] [from YYYY-MM-DD] [tz Area/City]`: start reading in this channel. `/book start` alone opens a form.
• `/book status`: where the group is. `/book plan`: every step and its date. `/book history`: past plans.
• `/book pause`, `/book resume`, `/book skip`, `/book finish`: for the plan's host and admins.
• `/book questions <chapter> | <question> | <question>`: set a chapter's discussion questions.
• `/book summary [step <n>|week|book]`: post a digest now.
• `/book help`: this list."""

REFLECT_HELP = """\
*Readalong: `/reflect`*
• `/reflect <text>`: a shared reflection on the current chapters. `/reflect` alone opens a form.
• `/reflect ch <n> [private] <text>`: on chapter n; `private` keeps it to yourself.
• `/reflect list`: your reflections. `/reflect edit <id> [text]`, `/reflect delete <id>`.
• `/reflect progress`: your progress. `/reflect mute` / `/reflect unmute`: reminders.
• `/reflect export [book]`: your reflections as a Markdown post, sent to you privately.
• `/reflect quotable on|off`: whether digests and others' exports may quote you.
• `/reflect help`: this list."""


# --- /book ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookAdd:
    title: str
    author: str
    chapters: str


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What `/book start` said; ``None`` means "use the configured default"."""

    book_ref: str
    weekday: int | None = None
    every_days: int | None = None
    at: time | None = None
    chapters_per_step: int | None = None
    start_date: date | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class BookQuestions:
    chapter: int
    questions: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SummaryScope:
    kind: DigestKind  # STEP, WEEK or BOOK (the whole book so far)
    step: int | None = None


@dataclass(frozen=True, slots=True)
class Simple:
    """A subcommand without arguments (status, plan, list, pause, …) or a form to open."""

    name: str


BookCommand = BookAdd | PlanOptions | BookQuestions | SummaryScope | Simple

SIMPLE_BOOK = {"status", "plan", "list", "pause", "resume", "skip", "finish", "help", "history"}


def parse_book(text: str) -> BookCommand:
    words = _check_length(text).split(maxsplit=1)
    if not words:
        return Simple("help")
    sub, rest = words[0].lower(), (words[1] if len(words) > 1 else "").strip()
    if sub in SIMPLE_BOOK:
        if rest:
            raise InvalidInput(f"`/book {sub}` takes no arguments. Try `/book {sub}`.")
        return Simple(sub)
    if sub == "add":
        return _parse_add(rest) if rest else Simple("add-form")
    if sub == "start":
        return parse_start(rest) if rest else Simple("start-form")
    if sub == "questions":
        return _parse_questions(rest)
    if sub == "summary":
        return _parse_summary(rest)
    raise InvalidInput(f"I don't know `/book {_short(sub)}`. Try `/book help`.")


def _parse_add(rest: str) -> BookAdd:
    parts = [p.strip() for p in rest.split("|")]
    if len(parts) != 3:
        raise InvalidInput(
            "Use `/book add <title> | <author> | <chapters>`, e.g. "
            "`/book add Dune | Frank Herbert | 22`, or `/book add` alone for a form."
        )
    return BookAdd(title=parts[0], author=parts[1], chapters=parts[2])


_CHAPTERS_WORD = re.compile(r"^(chapters?|ch)$", re.IGNORECASE)
_OPTION_WORDS = {"every", "at", "from", "tz"}


def parse_start(rest: str) -> PlanOptions:
    """``<book> [every <weekday>|every <n> days] [at HH:MM] [<n> chapters] [from D] [tz Z]``."""
    tokens = rest.split()
    first_option = len(tokens)
    for i, token in enumerate(tokens):
        next_is_chapters = i + 1 < len(tokens) and _CHAPTERS_WORD.match(tokens[i + 1])
        if token.lower() in _OPTION_WORDS or (is_number(token) and next_is_chapters):
            first_option = i
            break
    book_ref = " ".join(tokens[:first_option]).strip().strip('"“”')
    if not book_ref:
        raise InvalidInput("Name the book first: `/book start <book> every monday at 09:00`.")
    values: dict[str, object] = {}
    i = first_option
    while i < len(tokens):
        word = tokens[i].lower()
        arg = tokens[i + 1] if i + 1 < len(tokens) else None
        if word == "every" and arg is not None:
            if is_number(arg) and i + 2 < len(tokens) and tokens[i + 2].lower() in ("days", "day"):
                values["every_days"] = int(arg)
                i += 3
                continue
            if arg.lower() in ("day", "daily"):
                values["every_days"] = 1
            else:
                values["weekday"] = parse_weekday(arg)
            i += 2
        elif word == "at" and arg is not None:
            values["at"] = parse_time(arg)
            i += 2
        elif word == "from" and arg is not None:
            values["start_date"] = parse_date(arg)
            i += 2
        elif word == "tz" and arg is not None:
            values["timezone"] = arg
            i += 2
        elif is_number(word) and arg is not None and _CHAPTERS_WORD.match(arg):
            values["chapters_per_step"] = int(word)
            i += 2
        else:
            raise InvalidInput(
                f"I don't understand “{_short(tokens[i])}” here. Use "
                "`every <weekday>`, `every <n> days`, `at HH:MM`, `<n> chapters`, "
                "`from YYYY-MM-DD` or `tz Area/City`."
            )
    per_step = values.get("chapters_per_step")
    if isinstance(per_step, int) and per_step < 1:
        raise InvalidInput("Chapters per step must be at least 1.")
    every = values.get("every_days")
    if isinstance(every, int) and not 1 <= every <= 365:
        raise InvalidInput("`every <n> days` needs n between 1 and 365.")
    return PlanOptions(book_ref=book_ref, **values)  # type: ignore[arg-type]


def _parse_questions(rest: str) -> BookQuestions:
    parts = [p.strip() for p in rest.split("|")]
    if len(parts) < 2 or not is_number(parts[0]):
        raise InvalidInput("Use `/book questions <chapter> | <question> | <question>`.")
    return BookQuestions(chapter=int(parts[0]), questions=[p for p in parts[1:] if p])


def _parse_summary(rest: str) -> SummaryScope:
    words = rest.lower().split()
    if not words or words == ["step"]:
        return SummaryScope(DigestKind.STEP)
    if words[0] == "step" and len(words) == 2 and is_number(words[1]):
        return SummaryScope(DigestKind.STEP, int(words[1]))
    if words in (["week"], ["book"]):
        return SummaryScope(DigestKind(words[0]))
    raise InvalidInput("Use `/book summary`, `/book summary step <n>`, `week` or `book`.")


# --- /reflect -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReflectWrite:
    text: str
    chapter: int | None = None
    visibility: Visibility = Visibility.SHARED


@dataclass(frozen=True, slots=True)
class ReflectEdit:
    reflection_id: int | None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ReflectDelete:
    reflection_id: int


@dataclass(frozen=True, slots=True)
class ReflectExport:
    book_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ReflectQuotable:
    on: bool


ReflectCommand = (
    ReflectWrite | ReflectEdit | ReflectDelete | ReflectExport | ReflectQuotable | Simple
)

SIMPLE_REFLECT = {"list", "help", "mute", "unmute", "progress"}


def parse_reflect(text: str) -> ReflectCommand:
    body = _check_length(text).strip()
    if not body:
        return Simple("form")
    first, _, rest = body.partition(" ")
    sub = first.lower()
    rest = rest.strip()
    if sub in SIMPLE_REFLECT and not rest:
        return Simple(sub)
    if sub == "edit":
        return _parse_edit(rest)
    if sub == "delete":
        number = _reflection_id(rest, "delete")
        if number is None:
            raise InvalidInput(
                "Say which one: `/reflect delete <id>`. `/reflect list` shows the ids."
            )
        return ReflectDelete(number)
    if sub == "export":
        return ReflectExport(rest or None)
    if sub == "quotable":
        if rest.lower() not in ("on", "off"):
            raise InvalidInput("Use `/reflect quotable on` or `/reflect quotable off`.")
        return ReflectQuotable(rest.lower() == "on")
    return _parse_write(body)


def _parse_write(body: str) -> ReflectWrite:
    chapter: int | None = None
    visibility = Visibility.SHARED
    rest = body
    while True:
        word, _, after = rest.partition(" ")
        lowered = word.lower()
        if lowered in ("ch", "chapter") and chapter is None:
            number, _, after2 = after.strip().partition(" ")
            if not is_number(number) or int(number) < 1:
                raise InvalidInput("After `ch` give a chapter number: `/reflect ch 3 <text>`.")
            chapter = int(number)
            rest = after2.strip()
        elif re.fullmatch(r"ch\d+", lowered) and chapter is None:
            chapter = int(lowered[2:])
            if chapter < 1:
                raise InvalidInput("Chapters start at 1.")
            rest = after.strip()
        elif lowered == "private" and visibility is Visibility.SHARED:
            visibility = Visibility.PRIVATE
            rest = after.strip()
        else:
            break
    if not rest:
        raise InvalidInput("Add your reflection after the options: `/reflect ch 3 private <text>`.")
    return ReflectWrite(text=rest, chapter=chapter, visibility=visibility)


def _parse_edit(rest: str) -> ReflectEdit:
    if not rest:
        return ReflectEdit(None)
    number, _, text = rest.partition(" ")
    reflection_id = _reflection_id(number, "edit")
    return ReflectEdit(reflection_id, text.strip() or None)


def _reflection_id(word: str, verb: str) -> int | None:
    word = word.strip().removeprefix("#")
    if not word:
        return None
    if not is_number(word) or int(word) < 1:
        raise InvalidInput(
            f"`/reflect {verb}` needs a reflection id from `/reflect list`, e.g. `/reflect {verb} 12`."
        )
    return int(word)


def _check_length(text: str) -> str:
    if len(text) > MAX_COMMAND_TEXT:
        raise InvalidInput(
            f"That command is {len(text):,} characters; keep it under {MAX_COMMAND_TEXT:,}."
        )
    return text


def _short(word: str) -> str:
    return word if len(word) <= 30 else word[:29] + "…"
