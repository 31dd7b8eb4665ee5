"""Choosing the next book together: proposals, a ranked ballot, an instant-runoff count.

A group's poll goes through three states: it takes proposals (one per member), then
ballots (each member ranks up to three candidates, and may change their ballot until it
closes), then it is closed and counted. Nobody sees a tally before the count; the count
is shown round by round, and ties are broken by one stated rule (:data:`TIE_BREAK`).

Pure rules only: the count, what a ballot may say, who may close a poll, when it closes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.domain.errors import InvalidInput, PermissionDenied
from bot.domain.model import Caller, Chapter
from bot.domain.schedule import WEEKDAY_NAMES, local_to_utc, parse_date, parse_time, zone
from bot.domain.text import number

#: How many candidates a member may rank, first choice first.
MAX_RANKS = 3
#: Candidates per poll: each is a line of the ballot and an option of its form.
MAX_CANDIDATES = 20
#: A poll posted without a closing time closes at the end of the day a week later.
DEFAULT_POLL_DAYS = 7
#: How far ahead a poll may close.
MAX_POLL_DAYS = 60
#: A closing date alone means the end of that day, in the group's time zone.
END_OF_DAY = time(23, 59)

TIE_BREAK = (
    "Ties: of the candidates with the fewest votes, the one with fewer votes in the round "
    "before goes out (and so on back to round 1); if they are still level, the later "
    "proposal goes out."
)


class PollState(enum.StrEnum):
    PROPOSING = "proposing"  # taking proposals; no ballot yet
    OPEN = "open"  # the ballot is posted: taking votes, nobody sees a tally
    CLOSED = "closed"  # counted: the result is stored (and announced once)


#: A poll in one of these states is the group's current poll (at most one per group).
CURRENT_POLL_STATES = frozenset({PollState.PROPOSING, PollState.OPEN})


@dataclass(slots=True)
class Candidate:
    """A book proposed for the next read. ``number`` is its place in proposal order."""

    poll_id: int
    number: int
    title: str
    author: str
    chapters: list[Chapter]
    proposed_by: str
    created_at: datetime
    book_id: int | None = None  # a book already on the shelf, proposed as it is
    id: int | None = None

    def label(self) -> str:
        return f"{self.title} — {self.author}"


@dataclass(frozen=True, slots=True)
class Round:
    """One round of the count: the votes of every candidate still in it."""

    number: int
    votes: tuple[tuple[int, int], ...]  # (candidate number, votes), in candidate order
    exhausted: int  # ballots whose every book ranked is out of the count
    eliminated: int | None = None  # the candidate who goes out after this round
    tie_broken: bool = False  # several had the fewest votes: TIE_BREAK chose


@dataclass(frozen=True, slots=True)
class Count:
    """An instant-runoff count: its rounds and the winner (None: nobody voted)."""

    ballots: int
    rounds: tuple[Round, ...]
    winner: int | None


@dataclass(slots=True)
class Ballot:
    """A member's ranking: candidate numbers, first choice first."""

    poll_id: int
    voter_id: str
    ranking: tuple[int, ...]
    cast_at: datetime
    updated_at: datetime | None = None


@dataclass(slots=True)
class Poll:
    workspace_id: int
    group_id: int
    channel_id: str
    created_by: str
    created_at: datetime
    state: PollState = PollState.PROPOSING
    host_user_id: str | None = None  # who posted the ballot: they may close it
    opened_at: datetime | None = None
    closes_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None  # None once closed: at its time, by the scheduler
    message_ts: str | None = None  # the ballot's message
    result_ts: str | None = None  # the result's message
    count: Count | None = None
    winner_book_id: int | None = None  # the winner's book on the shelf, once started
    candidates: list[Candidate] = field(default_factory=list)
    id: int | None = None
    # Where its times are shown: the group's plan's zone, else the default (not stored).
    timezone: str = "UTC"

    def candidate(self, number: int) -> Candidate:
        for candidate in self.candidates:
            if candidate.number == number:
                return candidate
        raise KeyError(number)

    @property
    def winner(self) -> Candidate | None:
        if self.count is None or self.count.winner is None:
            return None
        return self.candidate(self.count.winner)


# --- the count ------------------------------------------------------------------------


def instant_runoff(candidates: Sequence[int], ballots: Sequence[Sequence[int]]) -> Count:
    """Count ranked ballots: each round, every ballot counts for its highest-ranked
    candidate still in the count; a candidate with more than half of those votes wins,
    else the one with the fewest goes out (:data:`TIE_BREAK` when several do) and the next
    round begins. The last one left wins. ``candidates`` in proposal order.

    Ballots naming a candidate twice or one not in ``candidates`` count as if those
    entries were not there (the ballot form never sends them).
    """
    order = list(dict.fromkeys(candidates))
    known = set(order)
    cleaned = [tuple(dict.fromkeys(c for c in ballot if c in known)) for ballot in ballots]
    continuing = list(order)
    history: list[dict[int, int]] = []
    rounds: list[Round] = []
    while continuing:
        votes = dict.fromkeys(continuing, 0)
        exhausted = 0
        for ballot in cleaned:
            top = next((c for c in ballot if c in votes), None)
            if top is None:
                exhausted += 1
            else:
                votes[top] += 1
        active = len(cleaned) - exhausted
        tally = tuple((c, votes[c]) for c in continuing)
        at = len(rounds) + 1
        if active == 0:
            rounds.append(Round(at, tally, exhausted))
            return Count(len(cleaned), tuple(rounds), None)
        leader = max(continuing, key=lambda c: votes[c])
        if len(continuing) == 1 or 2 * votes[leader] > active:
            rounds.append(Round(at, tally, exhausted))
            return Count(len(cleaned), tuple(rounds), leader)
        out, tied, _by = _eliminated(continuing, votes, history)
        rounds.append(Round(at, tally, exhausted, eliminated=out, tie_broken=tied))
        history.append(votes)
        continuing.remove(out)
    return Count(len(cleaned), tuple(rounds), None)


def _eliminated(
    continuing: list[int], votes: dict[int, int], history: list[dict[int, int]]
) -> tuple[int, bool, int | None]:
    """Who goes out this round, whether the tie-break decided it, and the earlier round
    whose votes did (None: no earlier round told them apart, the proposal order did)."""
    fewest = min(votes[c] for c in continuing)
    lowest = [c for c in continuing if votes[c] == fewest]
    tied = len(lowest) > 1
    decided_by: int | None = None
    for at in range(len(history), 0, -1):
        if len(lowest) == 1:
            break
        earlier = history[at - 1]
        least = min(earlier[c] for c in lowest)
        lowest = [c for c in lowest if earlier[c] == least]
        if len(lowest) == 1:
            decided_by = at
    # Still level: the later proposal (continuing is in proposal order) goes out.
    return lowest[-1], tied, decided_by


def tie_decided_by(count: Count, number: int) -> int | None:
    """For round ``number`` of ``count``, whose last place was tied (``tie_broken``): the
    earlier round whose votes broke the tie, or None when none did and the later
    proposal went out (as :data:`TIE_BREAK` says). None too for a round without a tie."""
    counted = count.rounds[number - 1]
    if not counted.tie_broken:
        return None
    votes = dict(counted.votes)
    history = [dict(r.votes) for r in count.rounds[: number - 1]]
    _out, _tied, decided_by = _eliminated([c for c, _v in counted.votes], votes, history)
    return decided_by


# --- ballots ----------------------------------------------------------------------------


def check_ranking(ranking: Sequence[int], candidates: Sequence[int]) -> tuple[int, ...]:
    """A ballot as the member ranked it: at least one candidate, at most three, each of
    this poll's candidates once. ``field`` names the rank that is wrong (``rank2``…)."""
    known = set(candidates)
    if not ranking:
        raise InvalidInput("Choose your first choice.", field="rank1")
    if len(ranking) > MAX_RANKS:
        raise InvalidInput(f"Rank at most {MAX_RANKS} candidates.", field=f"rank{MAX_RANKS + 1}")
    seen: set[int] = set()
    for place, candidate in enumerate(ranking, start=1):
        if candidate not in known:
            raise InvalidInput(
                "That candidate is not on this ballot; open the ballot again.", field=f"rank{place}"
            )
        if candidate in seen:
            raise InvalidInput(
                "You ranked this candidate already: each candidate counts once on a ballot. "
                "Leave this choice empty or pick another.",
                field=f"rank{place}",
            )
        seen.add(candidate)
    return tuple(ranking)


def require_closer(poll: Poll, caller: Caller) -> None:
    """Who may close a poll early, or start its winner: whoever posted it, or an admin."""
    if not (caller.is_admin or caller.user_id == poll.host_user_id):
        raise PermissionDenied(
            "Only whoever posted the poll or an admin can do that. "
            + (
                "It closes by itself at its time."
                if poll.state is PollState.OPEN
                else "Ask them to start the winner."
            )
        )


def check_candidates(poll: Poll) -> None:
    """A poll needs at least two candidates before its ballot is posted."""
    if len(poll.candidates) < 2:
        have = "no proposals yet" if not poll.candidates else "only one proposal"
        raise InvalidInput(
            f"A poll needs at least two candidates; this one has {have}. Members propose "
            "books with `/book propose <title> | <author> | <chapters>` (or `/book propose "
            "<book on the shelf>`), then `/book poll` posts the ballot."
        )


# --- when it closes -----------------------------------------------------------------------

_IN_DAYS = re.compile(r"^in\s+(\S+)\s+days?$", re.IGNORECASE)
_AT = re.compile(r"^(?P<day>.+?)\s+at\s+(?P<time>\S+)$", re.IGNORECASE)


def parse_closes(text: str | None, now: datetime, timezone: str) -> datetime:
    """When a poll closes, as a member said it: ``2026-12-10``, ``friday``, ``tomorrow``,
    ``in 3 days``, each optionally ``at 18:00`` (the group's time zone). A day alone
    means the end of that day; nothing at all, the end of the day a week from now."""
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    words = " ".join((text or "").split())
    if not words:
        return local_to_utc(today + timedelta(days=DEFAULT_POLL_DAYS), END_OF_DAY, tz)
    at = END_OF_DAY
    found = _AT.match(words)
    if found is not None:
        words, at = found.group("day"), parse_time(found.group("time"))
    day = _closing_day(words, today)
    closes = local_to_utc(day, at, tz)
    if closes <= now:
        raise InvalidInput(
            f"“{text}” has already passed. Give a day (and time) still to come: "
            "`/book poll closes friday`, `closes 2026-12-10 at 18:00`, `closes in 3 days`."
        )
    if closes > now + timedelta(days=MAX_POLL_DAYS):
        raise InvalidInput(f"A poll can stay open for at most {MAX_POLL_DAYS} days.")
    return closes


def _closing_day(words: str, today: date) -> date:
    lowered = words.lower()
    if lowered == "today":
        return today
    if lowered == "tomorrow":
        return today + timedelta(days=1)
    in_days = _IN_DAYS.match(words)
    if in_days is not None:
        days = number(in_days.group(1))
        if days is None or days < 1:
            raise InvalidInput(f"“{words}”: give a whole number of days, e.g. `in 3 days`.")
        return today + timedelta(days=days)
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", lowered):
        return parse_date(lowered)
    weekdays = [
        i for i, name in enumerate(WEEKDAY_NAMES) if len(lowered) >= 2 and name.startswith(lowered)
    ]
    if len(weekdays) == 1:
        ahead = (weekdays[0] - today.weekday()) % 7 or 7  # "friday" on a Friday: next week's
        return today + timedelta(days=ahead)
    raise InvalidInput(
        f"I don't understand “{words}” as a day. Use `closes friday`, `closes tomorrow`, "
        "`closes in 3 days` or `closes 2026-12-10`, with `at 18:00` if you like."
    )


def describe_moment(moment: datetime, timezone: str) -> str:
    """``Fri 11 Dec 2026, 23:59 CET``: a moment as the group reads it, in its zone."""
    local = moment.astimezone(zone(timezone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"
