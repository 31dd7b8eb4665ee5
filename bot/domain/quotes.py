"""A message saved as a reflection ("Save as reflection" on any message).

The reflection holds the member's own words, then the message it is about: quoted, with
its author and a link, when the member may reproduce it; else only the link. A member's
words are copied only with their consent (:func:`bot.domain.privacy.may_quote`, the same
`/reflect quotable on` that digests and exports ask for). The member's own message needs
no consent: it becomes their text, to edit. Messages of bots and apps (Readalong's own
included: they may carry someone's reflection) are never copied, only linked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.domain.privacy import may_quote

#: The most of a message a reflection quotes (the reflection itself holds 3,000).
MAX_QUOTE_CHARS = 1200
#: What the link to the message reads like, at the end of the reflection.
LINK_MARK = "↪ "


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """The message a reflection is saved from, as a person reads it."""

    channel_id: str
    ts: str
    author_id: str | None  # None: a bot's or an app's message
    text: str  # plain text: mentions as @names, entities decoded
    permalink: str | None = None
    author_name: str | None = None

    def mine(self, member_id: str) -> bool:
        return self.author_id is not None and self.author_id == member_id


def may_copy(source: SourceMessage, member_id: str, quotable: Collection[str]) -> bool:
    """May the member's reflection reproduce someone else's message? Only a person's who
    turned `/reflect quotable on`; never a bot's. (Their own message is theirs anyway.)"""
    return (
        source.author_id is not None
        and not source.mine(member_id)
        and may_quote(source.author_id, quotable)
    )


def quoted(text: str) -> str:
    """The message's text as it is quoted: whole lines, at most :data:`MAX_QUOTE_CHARS`."""
    body = text.strip()
    if len(body) > MAX_QUOTE_CHARS:
        body = body[: MAX_QUOTE_CHARS - 1].rstrip() + "…"
    return body


def with_source(own: str, source: SourceMessage, copy: bool) -> str:
    """The reflection's text: the member's words, then the message (quoted, with its
    author and link, when ``copy``; else its link alone)."""
    parts = [own.strip()] if own.strip() else []
    if copy and source.text.strip():
        attribution = f"— {source.author_name or 'someone'}"
        if source.permalink:
            attribution += f", {source.permalink}"
        parts.append(f"“{quoted(source.text)}”\n{attribution}")
    elif source.permalink:
        parts.append(LINK_MARK + source.permalink)
    return "\n\n".join(parts)


def room_for_own_words(source: SourceMessage, copy: bool, limit: int) -> int:
    """How many characters the member's own words may have, next to the message."""
    return max(1, limit - len(with_source("", source, copy)) - 2)
