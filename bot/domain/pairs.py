"""Mentoring pairs: who may pair with whom, and the pair's time rules. Pure functions.

A pair is a mentee and a mentor reading together in a conversation of their own. Either
may propose it; the other accepts with a button, declines, or lets it expire. Either may
leave. The agreement (what the mentee wants from this, and a few goals) and the
look-back at the end are private to the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.errors import InvalidInput
from bot.domain.model import Pair, PairState, Role
from bot.domain.text import clean

#: A proposal nobody answers is withdrawn after this long (the proposer is told).
PROPOSAL_LIFETIME = timedelta(days=7)
#: A pair with no activity for this long is flagged to the programme's admins (Mentorloop
#: uses three weeks); the ``pair_quiet_days`` setting changes it.
DEFAULT_QUIET_DAYS = 21
MAX_GOALS = 5
MAX_GOAL_CHARS = 200
MAX_HOPES_CHARS = 2000
MAX_ACTION_CHARS = 300
MAX_LOOK_BACK_CHARS = 2000

HOPES_QUESTION = "Where do I want to be in five years, and how can this book help?"


@dataclass(frozen=True, slots=True)
class Person:
    """What Slack says about someone named as a partner (``users.info``)."""

    user_id: str
    found: bool  # Slack knows them in this workspace
    is_bot: bool = False
    deleted: bool = False  # deactivated


def check_partner(asker: str, other: Person) -> None:
    """Refuse a partner nobody could pair with: oneself, a bot, a stranger, a leaver."""
    if other.user_id == asker:
        raise InvalidInput("You can't pair with yourself: name your mentor or mentee.")
    if not other.found:
        raise InvalidInput(
            "I can't find that person in this workspace. Mention them with @ and pick "
            "them from the list."
        )
    if other.is_bot:
        raise InvalidInput("Bots can't be mentors or mentees: name a person.")
    if other.deleted:
        raise InvalidInput("That account is deactivated, so it can't join a pair.")


def roles_for(asker: str, other: str, other_role: Role) -> tuple[str, str]:
    """(mentee, mentor) when ``asker`` names ``other`` in ``other_role``."""
    return (asker, other) if other_role is Role.MENTOR else (other, asker)


def proposal_expired(pair: Pair, now: datetime) -> bool:
    return pair.state is PairState.PROPOSED and now >= pair.created_at + PROPOSAL_LIFETIME


def without_words(pair: Pair) -> Pair:
    """The pair as the programme's admins may know it: who, which state, when; never
    what the two wrote for each other (their hopes, goals and look-backs)."""
    return replace(pair, hopes=None, goals=[], look_back={})


def should_flag_quiet(pair: Pair, last_activity: datetime, now: datetime, days: int) -> bool:
    """Is an active pair quiet for ``days`` and not yet flagged for this quiet spell?"""
    if pair.state is not PairState.ACTIVE or days <= 0:
        return False
    quiet = now - last_activity >= timedelta(days=days)
    flagged_since = pair.quiet_flagged_at is not None and pair.quiet_flagged_at >= last_activity
    return quiet and not flagged_since


def quiet_days(last_activity: datetime, now: datetime) -> int:
    return max(0, (now - last_activity).days)


_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s*")


def clean_goals(text: str) -> list[str]:
    """Goals as typed, one per line (bullets and numbers dropped), a few short ones."""
    goals = [_BULLET.sub("", clean(line)).strip() for line in text.splitlines()]
    goals = [g for g in goals if g]
    if len(goals) > MAX_GOALS:
        raise InvalidInput(f"Keep it to {MAX_GOALS} goals or fewer (one per line).", field="goals")
    for goal in goals:
        if len(goal) > MAX_GOAL_CHARS:
            raise InvalidInput(
                f"Each goal can be up to {MAX_GOAL_CHARS} characters; one is {len(goal):,}.",
                field="goals",
            )
    return goals


def clean_limited(text: str, limit: int, what: str, field: str | None = None) -> str:
    """Member text for the pair's private records: cleaned, not empty, at most ``limit``."""
    cleaned = clean(text).strip()
    if not cleaned:
        raise InvalidInput(f"Write {what} first.", field=field)
    if len(cleaned) > limit:
        raise InvalidInput(
            f"{what.capitalize()} can be up to {limit:,} characters; this is {len(cleaned):,}.",
            field=field,
        )
    return cleaned


def last_activity(pair: Pair, moments: Iterable[datetime | None]) -> datetime:
    """The pair's latest sign of life: acceptance, or any moment given (reflections the
    mentor may see, replies, action items)."""
    start = pair.accepted_at or pair.created_at
    return max([start, *(m for m in moments if m is not None)])
