"""Messages of a next-book poll: the ballot, its status, a proposal or ballot saved, the
result round by round.

Names of proposers come as display names (``names``), never as mentions: a ballot pings
nobody. Ballots are never shown, not even to whoever posted the poll: only, once it
closed, how many ranked each book in each round.
"""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import Block

from bot.domain.polls import (
    MAX_RANKS,
    TIE_BREAK,
    Ballot,
    Candidate,
    Count,
    Poll,
    PollState,
    Round,
    describe_moment,
    tie_decided_by,
)
from bot.domain.text import plural
from bot.slack.blocks.base import (
    MAX_MESSAGE_BLOCKS,
    Message,
    actions,
    button,
    context,
    header,
    notice,
    section,
    text_sections,
)
from bot.slack.text import escape, truncate

VOTE_ACTION = "poll_vote"  # value: the poll's id
START_ACTION = "poll_start"  # value: the poll's id: start the winner with the defaults
SCHEDULE_ACTION = "poll_schedule"  # value: the poll's id: the plan form, winner chosen
RESULT_EVENT = "readalong_poll_result"  # message metadata: {"poll_id": …}


def candidate_line(candidate: Candidate, names: Mapping[str, str]) -> str:
    chapters = plural(len(candidate.chapters), "chapter")
    who = names.get(candidate.proposed_by)
    by = f" · proposed by {escape(who)}" if who and who != candidate.proposed_by else ""
    return (
        f"*{candidate.number}.* *{escape(candidate.title)}* — {escape(candidate.author)} · "
        f"{chapters}{by}"
    )


def _short(candidate: Candidate) -> str:
    return escape(truncate(candidate.title, 60))


def ballot_message(poll: Poll, names: Mapping[str, str]) -> Message:
    """The ballot in the channel: the candidates and a Vote button, or, once closed, the
    candidates and where the result is."""
    lines = [candidate_line(c, names) for c in poll.candidates]
    closes = (
        describe_moment(poll.closes_at, poll.timezone) if poll.closes_at else "when it is closed"
    )
    if poll.state is PollState.CLOSED:
        ended = describe_moment(poll.closed_at, poll.timezone) if poll.closed_at else ""
        return Message(
            "The poll for our next book is closed",
            [
                header("🗳️ The poll for our next book is closed"),
                section(f"Voting ended {ended}. The count is in the message below."),
                *text_sections(lines, max_blocks=MAX_MESSAGE_BLOCKS - 3),
            ],
        )
    blocks: list[Block] = [
        header("🗳️ Choose our next book"),
        section(
            f"Rank up to {MAX_RANKS} of these books. Your first choice counts first; if it "
            "goes out of the count, your next choice counts instead. You can change your "
            f"ballot until the poll closes, *{closes}*. Nobody sees a tally before then."
        ),
        *text_sections(lines, max_blocks=MAX_MESSAGE_BLOCKS - 4),
        actions(button("Vote", VOTE_ACTION, str(poll.id), style="primary")),
        context(
            "Only members of this channel can vote. Whoever posted the poll can close it "
            "early with `/book poll close`."
        ),
    ]
    return Message("Choose our next book: vote in the poll", blocks)


def round_line(number: int, counted: Round, poll: Poll, *, last: bool) -> str:
    votes = " · ".join(f"{_short(poll.candidate(c))} {v}" for c, v in counted.votes)
    line = f"*Round {number}:* {votes}"
    if counted.exhausted:
        line += f" ({plural(counted.exhausted, 'ballot')} had no book still in the count)"
    if counted.eliminated is not None:
        line += f" → {_short(poll.candidate(counted.eliminated))} goes out"
        if counted.tie_broken:
            line += " (a tie, broken as below)"
    elif last and poll.winner is not None:
        line += f" → *{_short(poll.winner)}* wins"
    return line


def tie_breaks(count: Count, poll: Poll) -> str:
    """The tie-break rule and, for each round it decided, how; empty when no round had a
    tie for the fewest votes."""
    notes = []
    for counted in count.rounds:
        if not counted.tie_broken or counted.eliminated is None:
            continue
        out = _short(poll.candidate(counted.eliminated))
        by = tie_decided_by(count, counted.number)
        if by is not None:
            how = f"{out} had fewer votes in round {by}, so it went out"
        elif counted.number > 1:
            how = (
                f"they were level in every round before too, so the later proposal, {out}, went out"
            )
        else:
            how = f"the later proposal, {out}, went out"
        notes.append(f"The tie-break decided round {counted.number}: {how}.")
    return f"{TIE_BREAK} {' '.join(notes)} " if notes else ""


def result_message(poll: Poll) -> Message:
    """The count, round by round, and the winner with its one-click start."""
    count = poll.count
    winner = poll.winner
    if count is None or winner is None:
        return Message(
            "The poll closed without a winner",
            [
                header("🗳️ The poll closed without a winner"),
                section(
                    "Nobody voted, so no book won. Propose books again with `/book propose` "
                    "and post a new ballot with `/book poll`."
                ),
            ],
        )
    last = count.rounds[-1]
    votes = dict(last.votes)[winner.number]
    counted = sum(v for _c, v in last.votes)
    rounds = [
        round_line(r.number, r, poll, last=i == len(count.rounds) - 1)
        for i, r in enumerate(count.rounds)
    ]
    blocks: list[Block] = [
        header(f"📚 Our next book: {winner.title}"),
        section(
            f"*{escape(winner.title)}* by {escape(winner.author)} won the poll: "
            f"{votes} of {plural(counted, 'ballot')} in the last round, "
            f"{plural(count.ballots, 'member')} voted."
        ),
        section(
            "*How the count went* (instant runoff: the book with the fewest votes goes "
            "out, and its ballots count for their next choice, until one has more than "
            "half)"
        ),
        *text_sections(rounds, max_blocks=MAX_MESSAGE_BLOCKS - 6),
        context(
            f"{tie_breaks(count, poll)}Nobody's ballot is shown, only how many ranked each book."
        ),
        actions(
            button(f"Start “{winner.title}” here", START_ACTION, str(poll.id), style="primary"),
            button("Choose the schedule first", SCHEDULE_ACTION, str(poll.id)),
        ),
        context("Starting it is for whoever posted the poll, or an admin."),
    ]
    return Message(f"Our next book: {winner.title}", blocks)


def proposed(poll: Poll, candidate: Candidate) -> Message:
    count = len(poll.candidates)
    more = (
        "One more proposal and `/book poll` can post the ballot."
        if count < 2
        else "`/book poll` posts the ballot when the group is ready."
    )
    return Message(
        f"Proposed {candidate.title}",
        [
            section(
                f":books: Proposed *{escape(candidate.title)}* by {escape(candidate.author)} "
                f"({plural(len(candidate.chapters), 'chapter')}) for our next book: proposal "
                f"{candidate.number} of this poll, {plural(count, 'proposal')} so far."
            ),
            context(f"{more} `/book propose withdraw` takes yours back until then."),
        ],
    )


def withdrawn(candidate: Candidate) -> Message:
    return notice(f"Took back your proposal of “{candidate.title}”. You can propose another.")


def poll_opened(poll: Poll) -> Message:
    return notice(
        f"Posted the ballot with {plural(len(poll.candidates), 'book')}. You can close it "
        "early with `/book poll close`."
    )


def ballot_saved(poll: Poll, ballot: Ballot, first: bool) -> Message:
    ranked = ", ".join(
        f"{i}. {escape(poll.candidate(c).title)}" for i, c in enumerate(ballot.ranking, start=1)
    )
    closes = describe_moment(poll.closes_at, poll.timezone) if poll.closes_at else "it closes"
    verb = "Your ballot is in" if first else "Your ballot is changed"
    return Message(
        verb,
        [
            section(f":ballot_box_with_ballot: {verb}: {ranked}."),
            context(f"Only you can see it. You can change it until {closes}: click Vote again."),
        ],
    )


def poll_status(poll: Poll, ballots: int, names: Mapping[str, str]) -> Message:
    lines = [candidate_line(c, names) for c in poll.candidates] or ["No proposals yet."]
    if poll.state is PollState.PROPOSING:
        state = (
            f"Taking proposals: {plural(len(poll.candidates), 'proposal')} so far. "
            "`/book poll` posts the ballot (two proposals at least)."
        )
    elif poll.state is PollState.OPEN:
        closes = describe_moment(poll.closes_at, poll.timezone) if poll.closes_at else "—"
        state = f"Voting until *{closes}*: {plural(ballots, 'member')} voted so far."
    else:
        closed = describe_moment(poll.closed_at, poll.timezone) if poll.closed_at else "—"
        winner = poll.winner
        state = f"Closed {closed}: " + (
            f"*{escape(winner.title)}* won." if winner else "nobody voted."
        )
    blocks: list[Block] = [
        header("🗳️ The poll for our next book"),
        section(state),
        *text_sections(lines, max_blocks=MAX_MESSAGE_BLOCKS - 3),
    ]
    if poll.state is PollState.OPEN:
        blocks.append(actions(button("Vote", VOTE_ACTION, str(poll.id), style="primary")))
    return Message("The poll for our next book", blocks)
