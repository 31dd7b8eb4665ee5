"""Parsing of the ``/book`` and ``/reflect`` command text into plain requests.

Pure functions: they know nothing of Slack, only the words a member typed (already
decoded from Slack's entities, see ``bot.domain.text.from_slack``). Every malformed
input raises :class:`InvalidInput` with a message saying what to type instead.

Two promises shape the ``/reflect`` parser: prose is never eaten as options (a word is
an option only where it cannot be the start of a sentence), and no word the member typed
is dropped unless it was a keyword. Where a leading "Private" could be either (a capital
followed by a word that could go on a sentence), the parser does not guess: it returns a
:class:`VisibilityQuestion` and the bot asks. A lower-case "private" typed first is the
option, as the help writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time

from bot.domain.digests import DigestKind
from bot.domain.errors import InvalidInput, is_number
from bot.domain.matching import close_word
from bot.domain.model import Role, Visibility
from bot.domain.reflections import MAX_REFLECTION_CHARS
from bot.domain.schedule import WEEKDAY_NAMES, parse_date, parse_time, parse_weekday
from bot.domain.text import from_slack, number

__all__ = ["MAX_REFLECTION_CHARS"]

#: A `/book` command longer than this is refused before parsing (titles and chapter
#: lists have their own, smaller limits). Reflections have one limit of their own.
MAX_BOOK_COMMAND = 4000

BOOK_HELP = """\
*Readalong: `/book`*
• `/book add <title> | <author> | <chapters>`: add a book (chapters: a count, or titles separated by `;`). `/book add` alone opens a form.
• `/book edit <book>`: change a book in a form, or `/book edit <book> | title: … | author: … | chapters: … | chapter 3: …`.
• `/book remove <book>`: take a book off the shelf (not while a plan reads it).
• `/book list`: the books on the shelf.
• `/book start <book> [every <weekday>|every <n> days] [at HH:MM] [<n> chapters] [from YYYY-MM-DD] [tz Area/City]`: start reading in this channel. `/book start` alone opens a form.
• `/book status`: where the group is. `/book plan`: every step and its date. `/book history`: past plans.
• `/book pause`, `/book resume`, `/book skip`, `/book finish`: for the plan's host and admins. `/book cancel` stops a plan started by mistake (no wrap-up).
• `/book questions <chapter> | <question> | <question>`: set a chapter's discussion questions.
• `/book summary [step <n>|week|book]`: post a digest now.
• `/book calendar`: a private link to a calendar of your steps, at your own pace (`group`: the group's, for the host; `reset`: a new link, the old one stops).
• `/book propose <title> | <author> | <chapters>` (or `/book propose <book on the shelf>`): propose the group's next book; one proposal each per poll. `/book propose` alone opens a form; `/book propose withdraw` takes yours back before voting starts.
• `/book poll [closes friday|tomorrow|in 3 days|YYYY-MM-DD [at HH:MM]]`: post the ballot (two proposals at least). Everyone in the channel ranks up to three books, and can change their ballot until it closes (by default at the end of the day a week later); nobody sees a tally before then. `/book poll status`: the candidates and how many have voted. `/book poll close`: close it now (whoever posted it, or an admin).
• `/book help`: this list.
• Have the book as an EPUB? Send me the file in a direct message and pick its chapters from its table of contents."""

REFLECT_HELP = f"""\
*Readalong: `/reflect`*
• `/reflect <text>`: a reflection on the current chapters, shared in the step's thread. `/reflect` alone opens a form.
• `/reflect private: <text>`: only you can see it. `/reflect shared: <text>` shares it.
• `/reflect ch <n> <text>` (or `Chapter <n>: <text>`): on chapter n. Options combine: `/reflect ch 3 private: <text>`.
• Reflections can be up to {MAX_REFLECTION_CHARS:,} characters; a longer one can be saved in parts.
• `/reflect list`: your reflections, numbered #1, #2… `/reflect edit <n> [private|shared] [ch <n>] [text]`, `/reflect delete <n>`.
• `/reflect progress`: your progress; `/reflect progress ch <n>`: you have read to chapter n.
• `/reflect away until YYYY-MM-DD` (or `for 2 weeks`): no nudges meanwhile, streaks frozen; `/reflect back` ends it.
• `/reflect behind 1 week`: read at your own pace (your nudges follow it, the group's prompts don't); `/reflect catch up` rejoins the group.
• `/reflect quiet hours off`: nudges at any hour (by default none between 21:00 and 08:00 in your time zone). `/reflect mute` / `/reflect unmute`: reminders.
• `/reflect export [book]`: your reflections as a Markdown post, sent to you privately.
• `/reflect quotable on|off`: whether digests, others' exports and their saved messages may quote you (off unless you turn it on).
• On any message in your group's channel (or your pair's conversation): ⋯ → *Save as reflection* opens this form with the message in it. Someone else's words go in quoted, with their name and a link, only if they turned quoting on; otherwise only the link and your own words are saved.
• `/reflect help`: this list."""


# --- shared ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Simple:
    """A subcommand without arguments (status, plan, list, pause, …) or a form to open."""

    name: str


@dataclass(frozen=True, slots=True)
class Unclear:
    """A subcommand word with arguments that don't fit it ("delete my last one"): say how
    the command goes, and keep the member's text (they may have meant a reflection)."""

    message: str
    text: str


@dataclass(frozen=True, slots=True)
class Typo:
    """The first word is a near miss of a subcommand (``lst`` for ``list``): ask, don't act."""

    typed: str
    meant: str
    rest: str


# --- /book ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookAdd:
    title: str
    author: str
    chapters: str


@dataclass(frozen=True, slots=True)
class BookEdit:
    """Change a book: only the fields given; none at all opens the form."""

    book_ref: str
    title: str | None = None
    author: str | None = None
    chapters: str | None = None
    chapter_titles: tuple[tuple[int, str], ...] = ()

    @property
    def changes_nothing(self) -> bool:
        return (
            self.title is None
            and self.author is None
            and self.chapters is None
            and not self.chapter_titles
        )


@dataclass(frozen=True, slots=True)
class BookRemove:
    book_ref: str


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
class BookCalendar:
    """`/book calendar [group] [reset]`: a private link to an iCalendar feed."""

    whole_group: bool = False
    reset: bool = False


@dataclass(frozen=True, slots=True)
class BookPropose:
    """Propose a book for the group's next read: typed in (title, author, chapters), or a
    book on the shelf (``book_ref``)."""

    title: str | None = None
    author: str | None = None
    chapters: str | None = None
    book_ref: str | None = None


@dataclass(frozen=True, slots=True)
class PollOpen:
    """Post the ballot; ``closes`` as typed (None: the default closing time)."""

    closes: str | None = None


BookCommand = (
    BookAdd
    | BookEdit
    | BookRemove
    | PlanOptions
    | BookQuestions
    | SummaryScope
    | BookCalendar
    | BookPropose
    | PollOpen
    | Simple
    | Typo
)

SIMPLE_BOOK = {
    "status",
    "plan",
    "list",
    "pause",
    "resume",
    "skip",
    "finish",
    "cancel",
    "help",
    "history",
}
BOOK_SUBCOMMANDS = (
    *sorted(SIMPLE_BOOK),
    "add",
    "edit",
    "remove",
    "start",
    "questions",
    "summary",
    "calendar",
    "propose",
    "poll",
)


def parse_book(text: str) -> BookCommand:
    if len(text) > MAX_BOOK_COMMAND:
        raise InvalidInput(
            f"That command is {len(text):,} characters; keep it under {MAX_BOOK_COMMAND:,}."
        )
    words = text.split(maxsplit=1)
    if not words:
        return Simple("help")
    sub, rest = words[0].lower(), (words[1] if len(words) > 1 else "").strip()
    if sub in SIMPLE_BOOK:
        if rest:
            raise InvalidInput(f"`/book {sub}` takes no arguments. Try `/book {sub}`.")
        return Simple(sub)
    if sub == "add":
        return _parse_add(rest) if rest else Simple("add-form")
    if sub == "edit":
        return _parse_edit_book(rest)
    if sub in ("remove", "delete"):
        if not rest:
            raise InvalidInput("Say which book: `/book remove <book>`. `/book list` shows them.")
        return BookRemove(rest)
    if sub == "start":
        return parse_start(rest) if rest else Simple("start-form")
    if sub == "questions":
        return _parse_questions(rest)
    if sub == "summary":
        return _parse_summary(rest)
    if sub == "calendar":
        options = set(rest.lower().split())
        if not options <= {"group", "reset"}:
            raise InvalidInput(
                "Use `/book calendar` (your steps, at your own pace), `/book calendar group` "
                "(the host: the group's) or `/book calendar reset` (a new link)."
            )
        return BookCalendar(whole_group="group" in options, reset="reset" in options)
    if sub == "propose":
        return _parse_propose(rest)
    if sub == "poll":
        return _parse_poll(rest)
    meant = close_word(sub, BOOK_SUBCOMMANDS)
    if meant is not None:
        return Typo(words[0], meant, rest)
    raise InvalidInput(f"I don't know `/book {_short(words[0])}`. Try `/book help`.")


def _parse_add(rest: str) -> BookAdd:
    parts = [p.strip() for p in rest.split("|")]
    if len(parts) != 3:
        raise InvalidInput(
            "Use `/book add <title> | <author> | <chapters>`, e.g. "
            "`/book add Dune | Frank Herbert | 22`, or `/book add` alone for a form."
        )
    return BookAdd(title=parts[0], author=parts[1], chapters=parts[2])


def _parse_propose(rest: str) -> BookPropose | Simple:
    if not rest:
        return Simple("propose-form")
    if rest.lower() == "withdraw":
        return Simple("propose-withdraw")
    if "|" not in rest:
        return BookPropose(book_ref=rest)
    parts = [p.strip() for p in rest.split("|")]
    if len(parts) != 3:
        raise InvalidInput(
            "Use `/book propose <title> | <author> | <chapters>`, e.g. "
            "`/book propose Dune | Frank Herbert | 22`, `/book propose <book on the shelf>`, "
            "or `/book propose` alone for a form."
        )
    return BookPropose(title=parts[0], author=parts[1], chapters=parts[2])


_POLL_USAGE = (
    "Use `/book poll` (it closes at the end of the day a week from now), "
    "`/book poll closes friday` (or `tomorrow`, `in 3 days`, `2026-12-10`, each with "
    "`at 18:00` if you like), `/book poll status` or `/book poll close`."
)


def _parse_poll(rest: str) -> PollOpen | Simple:
    words = rest.split(maxsplit=1)
    if not words:
        return PollOpen()
    first = words[0].lower()
    if first in ("close", "status") and len(words) == 1:
        return Simple(f"poll-{first}")
    if first in ("closes", "closing", "until", "ends") and len(words) == 2:
        return PollOpen(words[1].strip())
    if first in ("close", "status", "closes"):
        raise InvalidInput(f"I don't understand “{_short(rest)}” here. {_POLL_USAGE}")
    return PollOpen(rest.strip())  # "/book poll friday": when it closes, said without "closes"


_EDIT_FIELD = re.compile(r"^\s*(title|author|chapters|chapter\s+([0-9]+))\s*:\s*(.*)$", re.I | re.S)
_EDIT_USAGE = (
    "Use `/book edit <book>` for a form, or `/book edit <book> | title: … | author: … | "
    "chapters: <count or titles; separated> | chapter <n>: <title>`."
)


def _parse_edit_book(rest: str) -> BookEdit:
    parts = [p.strip() for p in rest.split("|")]
    book_ref = parts[0]
    if not book_ref:
        raise InvalidInput(_EDIT_USAGE)
    values: dict[str, str] = {}
    titles: list[tuple[int, str]] = []
    for part in parts[1:]:
        found = _EDIT_FIELD.match(part)
        if found is None:
            raise InvalidInput(f"I don't understand “{_short(part)}”. {_EDIT_USAGE}")
        name, number, value = found.group(1).lower(), found.group(2), found.group(3).strip()
        if number is not None:
            titles.append((int(number), value))
        elif name in values:
            raise InvalidInput(f"`{name}:` is given twice.")
        else:
            values[name] = value
    return BookEdit(
        book_ref,
        title=values.get("title"),
        author=values.get("author"),
        chapters=values.get("chapters"),
        chapter_titles=tuple(titles),
    )


_CHAPTERS_WORD = re.compile(r"^(chapters?|ch)$", re.IGNORECASE)
_OPTION_WORDS = {"every", "at", "from", "tz"}


def parse_start(rest: str) -> PlanOptions:
    """``<book> [every <weekday>|every <n> days] [at HH:MM] [<n> chapters] [from D] [tz Z]``."""
    tokens = rest.split()
    first_option = len(tokens)
    for i, token in enumerate(tokens):
        next_is_chapters = i + 1 < len(tokens) and _CHAPTERS_WORD.match(tokens[i + 1])
        if token.lower() in _OPTION_WORDS or (number(token) is not None and next_is_chapters):
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
            days = number(arg)
            follows = tokens[i + 2].lower() if i + 2 < len(tokens) else ""
            if follows in ("days", "day") and (days is None or days < 1):
                raise InvalidInput(
                    f"“every {_short(arg)} days”: give a whole number of days, 1 or more "
                    "(`every 3 days`), or a weekday (`every monday`).",
                    field="every_days",
                )
            if (
                days is not None
                and i + 2 < len(tokens)
                and tokens[i + 2].lower() in ("days", "day")
            ):
                values["every_days"] = days
                i += 3
                continue
            if arg.lower() in ("day", "daily"):
                values["every_days"] = 1
            else:
                plural = arg.lower().endswith("days") and arg.lower()[:-1] in WEEKDAY_NAMES
                values["weekday"] = parse_weekday(arg[:-1] if plural else arg)  # "mondays"
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
        elif number(word) is not None and arg is not None and _CHAPTERS_WORD.match(arg):
            values["chapters_per_step"] = number(word)
            i += 2
        else:
            raise InvalidInput(
                f"I don't understand “{_short(tokens[i])}” here. Use "
                "`every <weekday>`, `every <n> days`, `at HH:MM`, `<n> chapters`, "
                "`from YYYY-MM-DD` or `tz Area/City`."
            )
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
class VisibilityQuestion:
    """A leading "private" that may be a keyword or the first word of a sentence."""

    keyword: Visibility
    as_keyword: str  # the text if the word was the keyword
    as_typed: str  # every word, as typed


@dataclass(frozen=True, slots=True)
class ReflectWrite:
    text: str
    chapter: int | None = None
    visibility: Visibility | None = None  # None: not said (the default applies)
    question: VisibilityQuestion | None = None  # set: ask before saving anything


@dataclass(frozen=True, slots=True)
class ReflectEdit:
    """Edit one's reflection #n: new text, visibility and/or chapter; nothing → the form."""

    number: int | None
    text: str | None = None
    visibility: Visibility | None = None
    chapter: int | None = None
    question: VisibilityQuestion | None = None  # set: ask before changing anything

    @property
    def changes_nothing(self) -> bool:
        return (
            self.text is None
            and self.visibility is None
            and self.chapter is None
            and self.question is None
        )


@dataclass(frozen=True, slots=True)
class ReflectDelete:
    number: int


@dataclass(frozen=True, slots=True)
class ReflectExport:
    book_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ReflectQuotable:
    on: bool


@dataclass(frozen=True, slots=True)
class ReflectProgress:
    """`/reflect progress ch 5`: I have read up to chapter 5."""

    chapter: int


@dataclass(frozen=True, slots=True)
class ReflectAway:
    """`/reflect away until 2027-01-10` (or `for 2 weeks`): no nudges until then."""

    until: date | None = None
    days: int | None = None


@dataclass(frozen=True, slots=True)
class ReflectPace:
    """`/reflect behind 1 week`: read that far behind the group (0: `catch up`)."""

    days: int


@dataclass(frozen=True, slots=True)
class ReflectQuietHours:
    on: bool


ReflectCommand = (
    ReflectWrite
    | ReflectProgress
    | ReflectAway
    | ReflectPace
    | ReflectQuietHours
    | ReflectEdit
    | ReflectDelete
    | ReflectExport
    | ReflectQuotable
    | Simple
    | Typo
    | Unclear
)

SIMPLE_REFLECT = {"list", "help", "mute", "unmute", "progress"}
REFLECT_SUBCOMMANDS = (
    *sorted(SIMPLE_REFLECT),
    "edit",
    "delete",
    "export",
    "quotable",
    "away",
    "behind",
    "quiet",
)
_DURATION = r"(?P<count>[0-9]+|an?|one|two|three|four|five|six)\s+(?P<unit>days?|weeks?)"
#: Subcommands whose arguments have a recognisable shape, for typos typed with arguments.
#: A word that is also prose ("away", "behind", "back") is a command only in its shape.
_ARGUMENT_SHAPES = {
    "edit": re.compile(r"^#?[0-9]+\b"),
    "delete": re.compile(r"^#?[0-9]+$"),
    "quotable": re.compile(r"^(on|off)$", re.I),
    "export": re.compile(r"^.{1,80}$"),
    "progress": re.compile(r"^(?:ch\.?|chapter)?\s*(?P<chapter>-?[0-9]+)$", re.I),
    "away": re.compile(rf"^(?:until\s+(?P<until>\S+)|for\s+{_DURATION})$", re.I),
    "behind": re.compile(rf"^(?:by\s+)?{_DURATION}$", re.I),
    "quiet": re.compile(r"^(?:hours\s+)?(?P<on>on|off)$", re.I),
}


def parse_reflect(text: str) -> ReflectCommand:
    body = text.strip()
    if not body:
        return Simple("form")
    first, _, rest = body.partition(" ")
    sub = first.lower()
    rest = rest.strip()
    if sub in SIMPLE_REFLECT and not rest:
        return Simple(sub)
    own_pace = _parse_own_pace(sub, rest, body)
    if own_pace is not None:
        return own_pace
    if sub in SIMPLE_REFLECT and len(rest.split()) <= 2:
        # "mute now", "list all": the command, with a word more. Ask; never post it.
        return Typo(body, sub, "")
    if sub == "edit":
        if rest and not _ARGUMENT_SHAPES["edit"].match(rest):
            return Unclear(_usage("edit"), body)
        return _parse_edit(rest)
    if sub == "delete":
        if not rest:
            raise InvalidInput(
                "Say which one: `/reflect delete <number>`. `/reflect list` shows yours."
            )
        if not _ARGUMENT_SHAPES["delete"].match(rest):
            return Unclear(_usage("delete"), body)
        number = _reflection_number(rest, "delete")
        assert number is not None
        return ReflectDelete(number)
    if sub == "export" and len(rest) <= 200:
        return ReflectExport(rest or None)
    if sub == "quotable":
        if not _ARGUMENT_SHAPES["quotable"].match(rest):
            return Unclear(_usage("quotable"), body if rest else "")
        return ReflectQuotable(rest.lower() == "on")
    labelled = sub[:-1] if sub.endswith((":", "：")) else ""
    shape = _ARGUMENT_SHAPES.get(labelled)
    if labelled in REFLECT_SUBCOMMANDS and (not rest or (shape and shape.match(rest))):
        # "Quotable: off" is the setting typed with a colon: ask, never post it. ("Edit: I
        # changed my mind" does not fit `edit <n>`: that one is prose.)
        return Typo(first, labelled, rest)
    typo = _typo(first, rest)
    if typo is not None:
        return typo
    return parse_write(body)


_COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def _days(found: re.Match[str]) -> int:
    count = found.group("count").lower()
    n = _COUNT_WORDS.get(count) or int(count)
    return n * (7 if found.group("unit").lower().startswith("week") else 1)


def _parse_own_pace(sub: str, rest: str, body: str) -> ReflectCommand | None:
    """Progress, away, back, behind, catch up, quiet hours: each only in its own shape
    ("Back to chapter one…" is a reflection)."""
    if sub == "back" and not rest:
        return Simple("back")
    if (sub == "catch" and rest.lower() == "up") or (sub in ("catchup", "catch-up") and not rest):
        return ReflectPace(0)
    shape = _ARGUMENT_SHAPES.get(sub)
    found = shape.match(rest) if shape is not None and sub in _OWN_PACE else None
    if found is None:
        attempt = _OWN_PACE_ATTEMPTS.get(sub)
        if attempt is not None and attempt.match(rest):
            # "away until Dec 30", "behind 3 dys": the command, mistyped. Ask; never post.
            return Unclear(_usage(sub), body)
        return None
    if sub == "progress":
        chapter = int(found.group("chapter"))
        if chapter < 1:
            raise InvalidInput("Chapters start at 1: `/reflect progress ch 1` or more.")
        return ReflectProgress(chapter)
    if sub == "away":
        if found.group("until"):
            return ReflectAway(until=parse_date(found.group("until")))
        return ReflectAway(days=_days(found))
    if sub == "behind":
        return ReflectPace(_days(found))
    return ReflectQuietHours(found.group("on").lower() == "on")


_OWN_PACE = frozenset({"progress", "away", "behind", "quiet"})
#: What an attempt at one of them looks like, when it does not fit: asked about, not posted.
_OWN_PACE_ATTEMPTS = {
    "away": re.compile(r"^(?:un?ti?ll?|til+|till|for)\b|^\S*\d", re.I),
    "behind": re.compile(r"^(?:by\s+)?(?:[0-9]+|an?|one|two|three|four|five|six)\s+\S+$", re.I),
    "quiet": re.compile(r"^(?:hours?\b|on\b|off\b)", re.I),
    "progress": re.compile(r"^(?:ch\.?|chapter)\b|^[0-9]", re.I),
}


def _usage(sub: str) -> str:
    return {
        "edit": "`/reflect edit <number> [private|shared] [ch <n>] [new text]` changes one of "
        "your reflections; `/reflect list` shows their numbers.",
        "delete": "`/reflect delete` needs a reflection id: its number in `/reflect list`, "
        "e.g. `/reflect delete 2`.",
        "quotable": "Use `/reflect quotable on` or `/reflect quotable off`.",
        "away": "Use `/reflect away until YYYY-MM-DD` (the day you're back) or "
        "`/reflect away for 2 weeks`.",
        "behind": "Use `/reflect behind 3 days` or `/reflect behind 1 week`; "
        "`/reflect catch up` rejoins the group's pace.",
        "quiet": "Use `/reflect quiet hours off` (nudges at any hour) or "
        "`/reflect quiet hours on`.",
        "progress": "Use `/reflect progress ch 5` (you have read to chapter 5), or "
        "`/reflect progress` to see where you are.",
    }[sub]


def _typo(first: str, rest: str) -> Typo | None:
    if not re.fullmatch(r"[A-Za-z]{2,12}", first):
        return None
    meant = close_word(first, REFLECT_SUBCOMMANDS)
    if meant is None:
        return None
    shape = _ARGUMENT_SHAPES.get(meant)
    if not rest or (shape is not None and shape.match(rest)):
        return Typo(first, meant, rest)
    return None


def parse_write(body: str) -> ReflectWrite:
    """A reflection's options (chapter, visibility) and its text, as typed."""
    options = parse_options(body)
    if not options.rest and options.rest != body.strip():
        raise InvalidInput(
            "Add your reflection after the options: `/reflect ch 3 private: <text>`, "
            "or `/reflect` alone for a form."
        )
    return ReflectWrite(
        text=options.rest,
        chapter=options.chapter,
        visibility=options.visibility,
        question=options.question,
    )


@dataclass(frozen=True, slots=True)
class Options:
    chapter: int | None
    visibility: Visibility | None
    question: VisibilityQuestion | None
    rest: str


# `ch 3`, `ch3`, `ch. 3`, `chapter 3`, then an optional separator (`:`, `-`, `,`, `.`).
_CHAPTER = re.compile(
    r"^(?P<word>ch\.?|chapter)\s*(?P<number>[0-9]+)(?P<sep>\s*[:\-–—,.](?=\s|$)|[:：])?\s*",
    re.IGNORECASE,
)
_CHAPTER_ANY_DIGITS = re.compile(r"^(ch\.?|chapter)\s*(\d+)\b", re.IGNORECASE)
_BARE_CH = re.compile(r"^ch\.?(\s|$)", re.IGNORECASE)
# `private`, `(private)`, `[private]`, `private:`, `private -`; also `shared`, and
# `mentor` / `for my mentor` (in a mentoring pair).
_KEYWORD = re.compile(
    r"^(?P<open>[(\[“\"‘'])?(?P<word>private|shared|mentor|for\s+(?:my\s+)?mentor)\b"
    r"(?P<close>[)\]”\"’'])?"
    r"(?P<sep>\s*[:\-–—,.](?=\s|$)|[:：])?\s*",
    re.IGNORECASE,
)
_KEYWORD_VISIBILITY = {"private": Visibility.PRIVATE, "shared": Visibility.SHARED}
#: A near miss of "private" at the start ("prvate:", "privat", "privately:"): asked about.
_NEAR_PRIVATE = re.compile(
    r"^[(\[“\"‘']?(?P<word>[A-Za-z]{3,12})[)\]”\"’']?(?P<sep>\s*[:\-–—,.：](?=\s|$)|[:：]|\s)\s*"
)
#: After a bare "private" or "shared", these words start a sentence: the first word was a
#: keyword ("private nobody should see this", "private my secret").
_SENTENCE_STARTS = frozenset(
    [
        "i",
        "i'm",
        "im",
        "i've",
        "ive",
        "i'd",
        "i'll",
        "me",
        "my",
        "mine",
        "myself",
        "you",
        "your",
        "yours",
        "he",
        "she",
        "him",
        "her",
        "his",
        "it",
        "it's",
        "its",
        "we",
        "us",
        "our",
        "ours",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "the",
        "a",
        "an",
        "no",
        "nobody",
        "noone",
        "none",
        "nothing",
        "not",
        "don't",
        "dont",
        "didn't",
        "didnt",
        "can't",
        "cant",
        "won't",
        "wont",
        "just",
        "only",
        "so",
        "and",
        "but",
        "or",
        "honestly",
        "really",
        "today",
        "tonight",
        "now",
        "here",
        "there",
        "still",
        "also",
        "maybe",
        "perhaps",
        "please",
        "note",
        "reminder",
        "for",
        "to",
        "about",
        "re",
        "on",
        "in",
        "at",
        "what",
        "why",
        "how",
        "when",
        "where",
        "who",
        "which",
        "if",
        "though",
        "although",
        "while",
        "because",
        "after",
        "before",
        "since",
        "until",
        "yes",
        "ok",
        "okay",
        "well",
        "wow",
        "hmm",
        "oh",
        "loved",
        "love",
        "liked",
        "like",
        "hated",
        "thinking",
        "thought",
        "felt",
        "feel",
        "wondering",
        "wonder",
        "need",
        "want",
        "remember",
        "reading",
        "read",
    ]
)


def parse_options(body: str) -> Options:
    """Leading options of a reflection: ``ch <n>`` and ``private``/``shared``, in any order.

    A full ``chapter <n>`` without a separator is prose ("chapter 7 is about…"): the
    reflection is filed on chapter n and every word stays in the text.
    """
    chapter: int | None = None
    visibility: Visibility | None = None
    question: VisibilityQuestion | None = None
    rest = body.strip()
    while rest:
        chapter_match = _CHAPTER.match(rest)
        if chapter_match is None and (_CHAPTER_ANY_DIGITS.match(rest) or _BARE_CH.match(rest)):
            # "ch" is only ever an option, so "ch x" is a mistyped one, not prose.
            raise InvalidInput("After `ch` give a chapter number: `/reflect ch 3 <text>`.")
        if chapter_match is not None and chapter is None:
            number = int(chapter_match.group("number"))
            if number < 1:
                raise InvalidInput("Chapters start at 1: `/reflect ch 1 …`.")
            chapter = number
            prose = chapter_match.group("word").lower() == "chapter" and not chapter_match.group(
                "sep"
            )
            if prose:
                break  # "chapter 7 is about…": filed on 7, and the words are the text
            rest = rest[chapter_match.end() :]
            continue
        keyword_match = _KEYWORD.match(rest)
        if keyword_match is not None and visibility is None and question is None:
            word = keyword_match.group("word").lower()
            meant = _KEYWORD_VISIBILITY.get(word, Visibility.MENTOR)
            after = rest[keyword_match.end() :]
            if keyword_match.group("open") and not keyword_match.group("close"):
                # “private: …” with the closing quote at the end: the opening one stays
                # with the text, so the member's quotation stays whole.
                after = keyword_match.group("open") + after
            explicit = bool(
                keyword_match.group("sep")
                or (keyword_match.group("open") and keyword_match.group("close"))
                or not after
                or _CHAPTER.match(after)
            )
            if explicit:
                visibility = meant
                rest = after
                continue
            next_word = re.sub(r"[^\w']", "", after.split(maxsplit=1)[0]).lower()
            starts_sentence = next_word in _SENTENCE_STARTS or not next_word.isalpha()
            # A bare lower-case "private" typed first is the option as the help writes it
            # (prose starts with a capital); erring this way keeps the words private.
            typed_as_option = keyword_match.group("word") == "private" and not (
                keyword_match.group("open") or keyword_match.group("close")
            )
            if starts_sentence or typed_as_option:
                visibility = meant
                rest = after
                continue
            if meant is Visibility.PRIVATE:
                # Keyword or adjective ("Private thoughts are…")? Don't guess with someone's
                # private words: ask, showing both readings.
                question = VisibilityQuestion(meant, after.strip(), rest.strip())
            break
        near = _NEAR_PRIVATE.match(rest)
        if near is not None and visibility is None and question is None:
            word = near.group("word").lower()
            if word != "private" and (
                word.startswith("priv") or close_word(word, ("private",), max_distance=2)
            ):
                # "prvate: my therapist…" meant private: never share it on a typo.
                question = VisibilityQuestion(
                    Visibility.PRIVATE, rest[near.end() :].strip(), rest.strip()
                )
        break
    return Options(chapter, visibility, question, rest.strip())


def _parse_edit(rest: str) -> ReflectEdit:
    if not rest:
        return ReflectEdit(None)
    number_text, _, after = rest.partition(" ")
    number = _reflection_number(number_text, "edit")
    if not after.strip():
        return ReflectEdit(number)
    options = parse_options(after)
    if options.question is not None:
        # The same keywords, the same question as a new reflection: never guessed.
        return ReflectEdit(number, chapter=options.chapter, question=options.question)
    return ReflectEdit(
        number,
        text=options.rest or None,
        visibility=options.visibility,
        chapter=options.chapter,
    )


def _reflection_number(word: str, verb: str) -> int | None:
    word = word.strip().removeprefix("#")
    if not word:
        return None
    if not is_number(word) or int(word) < 1:
        raise InvalidInput(
            f"`/reflect {verb}` needs the number of one of your reflections (`/reflect list` "
            f"shows them), e.g. `/reflect {verb} 2`."
        )
    return int(word)


def _short(word: str) -> str:
    return word if len(word) <= 30 else word[:29] + "…"


# --- /mentor ----------------------------------------------------------------------------

MENTOR_HELP = """\
*Readalong: `/mentor`* (a mentee and a mentor read together)
• `/mentor @name`: ask them to be your mentor. `/mentor mentee @name`: offer to mentor them. They accept with a button; then the two of you get a group DM with me, where `/book start <book>` starts your reading.
• In a pair, `/reflect <text>` is *for your mentor* by default: only the two of you see it, and your mentor can reply privately. `/reflect shared: …` posts it in your conversation's thread, `/reflect private: …` keeps it to yourself.
• `/mentor goals`: what you want from this, and a few goals to agree on. `/mentor actions`: your action items (`/mentor action <text>` adds one, `/mentor done <n>` ticks one off).
• `/mentor publish`: build a post from your reflections; your mentor's replies go in only where they agree.
• `/mentor list`: your pairs. `/mentor leave`: leave the pair of this conversation.
• `/mentor cohort`: for the mentoring programme's admins, how every pair is doing (counts only).
• `/mentor help`: this list."""

SIMPLE_MENTOR = {"list", "help", "leave", "goals", "actions", "publish", "cohort"}
MENTOR_SUBCOMMANDS = (*sorted(SIMPLE_MENTOR), "mentee", "offer", "ask", "action", "done")
#: A real mention as Slack sends it when the command is declared with should_escape:
#: ``<@U123|name>`` (or ``<@U123>``); never what a member typed (that arrives encoded).
_MENTION = re.compile(r"^<@(?P<id>[UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$")


@dataclass(frozen=True, slots=True)
class MentorAsk:
    """Propose a pair: ``user_id`` is to be the asker's ``role`` partner."""

    user_id: str
    role: Role  # the other person's role: MENTOR ("/mentor @bob"), MENTEE ("mentee @carol")


@dataclass(frozen=True, slots=True)
class MentorAction:
    text: str


@dataclass(frozen=True, slots=True)
class MentorDone:
    number: int


MentorCommand = MentorAsk | MentorAction | MentorDone | Simple | Typo


def parse_mentor(raw: str) -> MentorCommand:
    """``/mentor`` as Slack sends it: mentions as ``<@U…|name>`` tokens, everything else
    with ``&<>`` as entities (decoded here, once: a member who types ``<@U1>`` sends
    ``&lt;@U1&gt;``, which is text, never a mention)."""
    words = raw.split()
    if not words:
        return Simple("help")
    stem, colon, attached = words[0].partition(":")
    if colon and stem.lower() in MENTOR_SUBCOMMANDS:  # `action: call Bob`, as /reflect teaches
        raw = " ".join([stem, attached, raw.split(maxsplit=1)[1] if len(words) > 1 else ""])
        words = raw.split()
    first = words[0].lower()
    if _MENTION.match(words[0]) and len(words) == 1:
        return MentorAsk(_mention_id(words[0]), Role.MENTOR)
    if first in ("ask", "mentor") and len(words) == 2:
        return MentorAsk(_person(words[1]), Role.MENTOR)
    if first in ("mentee", "offer") and len(words) == 2:
        return MentorAsk(_person(words[1]), Role.MENTEE)
    if first in ("mentee", "offer", "ask") and len(words) != 2:
        raise InvalidInput(
            f"Name one person: `/mentor {first} @name` (type @ and pick them from the list)."
        )
    if _MENTION.match(words[0]) and len(words) > 1:
        raise InvalidInput(
            "One person at a time: `/mentor @name` asks them to be your mentor. A pair is "
            "two people; a reading group is a channel with `/book start`."
        )
    if first in SIMPLE_MENTOR and len(words) == 1:
        return Simple(f"mentor-{first}")
    if first == "action":
        text = from_slack(raw.split(maxsplit=1)[1] if len(words) > 1 else "").strip()
        if not text:
            raise InvalidInput("Say what you plan to do: `/mentor action <text>`.")
        return MentorAction(text)
    if first == "done":
        if len(words) != 2 or not is_number(words[1].removeprefix("#")):
            raise InvalidInput(
                "Say which one: `/mentor done <n>`. `/mentor actions` lists them with numbers."
            )
        return MentorDone(int(words[1].removeprefix("#")))
    if first.startswith("@") or (len(words) == 1 and first.startswith("&lt;@")):
        _person(words[0])  # raises: a name typed as text
    meant = close_word(first, MENTOR_SUBCOMMANDS)
    if meant is not None:
        return Typo(words[0], meant, " ".join(words[1:]))
    if len(words) == 1:
        _person(words[0])  # raises: most likely a name typed without picking the person
    raise InvalidInput(
        "I don't know that one. `/mentor @name` asks someone to be your mentor; "
        "`/mentor help` lists the rest."
    )


def _mention_id(token: str) -> str:
    found = _MENTION.match(token)
    assert found is not None
    return found.group("id")


def _person(token: str) -> str:
    if _MENTION.match(token):
        return _mention_id(token)
    raise InvalidInput(
        f"“{_short(from_slack(token))}” is not a mention I can follow: type @ and pick the "
        "person from Slack's list, so their name turns into a link."
    )
