"""Text as members type it: one rule for what comes in, and for counting words.

Slack sends the text of slash commands and messages with ``&``, ``<`` and ``>`` as
``&amp;``, ``&lt;`` and ``&gt;``. :func:`from_slack` decodes them once, at the edge, so
"Pride & Prejudice" is stored as typed; output is escaped once again where it is shown
(``bot.slack.text.escape``). Form (modal) inputs arrive as typed and are not decoded.
"""

from __future__ import annotations

import re

#: C0 control characters other than tab and newline (NUL cannot even be stored on PostgreSQL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def from_slack(text: str) -> str:
    """Slack's three entities decoded, once: ``&amp;lt;`` becomes ``&lt;``, not ``<``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean(text: str) -> str:
    """Typed text without control characters, with Unix newlines, trimmed."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 step``, ``2 steps``, ``0 replies`` (give ``plural_form`` when it is not +s)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


#: Numbers people write as words, for counts ("three chapters", "every two days").
_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "a": 1, "an": 1}


def number(text: str) -> int | None:
    """``"3"`` or ``"three"`` as 3 (ASCII digits, or a number word up to twenty, thirty…);
    None when it is neither."""
    word = text.strip().casefold()
    if word.isascii() and word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word) if word not in ("a", "an") else None
