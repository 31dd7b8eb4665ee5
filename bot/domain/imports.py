"""A book's chapter list from its table of contents (an EPUB's), without typing.

The table of contents is read elsewhere (``bot.epub``); here are the rules for what it
becomes: which entries are chapters by default (front matter, acknowledgements, an
index and the like are left out, and so are the part headings that only group chapters,
and the sections inside a chapter), and the chapter list the member's picks make.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.books import MAX_CHAPTER_TITLE, MAX_CHAPTERS
from bot.domain.errors import InvalidInput
from bot.domain.model import Chapter
from bot.domain.text import clean

#: Files bigger than this are refused, from the size Slack (or the disk) gives, before
#: anything is downloaded or read.
MAX_EPUB_BYTES = 20 * 1024 * 1024
#: The chapter picker is one multi-select: Slack shows at most 100 options.
MAX_PICKER_ENTRIES = 100
#: Pending imports nobody finished are forgotten after this long.
IMPORT_LIFETIME_DAYS = 7


@dataclass(frozen=True, slots=True)
class TocEntry:
    """One line of a table of contents: its title and how deep it is nested (0: top)."""

    title: str
    depth: int = 0


@dataclass(slots=True)
class PendingImport:
    """A book read from a file, waiting for its member to pick the chapters."""

    workspace_id: int
    user_id: str
    filename: str
    title: str
    author: str
    entries: list[TocEntry]
    created_at: datetime
    id: int | None = None


#: Titles of what is not read as a chapter: front and back matter.
_MATTER = re.compile(
    r"^\W*(?:"
    r"cover|front\s*cover|back\s*cover|title(?:\s*page)?|half[\s-]*title|copyright(?:\s*page)?|"
    r"imprint|colophon|credits|(?:table\s+of\s+)?contents|toc|dedication|epigraph|"
    r"foreword|preface|frontispiece|list\s+of\s+\w+(?:\s+and\s+\w+)?|"
    r"acknowledge?ments?|about\s+the\s+(?:author|authors|publisher|translator)s?|"
    r"(?:also|other\s+books|more\s+books)\s+by\b.*|praise\s+for\b.*|"
    r"index|bibliography|references|works\s+cited|sources|further\s+reading|"
    r"(?:end)?notes|glossary|appendix\b.*|appendices|permissions|copyright\s+notice|"
    r"newsletter|sign\s+up\b.*|reading\s+group\s+guide|discussion\s+questions"
    r")\W*$",
    re.IGNORECASE,
)
#: Headings that group chapters ("Part One", "Book II"), not chapters themselves.
_PART = re.compile(r"^\W*(?:part|book|volume|vol\.?|section)\s+[\w.]+\b", re.IGNORECASE)
#: Titles that read as chapters: under an unnamed heading, they make it a part.
_CHAPTER = re.compile(r"^\W*(?:chapter|ch\.)\s*\w+|^\W*[0-9]+(?:[.:)]?\s|$)", re.IGNORECASE)


def is_matter(title: str) -> bool:
    """Front or back matter (cover, copyright, contents, acknowledgements, index…)?"""
    return bool(_MATTER.match(" ".join(title.split())))


def default_picks(entries: Sequence[TocEntry]) -> list[int]:
    """The entries (indexes) that are chapters unless the member says otherwise.

    A chapter is a top-level entry, or an entry just inside a part heading ("Part One"
    with chapters in it); never front or back matter, never a part heading with
    chapters in it, never a section inside a chapter.
    """
    picks: list[int] = []
    # The depth at which chapters sit under each open heading: (depth, is a part).
    parents: list[tuple[int, bool]] = []
    for index, entry in enumerate(entries):
        while parents and parents[-1][0] >= entry.depth:
            parents.pop()
        has_children = index + 1 < len(entries) and entries[index + 1].depth > entry.depth
        part = has_children and bool(
            _PART.match(entry.title) or _CHAPTER.match(entries[index + 1].title)
        )
        inside_parts_only = all(is_part for _depth, is_part in parents)
        if not part and inside_parts_only and not is_matter(entry.title) and clean(entry.title):
            picks.append(index)
        parents.append((entry.depth, part))
    return picks


def check_picker(entries: Sequence[TocEntry]) -> None:
    """A table of contents the picker can show (one form, 100 options at most)."""
    if not entries:
        raise InvalidInput(
            "This book has no table of contents I can read, so I can't list its chapters. "
            "Add it with `/book add <title> | <author> | <chapters>` instead."
        )
    if len(entries) > MAX_PICKER_ENTRIES:
        raise InvalidInput(
            f"Its table of contents has {len(entries):,} entries, more than the form can "
            f"show ({MAX_PICKER_ENTRIES}). Import it with `readalong book import`, which "
            "can take them all, or add it with `/book add`."
        )


def chapters_from(entries: Sequence[TocEntry], picked: Sequence[int]) -> list[Chapter]:
    """The chapters the member picked, numbered in the book's order, titles as listed
    (cut to the length a chapter title may have)."""
    chosen = sorted({i for i in picked if 0 <= i < len(entries)})
    if not chosen:
        raise InvalidInput("Pick at least one chapter.", field="chapters")
    if len(chosen) > MAX_CHAPTERS:
        raise InvalidInput(f"A book can have at most {MAX_CHAPTERS} chapters.", field="chapters")
    return [
        Chapter(number=n, title=_chapter_title(entries[i].title))
        for n, i in enumerate(chosen, start=1)
    ]


def parse_picks(spec: str, count: int) -> list[int]:
    """Entries typed as numbers and ranges, 1-based as listed: ``2-12, 14`` → indexes."""
    picks: list[int] = []
    for part in re.split(r"[,\s]+", spec.strip()):
        if not part:
            continue
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise InvalidInput(f"“{part}” is not an entry number or a range like 2-12.")
        low, high = int(first), int(last) if dash else int(first)
        if not 1 <= low <= high <= count:
            raise InvalidInput(f"“{part}”: the entries are numbered 1 to {count}.")
        picks.extend(range(low - 1, high))
    if not picks:
        raise InvalidInput("Give the entries to keep, e.g. 2-12 or 2,3,5.")
    return picks


def describe_picks(picked: Sequence[int]) -> str:
    """Indexes as the 1-based ranges a member would type: ``2-12, 14``."""
    numbers = sorted({i + 1 for i in picked})
    ranges: list[str] = []
    start = prev = None
    for n in [*numbers, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            ranges.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    return ", ".join(ranges)


def _chapter_title(title: str) -> str:
    cleaned = " ".join(clean(title).split())
    if len(cleaned) > MAX_CHAPTER_TITLE:
        cleaned = cleaned[: MAX_CHAPTER_TITLE - 1].rstrip() + "…"
    return cleaned
