"""Rules for books: titles, authors and chapter lists."""

from __future__ import annotations

import re

from bot.domain.errors import InvalidInput, is_number
from bot.domain.matching import words
from bot.domain.model import Book, Chapter
from bot.domain.text import clean, number

MAX_TITLE = 200
MAX_AUTHOR = 120
MAX_CHAPTERS = 500
MAX_CHAPTER_TITLE = 150
MAX_QUESTION = 300
MAX_QUESTIONS = 5


def book_key(title: str, author: str) -> str:
    """What makes two books the same in one workspace: the words of title and author
    (:func:`bot.domain.matching.words`: case, accents, quotes, punctuation and spacing do
    not count, so "The Sea : A Tale" is "The Sea: A Tale")."""
    return " ".join(words(title)) + "\x1f" + " ".join(words(author))


#: Text that reads as a count of some kind (a sign, decimals, thousands separators).
_NUMBER_LIKE = re.compile(r"[+\-−–]?\s*[0-9][0-9.,'’ _]*")


def parse_chapters(spec: str) -> list[Chapter]:
    """A chapter count (``12``) or ``;``-separated chapter titles (``Intro; Middle; End``)."""
    text = clean(spec)
    if not text:
        raise InvalidInput("Give the chapters as a count (e.g. 12) or titles separated by `;`.")
    spelled = number(text) if ";" not in text else None
    if spelled is not None and not is_number(text):
        text = str(spelled)  # "three" chapters
    if _NUMBER_LIKE.fullmatch(text):
        # "-3", "3.5", "1,000" or "²" meant a count: a whole number 1…500, or it is refused
        # (a one-chapter book called "-3" could never be what anyone wanted).
        if not is_number(text):
            raise InvalidInput(
                f"“{text}” is not a chapter count: give a whole number from 1 to "
                f"{MAX_CHAPTERS}, or chapter titles separated by `;`.",
                field="chapters",
            )
        count = int(text)
        if count < 1:
            raise InvalidInput(
                f"A book needs at least one chapter: give a whole number from 1 to {MAX_CHAPTERS}.",
                field="chapters",
            )
        if count > MAX_CHAPTERS:
            raise InvalidInput(
                f"A book can have at most {MAX_CHAPTERS} chapters.", field="chapters"
            )
        return [Chapter(number=i) for i in range(1, count + 1)]
    titles = [part.strip() for part in text.split(";")]
    if any(not t for t in titles):
        raise InvalidInput("One of the chapter titles is empty; check the `;` separators.")
    if len(titles) > MAX_CHAPTERS:
        raise InvalidInput(f"A book can have at most {MAX_CHAPTERS} chapters.")
    for title in titles:
        if len(title) > MAX_CHAPTER_TITLE:
            raise InvalidInput(f"Chapter titles can be at most {MAX_CHAPTER_TITLE} characters.")
    return [Chapter(number=i, title=t) for i, t in enumerate(titles, start=1)]


def clean_chapter_title(title: str) -> str | None:
    """A chapter title as typed (empty: no title), within the limit."""
    cleaned = " ".join(clean(title).split())
    if len(cleaned) > MAX_CHAPTER_TITLE:
        raise InvalidInput(f"Chapter titles can be at most {MAX_CHAPTER_TITLE} characters.")
    return cleaned or None


#: Quotes people type around a title ("Dune", “Dune”, «Dune», „Dune“): opening → closing.
_AROUND = {'"': '"', "'": "'", "“": "”", "”": "”", "‘": "’", "«": "»", "„": "“", "‚": "‘"}


def unquoted(text: str) -> str:
    """``text`` without one pair of quotes typed around the whole of it; quotes that are
    part of it ("'Salem's Lot", 'The "Best" Book', '"Hi" and "bye"') stay."""
    text = " ".join(clean(text).split())
    closing = _AROUND.get(text[:1])
    if closing is None or len(text) < 2 or text[-1] != closing:
        return text
    inner = text[1:-1]
    apostrophe = closing == "’"  # inside ‘…’, a ’ is an apostrophe (‘Salem’s Lot’)
    if text[0] in inner or (closing in inner and not apostrophe):
        return text  # several quoted parts, not one quoted whole
    return inner.strip()


def new_book(
    workspace_id: int, title: str, author: str, chapters: list[Chapter], added_by: str | None
) -> Book:
    """A validated, not yet stored book."""
    title, author = unquoted(title), unquoted(author)
    if not title:
        raise InvalidInput("The book needs a title: `/book add Title | Author | 12`.")
    if not author:
        raise InvalidInput("The book needs an author: `/book add Title | Author | 12`.")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"Titles can be at most {MAX_TITLE} characters.")
    if len(author) > MAX_AUTHOR:
        raise InvalidInput(f"Author names can be at most {MAX_AUTHOR} characters.")
    if not chapters:
        raise InvalidInput("A book needs at least one chapter.")
    return Book(
        workspace_id=workspace_id, title=title, author=author, chapters=chapters, added_by=added_by
    )


def clean_questions(questions: list[str]) -> list[str]:
    cleaned = [" ".join(clean(q).split()) for q in questions if clean(q)]
    if not cleaned:
        raise InvalidInput("Give at least one question: `/book questions 3 | First? | Second?`.")
    if len(cleaned) > MAX_QUESTIONS:
        raise InvalidInput(f"At most {MAX_QUESTIONS} questions per chapter.")
    for q in cleaned:
        if len(q) > MAX_QUESTION:
            raise InvalidInput(f"Questions can be at most {MAX_QUESTION} characters.")
    return cleaned
