"""Issue 13, choosing the next book together, over real HTTP against the emulator: five
members propose and rank four books in the ballot's form (one changes their ballot), the
poll closes at its time and the result equals an independent instant-runoff count of
the same ballots; nobody sees a tally before; a poll due while no process ran closes
once when two come back; the host closes early and starts the winner with one click;
bad input gets a clear answer and changes nothing. Dates come from the test clock.
"""

from __future__ import annotations

import html
import json
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from bot.bootstrap import build_runtime
from bot.config import Settings
from bot.domain.polls import Poll, PollState
from bot.domain.schedule import zone
from bot.emulator.models import Message
from bot.slack.blocks import polls as poll_blocks
from bot.slack.poll_modals import POLL_BALLOT
from tests.domain.test_polls import reference_count
from tests.harness import ALICE, BOB, CAROL, CLUB, DAVE, OTHER, Harness, block_text
from tests.slack.test_reflection_loop import buttons

TEAM = "T0EMULATOR1"
ERIN, FRANK = "U0ERIN00001", "U0FRANK0001"


def club_of_five(harness: Harness) -> None:
    harness.emulator.add_user(ERIN, "erin", real_name="Erin Reader")
    harness.emulator.add_user(FRANK, "frank", real_name="Frank Reader")
    harness.emulator.join(CLUB, ERIN)
    harness.emulator.join(CLUB, FRANK)


def propose_four(harness: Harness) -> None:
    """Four books: typed in (a count, titled chapters, an ampersand) and one off the shelf."""
    assert "Proposed *Dune*" in raw(harness, ALICE, "propose Dune | Frank Herbert | 22")
    out = harness.say(BOB, "/book", "propose Emma | Jane Austen | Highbury; Hartfield; Donwell")
    assert "Proposed *Emma* by Jane Austen (3 chapters)" in out, out
    harness.say(CAROL, "/book", "add Middlemarch | George Eliot | 8")
    assert "proposal 3 of this poll" in harness.say(CAROL, "/book", "propose middlemarch")
    out = harness.say(ERIN, "/book", "propose Pride & Prejudice | Jane Austen | 61")
    assert "Proposed *Pride & Prejudice* by Jane Austen (61 chapters)" in out, out


def raw(harness: Harness, user: str, text: str, channel: str = CLUB) -> str:
    """The bot's answer to `/book <text>` as sent (mrkdwn, entities and all)."""
    return "\n".join(
        block_text(p.get("blocks") or []) for p in harness.command(user, "/book", text, channel)
    )


def ballot(harness: Harness, channel: str = CLUB) -> Message:
    """The ballot's message in the channel."""
    found = [
        m
        for m in harness.emulator.messages(channel)
        if "Choose our next book" in m.text or "poll for our next book is closed" in m.text
    ]
    assert len(found) == 1, [m.text for m in harness.emulator.messages(channel)]
    return found[0]


def results(harness: Harness, channel: str = CLUB) -> list[Message]:
    return [
        m
        for m in harness.emulator.messages(channel)
        if (m.metadata or {}).get("event_type") == poll_blocks.RESULT_EVENT
    ]


def click(harness: Harness, user: str, message: Message, action_id: str) -> list[dict[str, Any]]:
    """Click a button of a message (a channel's, or an ephemeral); the answers it caused."""
    before = len(harness.emulator.response_url_posts())
    _label, found, value = next(b for b in buttons({"blocks": message.blocks}) if b[1] == action_id)
    harness.click(user, message, found, value)
    return [p["payload"] for p in harness.emulator.response_url_posts()[before:]]


def answers(payloads: list[dict[str, Any]]) -> str:
    return html.unescape("\n".join(block_text(p.get("blocks") or []) for p in payloads))


def vote(harness: Harness, user: str, ranking: list[int]) -> dict[str, Any] | None:
    """Click Vote, rank in the form, submit: the form's errors (None when it closed)."""
    refused = click(harness, user, ballot(harness), poll_blocks.VOTE_ACTION)
    assert not refused, answers(refused)
    form = harness.last_view(user)
    assert form["callback_id"] == POLL_BALLOT
    values = {f"rank{n}": {"value": str(c)} for n, c in enumerate(ranking, start=1)}
    response = harness.submit(form["id"], values, user)
    assert response.status == 200, response.text
    answer = response.json()
    return dict(answer["errors"]) if answer else None


def current_poll(harness: Harness, channel: str = CLUB) -> Poll:
    return harness.runtime.services.polls.status(TEAM, channel).poll


def close_at_its_time(harness: Harness) -> None:
    closes = current_poll(harness).closes_at
    assert closes is not None
    harness.clock.set(closes + timedelta(minutes=1))
    harness.runtime.services.run_due()
    harness.drain()


def shown_text(payload: str) -> str:
    return html.unescape(payload)


# --------------------------------------------------------------------------- the vote


def test_five_members_rank_four_books_and_the_result_is_the_instant_runoff_count(
    harness: Harness,
) -> None:
    club_of_five(harness)
    propose_four(harness)
    out = harness.say(ALICE, "/book", "poll closes in 3 days")
    assert "Posted the ballot with 4 books" in out, out
    posted = ballot(harness)
    shown = html.unescape(block_text(posted.blocks))
    for line in (
        "1. Dune — Frank Herbert · 22 chapters · proposed by alice",
        "2. Emma — Jane Austen · 3 chapters · proposed by bob",
        "3. Middlemarch — George Eliot · 8 chapters · proposed by carol",
        "4. Pride & Prejudice — Jane Austen · 61 chapters · proposed by erin",
    ):
        assert line in shown.replace("*", ""), shown
    assert "<@" not in json.dumps(posted.blocks)  # the ballot pings nobody
    assert "&amp;" in json.dumps(posted.blocks)  # "&" escaped once, as mrkdwn wants

    mark = harness.emulator.shown_mark()
    ballots = {
        ALICE: [1, 3, 2],
        BOB: [2, 4],
        CAROL: [3, 2, 1],
        ERIN: [4, 2, 3],
        FRANK: [1, 4],
    }
    for user, ranking in ballots.items():
        assert vote(harness, user, ranking) is None
    # Frank changes his mind before it closes: his ballot counts once, as changed.
    form_errors = vote(harness, FRANK, [2, 1])
    assert form_errors is None
    ballots[FRANK] = [2, 1]
    confirmations = [
        (audience, shown_text(text))
        for audience, text in harness.emulator.shown(mark)
        if "Your ballot is" in shown_text(text)
    ]
    assert len(confirmations) == 6
    assert all(len(audience) == 1 for audience, _text in confirmations)
    assert "Your ballot is changed: 1. Emma, 2. Dune." in confirmations[-1][1]
    # Frank's form showed his first ballot when he opened it again.
    frank_form = harness.emulator.calls_to("views.open")[-1].params["view"]
    assert frank_form["blocks"][1]["element"]["initial_option"]["value"] == "1"
    assert frank_form["blocks"][2]["element"]["initial_option"]["value"] == "4"

    status = harness.say(BOB, "/book", "poll status")
    assert "5 members voted so far" in status, status
    # Nobody sees a tally before it closes: no count anywhere, no ballot but one's own.
    for _audience, text in harness.emulator.shown(mark):
        assert "Round 1" not in shown_text(text) and "won the poll" not in shown_text(text)
    assert not results(harness)

    close_at_its_time(harness)
    (result,) = results(harness)
    final = [ballots[u] for u in (ALICE, BOB, CAROL, ERIN, FRANK)]
    expected = reference_count([1, 2, 3, 4], final)
    poll = current_poll(harness)
    assert poll.state is PollState.CLOSED and poll.count is not None
    assert poll.count.winner == expected and poll.count.ballots == 5
    winner = poll.candidate(expected or 0)
    text = html.unescape(block_text(result.blocks)).replace("*", "")
    assert f"Our next book: {winner.title}" in text and "5 members voted" in text
    firsts = Counter(b[0] for b in final)
    titles = {1: "Dune", 2: "Emma", 3: "Middlemarch", 4: "Pride & Prejudice"}
    first_round = " · ".join(f"{titles[c]} {firsts[c]}" for c in (1, 2, 3, 4))
    assert f"Round 1: {first_round}" in text, text
    assert text.count("Round ") == len(poll.count.rounds)
    assert "Ties: of the candidates with the fewest votes" in text
    assert [b[1] for b in buttons({"blocks": result.blocks})] == [
        poll_blocks.START_ACTION,
        poll_blocks.SCHEDULE_ACTION,
    ]
    # The ballot says it closed, with no Vote button; a second tick posts nothing more.
    assert not buttons({"blocks": ballot(harness).blocks})
    harness.runtime.services.run_due()
    assert len(results(harness)) == 1
    # Only whoever posted the poll (or an admin) starts the winner.
    refused = click(harness, BOB, result, poll_blocks.START_ACTION)
    assert "Only whoever posted the poll or an admin" in answers(refused)


# --------------------------------------------------------------------------- bad input


def test_bad_input_gets_a_clear_answer_and_changes_nothing(harness: Harness) -> None:
    polls = harness.runtime.services.polls
    out = harness.say(ALICE, "/book", "poll")
    assert "There is no poll in this channel" in out, out
    harness.say(ALICE, "/book", "propose Dune | Frank Herbert | 22")
    # Fewer than two candidates: no ballot.
    out = harness.say(ALICE, "/book", "poll")
    assert "A poll needs at least two candidates; this one has only one proposal" in out, out
    assert current_poll(harness).state is PollState.PROPOSING
    # One proposal per member, each book once, nothing already on the shelf typed again.
    out = harness.say(ALICE, "/book", "propose Emma | Jane Austen | 3")
    assert "You have proposed “Dune” for this poll already: one proposal each" in out, out
    out = harness.say(BOB, "/book", "propose dune | FRANK HERBERT | 22")
    assert "“Dune” by Frank Herbert is on this poll already (alice proposed it)." in out, out
    harness.say(CAROL, "/book", "add Middlemarch | George Eliot | 8")
    out = harness.say(BOB, "/book", "propose Middlemarch | George Eliot | 8")
    assert "is already on the shelf (#1). Propose it as it is: `/book propose #1`" in out, out
    out = harness.say(BOB, "/book", "propose Nonesuch Title")
    assert "No book called “Nonesuch Title”" in out, out
    # Only the channel's members take part.
    out = harness.say(DAVE, "/book", "propose Ulysses | James Joyce | 18", channel=OTHER)
    assert "Proposed" in out  # #random has a poll of its own
    harness.emulator.join(OTHER, BOB)
    out = harness.say(BOB, "/book", "propose Emma | Jane Austen | 3")
    assert "Proposed" in out
    assert len(current_poll(harness).candidates) == 2
    # A closing time that cannot be.
    yesterday = (harness.clock.now() - timedelta(days=1)).date().isoformat()
    out = harness.say(ALICE, "/book", f"poll closes {yesterday}")
    assert "has already passed" in out, out
    out = harness.say(ALICE, "/book", "poll closes whenever")
    assert "I don't understand “whenever” as a day" in out, out
    assert current_poll(harness).state is PollState.PROPOSING
    out = harness.say(ALICE, "/book", "poll close now")
    assert "I don't understand “close now” here. Use `/book poll`" in out, out
    assert "Posted the ballot" in harness.say(ALICE, "/book", "poll tomorrow at 18:00")
    closes = current_poll(harness).closes_at
    assert closes is not None and closes.astimezone(zone("Europe/Berlin")).hour == 18
    # Voting has started: no more proposals, no withdrawing.
    out = harness.say(CAROL, "/book", "propose middlemarch")
    assert "Voting has started, so this poll takes no more proposals" in out, out
    out = harness.say(BOB, "/book", "propose withdraw")
    assert "Voting has started, so the proposals stay as they are" in out, out
    # Someone outside the group sees the public channel's ballot, but cannot vote.
    refused = click(harness, DAVE, ballot(harness), poll_blocks.VOTE_ACTION)
    assert "Only the members of this channel take part in its poll" in answers(refused)
    assert not harness.emulator.open_views(DAVE)
    # The same book ranked twice: the form says where, and nothing is stored.
    errors = vote(harness, CAROL, [2, 2])
    assert errors is not None and "You chose this book already" in errors["rank2"]
    assert harness.runtime.services.polls.status(TEAM, CLUB).ballots == 0
    # A ballot opened before the poll closed and sent after it: refused, not counted.
    refused = click(harness, CAROL, ballot(harness), poll_blocks.VOTE_ACTION)
    assert not refused
    form = harness.last_view(CAROL)
    close_at_its_time(harness)
    late = harness.submit(form["id"], {"rank1": {"value": "1"}}, CAROL)
    assert "This poll has closed, so your ballot was not counted" in late.json()["errors"]["rank1"]
    poll = current_poll(harness)
    assert poll.count is not None and poll.count.ballots == 0 and poll.count.winner is None
    assert "Nobody voted, so no book won" in block_text(results(harness)[0].blocks)
    assert not buttons({"blocks": ballot(harness).blocks})  # no Vote button left to click
    assert polls.status(TEAM, OTHER).poll.state is PollState.PROPOSING
    # Nothing was half-stored on the way: the shelf has only the book added to it.
    assert [b.title for b in harness.runtime.services.books.all(TEAM)] == ["Middlemarch"]


def test_withdrawing_a_proposal_frees_the_member_to_propose_another(harness: Harness) -> None:
    harness.say(ALICE, "/book", "propose Dune | Frank Herbert | 22")
    out = harness.say(ALICE, "/book", "propose withdraw")
    assert "Took back your proposal of “Dune”" in out, out
    assert "Proposed" in harness.say(ALICE, "/book", "propose Emma | Jane Austen | 3")
    out = harness.say(BOB, "/book", "propose withdraw")
    assert "You have no proposal in this channel's poll" in out


def test_the_proposal_form(harness: Harness) -> None:
    harness.command(ALICE, "/book", "propose")
    form = harness.last_view(ALICE)
    assert form["callback_id"] == "poll_propose"
    bad = harness.submit(
        form["id"],
        {
            "title": {"value": "Dune"},
            "author": {"value": "Frank Herbert"},
            "chapters": {"value": "-3"},
        },
        ALICE,
    )
    assert "not a chapter count" in bad.json()["errors"]["chapters"]
    harness.submit(
        form["id"],
        {
            "title": {"value": "Dune"},
            "author": {"value": "Frank Herbert"},
            "chapters": {"value": "22"},
        },
        ALICE,
    )
    assert [c.title for c in current_poll(harness).candidates] == ["Dune"]
    assert any("Proposed *Dune*" in t for t in harness.ephemeral_texts(ALICE))


# --------------------------------------------------------------------------- closing early


def two_books_voted(harness: Harness) -> None:
    harness.say(BOB, "/book", "propose Emma | Jane Austen | Highbury; Hartfield; Donwell")
    harness.say(CAROL, "/book", "propose Dune | Frank Herbert | 22")
    assert "Posted the ballot" in harness.say(ALICE, "/book", "poll")
    assert vote(harness, BOB, [1]) is None
    assert vote(harness, CAROL, [1, 2]) is None


def test_the_host_closes_early_and_starts_the_winner_with_one_click(harness: Harness) -> None:
    two_books_voted(harness)
    out = harness.say(BOB, "/book", "poll close")
    assert "Only whoever posted the poll or an admin can do that" in out, out
    assert current_poll(harness).state is PollState.OPEN
    assert "Closed the poll" in harness.say(ALICE, "/book", "poll close")
    (result,) = results(harness)
    assert "Our next book: Emma" in result.text
    out = harness.say(ALICE, "/book", "poll close")
    assert "That poll has closed already; its result is in the channel." in out, out
    refused = click(harness, BOB, result, poll_blocks.START_ACTION)
    assert "Only whoever posted the poll or an admin" in answers(refused)
    assert not harness.runtime.services.books.all(TEAM)
    started = click(harness, ALICE, result, poll_blocks.START_ACTION)
    assert "Started “Emma” here" in answers(started)
    announced = [
        t
        for t in harness.channel_texts()
        if "started a reading plan: Emma" in html.unescape(t).replace("*", "")
    ]
    assert len(announced) == 1, harness.channel_texts()
    (book,) = harness.runtime.services.books.all(TEAM)
    assert [c.title for c in book.chapters] == ["Highbury", "Hartfield", "Donwell"]
    assert book.added_by == BOB  # whoever proposed it
    view = harness.runtime.services.plans.current(TEAM, CLUB)
    assert view.book.id == book.id and view.plan.host_user_id == ALICE
    again = click(harness, ALICE, result, poll_blocks.START_ACTION)
    assert "This channel is reading a book now" in answers(again)
    assert len(harness.runtime.services.books.all(TEAM)) == 1
    # A new poll can start while the book is read.
    assert "Proposed" in harness.say(BOB, "/book", "propose Dune | Frank Herbert | 22")


def test_the_winner_through_the_plan_form(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Middlemarch | George Eliot | 8")
    two_books_voted(harness)
    harness.say(ALICE, "/book", "poll close")
    (result,) = results(harness)
    assert not click(harness, ALICE, result, poll_blocks.SCHEDULE_ACTION)
    form = harness.last_view(ALICE)
    assert form["callback_id"] == "plan_start"
    book = form["blocks"][0]["element"]
    assert book["initial_option"]["text"]["text"].startswith("#2 Emma")
    assert [o["text"]["text"][:3] for o in book["options"]] == ["#2 ", "#1 "]
    today = harness.clock.now().date().isoformat()
    harness.submit(
        form["id"],
        {
            "book": {"value": book["initial_option"]["value"]},
            "weekday": {"value": "2"},
            "at": {"value": "18:00"},
            "chapters": {"value": "1"},
            "start": {"value": today},
            "tz": {"value": "Europe/Berlin"},
        },
        ALICE,
    )
    view = harness.runtime.services.plans.current(TEAM, CLUB)
    assert view.book.title == "Emma" and view.plan.cadence.describe() == "every Wednesday at 18:00"


# --------------------------------------------------------------------------- exactly once


def test_a_poll_due_while_no_process_ran_closes_once_when_two_come_back(
    harness: Harness, settings: Settings
) -> None:
    two_books_voted(harness)
    closes = current_poll(harness).closes_at
    assert closes is not None
    # Nothing ticks while the poll's time passes: no process is running. Then two start.
    harness.clock.set(closes + timedelta(hours=30))
    first = build_runtime(settings, clock=harness.clock)
    second = build_runtime(settings, clock=harness.clock)
    try:
        barrier = threading.Barrier(2)
        closed: list[int] = []

        def tick(runtime: Any) -> None:
            barrier.wait()
            closed.append(runtime.services.run_due().polls)

        workers = [threading.Thread(target=tick, args=(r,)) for r in (first, second)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert sorted(closed) == [0, 1]
        first.services.run_due()
        second.services.run_due()
    finally:
        first.close()
        second.close()
    assert len(results(harness)) == 1
    assert "Our next book: Emma" in results(harness)[0].text
    poll = current_poll(harness)
    assert poll.closed_at == closes + timedelta(hours=30) and poll.closed_by is None
    assert len(harness.emulator.calls_to("chat.update")) == 1  # the ballot, once


def test_a_result_a_dead_process_posted_is_not_posted_again(harness: Harness) -> None:
    """A process closed the poll, claimed its announcement and posted it, then died
    before it could record that: after the lease, another finds it in the channel."""
    two_books_voted(harness)
    polls = harness.runtime.services.polls
    poll = current_poll(harness)
    now = harness.clock.now()
    assert polls._close(poll.id or 0, now, ALICE, due_only=False)
    with polls.uow() as uow:
        won, retaken = uow.polls.claim_announcement(poll.id or 0, "dead:1", now, now)
        uow.commit()
    assert won and not retaken
    harness.runtime.services.notifier.post_poll_result(CLUB, polls.status(TEAM, CLUB).poll)
    harness.runtime.services.run_due()  # the claim is fresh: nobody else posts
    assert len(results(harness)) == 1
    harness.clock.advance(polls.lease + timedelta(seconds=1))
    harness.runtime.services.run_due()
    assert len(results(harness)) == 1
    assert current_poll(harness).result_ts == results(harness)[0].ts


def test_a_result_a_dead_process_never_posted_is_posted_once(harness: Harness) -> None:
    two_books_voted(harness)
    polls = harness.runtime.services.polls
    poll = current_poll(harness)
    now = harness.clock.now()
    assert polls._close(poll.id or 0, now, ALICE, due_only=False)
    with polls.uow() as uow:
        assert uow.polls.claim_announcement(poll.id or 0, "dead:1", now, now) == (True, False)
        uow.commit()
    harness.emulator.fail_next(1, status=500, method="chat.postMessage")
    harness.clock.advance(polls.lease + timedelta(seconds=1))
    harness.runtime.services.run_due()  # Slack fails this post: the claim waits again
    assert not results(harness)
    harness.clock.advance(polls.lease + timedelta(seconds=1))
    harness.runtime.services.run_due()
    harness.runtime.services.run_due()
    assert len(results(harness)) == 1
