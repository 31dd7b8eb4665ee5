"""Digests: who took part, the highlights, the themes and what comes next. Pure composition."""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import pairwise
from typing import Any

from bot.domain.discussions import ThreadMessage
from bot.domain.markup import Names, mentioned, to_plain
from bot.domain.model import Book, Plan, Reflection, Step, StepState, Visibility
from bot.domain.privacy import may_quote, written_late

MAX_HIGHLIGHTS = 5
MAX_THEMES = 8
THEME_INPUT_CHARS = 40_000  # keyword extraction on a bounded sample keeps big threads fast
#: What is not a member's own words: mentions as plain text, links, emoji codes.
_MENTION = re.compile(r"[@#][\w.-]+|https?://\S+|:[a-z0-9_+-]+:")


class DigestKind(enum.StrEnum):
    STEP = "step"
    WEEK = "week"
    BOOK = "book"  # the wrap-up, once the plan has finished
    SO_FAR = "so_far"  # the whole book up to now, asked for mid-plan


class SummaryState(enum.StrEnum):
    """A digest's row: claimed (being posted), posted, or done without a post (empty)."""

    PENDING = "pending"
    POSTED = "posted"
    EMPTY = "empty"  # nothing was shared in its period: recorded as done, never posted


@dataclass(frozen=True, slots=True)
class DigestKey:
    """What makes a digest unique: one per plan, kind and period (``step-3``, ``week-…``)."""

    plan_id: int
    kind: DigestKind
    period: str


@dataclass(frozen=True, slots=True)
class SummaryRecord:
    """A digest's row as stored: where it went, and when it was last rendered."""

    id: int
    key: DigestKey
    channel_id: str
    state: SummaryState
    message_ts: tuple[str, ...]
    updated_at: datetime | None
    step_numbers: tuple[int, ...] | None = None  # None: stored before steps were kept


@dataclass(frozen=True, slots=True)
class DigestDue:
    """A digest that should exist by now, and the steps it covers."""

    key: DigestKey
    step_numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Highlight:
    author_id: str
    text: str
    reactions: int
    channel_id: str
    ts: str | None
    kind: str  # "reflection" or "reply"

    def plain_text(self, names: Names) -> str:
        """The quoted words as a person reads them: mentions as @names, never a ping.

        A reply is Slack's text (entities encoded); a reflection is stored as typed."""
        return to_plain(self.text, names, encoded=self.kind == "reply")


@dataclass(frozen=True, slots=True)
class Participant:
    user_id: str
    reflections: int
    replies: int


@dataclass(frozen=True, slots=True)
class Digest:
    kind: DigestKind
    title: str
    book_title: str
    book_author: str
    steps: list[Step]
    participants: list[Participant]
    highlights: list[Highlight]
    themes: list[str]
    next_step: Step | None
    timezone: str
    channel_id: str
    reply_count: int = 0
    reflection_count: int = 0
    late_count: int = 0  # shared reflections written after their step's period closed
    names: Names = field(default_factory=Names)  # for mentions inside quoted words
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Nothing was shared: no reflection and no reply (such a digest is not posted)."""
        return self.reflection_count == 0 and self.reply_count == 0

    def mentioned_users(self) -> set[str]:
        """User ids mentioned inside the quoted words (whose names the quotes need)."""
        return {user for h in self.highlights for user in mentioned(h.text)[0]}

    def mentioned_channels(self) -> set[str]:
        return {channel for h in self.highlights for channel in mentioned(h.text)[1]}

    @property
    def chapters_label(self) -> str:
        if not self.steps:
            return "no chapters yet"
        first = min(s.first_chapter for s in self.steps)
        last = max(s.last_chapter for s in self.steps)
        return f"chapter {first}" if first == last else f"chapters {first}–{last}"


def compose_digest(
    *,
    kind: DigestKind,
    plan: Plan,
    book: Book,
    channel_id: str,
    steps: Sequence[Step],
    reflections: Iterable[Reflection],
    messages: Iterable[ThreadMessage],
    reflection_reactions: dict[int, int],
    now: datetime,
    quotable: Collection[str],
) -> Digest:
    """Only shared reflections and visible (not deleted) thread replies count, in any way.

    Private reflections are dropped before anything is counted, so no figure in the digest
    can reveal that someone wrote one. Everyone who shared is counted and named, but only
    the words of ``quotable`` members (who turned `/reflect quotable on`) are reproduced:
    highlights, and the themes, which are phrases taken from their text.
    """
    step_numbers = {s.number for s in steps}
    step_ids = {s.id for s in steps}
    shared = [
        r
        for r in reflections
        if r.visibility is Visibility.SHARED and r.step_number in step_numbers
    ]
    echo_ts = {r.message_ts for r in shared if r.message_ts}
    replies = [
        m
        for m in messages
        if m.visible
        and m.step_id in step_ids
        and m.user_id
        and m.ts not in echo_ts
        and m.ts != m.thread_ts
    ]
    per_user: dict[str, list[int]] = {}
    for r in shared:
        per_user.setdefault(r.author_id, [0, 0])[0] += 1
    for m in replies:
        assert m.user_id is not None
        per_user.setdefault(m.user_id, [0, 0])[1] += 1
    participants = sorted(
        (Participant(u, c[0], c[1]) for u, c in per_user.items()),
        key=lambda p: (-(p.reflections + p.replies), p.user_id),
    )
    highlights = [
        h
        for h in _highlights(shared, replies, reflection_reactions, channel_id)
        if may_quote(h.author_id, quotable)
    ]
    key_phrases = themes([h.plain_text(Names()) for h in highlights])
    highlights.sort(key=lambda h: (-h.reactions, -len(h.text)))
    following = next(
        (
            s
            for s in sorted(plan.steps, key=lambda s: s.number)
            if s.state in (StepState.PENDING, StepState.CLAIMED)
        ),
        None,
    )
    title = {
        DigestKind.STEP: f"Step {steps[0].number}" if len(steps) == 1 else "Latest steps",
        DigestKind.WEEK: "This week",
        DigestKind.BOOK: "Wrap-up",
        DigestKind.SO_FAR: "The book so far",
    }.get(kind, "Digest")
    return Digest(
        kind=kind,
        title=title,
        book_title=book.title,
        book_author=book.author,
        steps=list(steps),
        participants=participants,
        highlights=highlights[:MAX_HIGHLIGHTS],
        themes=key_phrases,
        next_step=following if kind != DigestKind.BOOK else None,
        timezone=plan.timezone,
        channel_id=channel_id,
        reply_count=len(replies),
        reflection_count=len(shared),
        late_count=sum(written_late(plan, r) for r in shared),
    )


def _highlights(
    shared: Sequence[Reflection],
    replies: Sequence[ThreadMessage],
    reflection_reactions: dict[int, int],
    channel_id: str,
) -> list[Highlight]:
    """Every shared word that could be quoted, whoever wrote it (consent is checked after)."""
    return [
        Highlight(
            r.author_id,
            r.text,
            reflection_reactions.get(r.id or 0, 0),
            channel_id,
            r.message_ts,
            "reflection",
        )
        for r in shared
    ] + [
        Highlight(m.user_id or "", m.text or "", m.reaction_count, m.channel_id, m.ts, "reply")
        for m in replies
    ]


def themes(texts: Sequence[str], top: int = MAX_THEMES) -> list[str]:
    """Key phrases of plain ``texts`` (YAKE, offline), from a bounded sample, leaving out
    @names, #channels, links and emoji codes.

    A theme is what several texts share: a phrase found in only one of them (one
    message's words) is left out, and each text is its own sentence, so no phrase spans
    two messages.
    """
    sample: list[str] = []
    size = 0
    for text in texts:
        clean = _MENTION.sub(" ", text)
        if size + len(clean) > THEME_INPUT_CHARS:
            break
        sample.append(clean)
        size += len(clean)
    if len(sample) < 2:
        return []
    # A full stop after each text: YAKE never pairs the end of one with the next.
    corpus = "\n".join(t.strip().rstrip(".!?") + "." for t in sample if t.strip())
    if len(corpus.split()) < 3:
        return []
    # How many texts hold each word and each pair of words (YAKE's phrases are 1–2 words).
    holding: Counter[tuple[str, ...]] = Counter()
    for text in sample:
        words = _words_of(text)
        holding.update({(w,) for w in words} | set(pairwise(words)))
    found = _extractor(top * 4).extract_keywords(corpus)
    seen: set[tuple[str, ...]] = set()
    out = []
    for phrase, _score in found:
        key = tuple(_words_of(phrase))
        if key in seen or holding[key] < 2 or set(key) <= _READING_WORDS:
            continue
        seen.add(key)
        out.append(phrase)
    return out[:top]


#: Words every reading group writes: never a theme on their own ("Chapter").
_READING_WORDS = frozenset(
    {"chapter", "chapters", "book", "books", "step", "steps", "page", "pages", "read", "reading"}
)


def _words_of(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


@lru_cache(maxsize=4)
def _extractor(top: int) -> Any:
    import yake  # imported lazily: it pulls in numpy, which a command ack never needs

    return yake.KeywordExtractor(lan="en", n=2, top=top, dedupLim=0.7)
