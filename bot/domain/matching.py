"""Matching what members type against names we know: titles, subcommands, time zones.

One rule for "the same words": case, accents, curly quotes, dashes and spacing do not
count (``The Innovator’s Dilemma`` is ``the innovator's dilemma``). One matcher on top of
it: exact, else the words typed start words of exactly one name ("innovator" finds
*The Innovator's Dilemma*), else a short list to choose from, or near misses to suggest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)
_NOT_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """``text`` as compared: no case, no accents, straight quotes and dashes, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def words(text: str) -> list[str]:
    """The folded words of ``text``, punctuation dropped (``innovator's`` → ``innovators``)."""
    return [w for w in _NOT_WORD.split(fold(text).replace("'", "")) if w]


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """The outcome of looking a name up: one item, several to choose from, or none
    (with near misses to suggest)."""

    found: T | None = None
    choices: list[T] = field(default_factory=list)
    suggestions: list[T] = field(default_factory=list)


def match(typed: str, items: Sequence[T], name: Callable[[T], str]) -> Match[T]:
    """Find ``typed`` among ``items`` by their ``name``.

    Exact (folded) first; else items whose words start with the typed words in order
    (``innovator dilemma``, ``pride``); else near misses by fuzzy similarity.
    """
    wanted = fold(typed).strip("\"' ")
    if not wanted:
        return Match()
    exact = [i for i in items if fold(name(i)) == wanted]
    if len(exact) == 1:
        return Match(found=exact[0])
    if exact:
        return Match(choices=exact)
    typed_words = words(wanted)
    partial = [i for i in items if typed_words and _words_in_order(typed_words, words(name(i)))]
    if len(partial) == 1:
        return Match(found=partial[0])
    if partial:
        return Match(choices=partial)
    from rapidfuzz import fuzz, process  # only when a name did not match as typed

    scored = process.extract(
        wanted, [fold(name(i)) for i in items], scorer=fuzz.WRatio, limit=3, score_cutoff=80
    )
    return Match(suggestions=[items[index] for _text, _score, index in scored])


def _words_in_order(typed: list[str], name: list[str]) -> bool:
    """Every typed word is the start of a word of ``name``, in the same order."""
    position = 0
    for word in typed:
        while position < len(name) and not name[position].startswith(word):
            position += 1
        if position == len(name):
            return False
        position += 1
    return True


def close_word(typed: str, known: Sequence[str], *, max_distance: int | None = None) -> str | None:
    """The one word of ``known`` that ``typed`` is a likely typo of (``lst`` → ``list``,
    ``exprot`` → ``export``), or None. Transpositions count as one edit."""
    word = fold(typed)
    if not word or word in known:
        return None
    # One edit (a transposition counts as one: "exprot") for words of everyday length;
    # "Listen" is two edits from "list", and a word, not a typo.
    limit = max_distance if max_distance is not None else (1 if len(word) <= 7 else 2)
    scored = sorted((_distance(word, k), k) for k in known if abs(len(k) - len(word)) <= limit)
    best = [k for d, k in scored if d <= limit and d == scored[0][0]] if scored else []
    return best[0] if len(best) == 1 else None


def _distance(word: str, other: str) -> int:
    """Edits between two words (a swap of neighbours is one), for "did you mean"."""
    from rapidfuzz.distance import DamerauLevenshtein  # only for a word that is not known

    return int(DamerauLevenshtein.distance(word, other))
