"""Issue 7: 10,000 events, each delivered 1–4 times, some concurrently → each stored once.

At the service level (``DiscussionService.record_message``, one transaction per delivery,
as the Events API listener calls it), from a pool of four threads. Some events' deliveries
are queued back to back, so the pool runs them at the same moment and they race for the
same ``event_id``; the rest are scattered through the run.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.discussions import MessageChange, MessageEvent
from bot.domain.model import Cadence, Caller, StepState
from bot.services.books import BookService
from bot.services.discussions import DiscussionService
from bot.services.plans import PlanService
from bot.services.ports import FakeClock
from bot.storage.models import ProcessedEventRow, ThreadMessageRow
from bot.storage.uow import SqlAlchemyUnitOfWork

TEAM, CHANNEL, HOST = "T0RETRIES01", "C0RETRIES01", "U0HOST00001"
THREAD = "1796000000.000100"
EVENTS = 10_000
EDITED, DELETED = 300, 300  # of those messages, edited twice / deleted after an edit
WORKERS = 4


def post_thread(uow: SqlAlchemyUnitOfWork, clock: FakeClock) -> None:
    """A plan in CHANNEL whose first step is posted, its prompt being THREAD."""
    BookService(uow, clock).add(TEAM, HOST, "Dune", "Frank Herbert", "4")
    view = PlanService(uow, clock).start(
        Caller(TEAM, HOST),
        CHANNEL,
        "Dune",
        Cadence.weekly(0, time(9)),
        1,
        date(2026, 12, 7),
        "Europe/Berlin",
    )
    assert view.plan.id is not None
    with uow() as unit:
        plan = unit.plans.get(view.plan.id)
        assert plan is not None
        step = plan.step(1)
        step.state, step.message_ts, step.posted_at = StepState.POSTED, THREAD, clock.now()
        unit.plans.save(plan)
        unit.commit()


def reply(i: int) -> MessageEvent:
    return MessageEvent(
        f"EvPOST{i:07d}",
        TEAM,
        CHANNEL,
        f"{1796000001 + i // 1000}.{i % 1000:06d}",
        MessageChange.POSTED,
        thread_ts=THREAD,
        user_id=f"U0READ{i % 40:05d}",
        text=f"reply {i}",
    )


def edit(event_id: str, post: MessageEvent, text: str) -> MessageEvent:
    """Its author edits a reply (Slack's message_changed names the message's user)."""
    return MessageEvent(
        event_id, TEAM, CHANNEL, post.ts, MessageChange.EDITED, user_id=post.user_id, text=text
    )


def deliveries(events: list[MessageEvent], rng: random.Random) -> list[MessageEvent]:
    """Each event 1–4 times. A third of the repeated ones back to back (they will race);
    the rest shuffled through the whole run."""
    scattered: list[MessageEvent] = []
    bursts: list[list[MessageEvent]] = []
    for event in events:
        copies = [event] * rng.randint(1, 4)
        if len(copies) > 1 and rng.random() < 1 / 3:
            bursts.append(copies)
        else:
            scattered.extend(copies)
    rng.shuffle(scattered)
    for burst in bursts:
        at = rng.randrange(len(scattered) + 1)
        scattered[at:at] = burst
    return scattered


def deliver_all(
    discussions: DiscussionService, items: list[MessageEvent]
) -> tuple[Counter[str], int]:
    """Deliver from WORKERS threads; (times each event id changed something, max in flight)."""
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def one(event: MessageEvent) -> tuple[str, bool]:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            return event.event_id, discussions.record_message(event)
        finally:
            with lock:
                in_flight -= 1

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(one, items, chunksize=1))
    return Counter(event_id for event_id, changed in results if changed), most


def counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        messages = session.scalar(select(func.count()).select_from(ThreadMessageRow))
        events = session.scalar(select(func.count()).select_from(ProcessedEventRow))
    return int(messages or 0), int(events or 0)


@pytest.mark.slow
def test_ten_thousand_events_delivered_one_to_four_times_stored_once(
    uow: SqlAlchemyUnitOfWork, clock: FakeClock, session_factory: sessionmaker[Session]
) -> None:
    post_thread(uow, clock)
    discussions = DiscussionService(uow, clock)
    rng = random.Random(7)
    posts = [reply(i) for i in range(EVENTS)]
    items = deliveries(posts, rng)
    assert len(items) > 2 * EVENTS  # on average 2.5 deliveries per event

    applied, most = deliver_all(discussions, items)

    assert most == WORKERS  # deliveries really overlapped
    assert len(applied) == EVENTS and set(applied.values()) == {1}
    assert counts(session_factory) == (EVENTS, EVENTS)

    # Edits and deletions, re-delivered too (racing each other's copies), applied once.
    first_edits = [edit(f"EvEDT1{i:06d}", posts[i], "v2") for i in range(EDITED)]
    second_edits = [edit(f"EvEDT2{i:06d}", posts[i], "v3") for i in range(EDITED)]
    removals = [
        MessageEvent(f"EvDEL{i:07d}", TEAM, CHANNEL, posts[i].ts, MessageChange.DELETED)
        for i in range(EDITED, EDITED + DELETED)
    ]
    pre_delete_edits = [
        edit(f"EvEDT0{i:06d}", posts[i], "x") for i in range(EDITED, EDITED + DELETED)
    ]
    applied, _ = deliver_all(discussions, deliveries(first_edits + pre_delete_edits, rng))
    assert len(applied) == EDITED + DELETED and set(applied.values()) == {1}
    applied, _ = deliver_all(discussions, deliveries(second_edits + removals, rng))
    assert len(applied) == EDITED + DELETED and set(applied.values()) == {1}
    # Late retries of the first edits (and of the post itself) change nothing any more:
    # the text stays "v3", deleted messages stay deleted.
    late = first_edits + pre_delete_edits + posts[: EDITED + DELETED]
    applied, _ = deliver_all(discussions, deliveries(late, rng))
    assert not applied

    total_events = EVENTS + 2 * EDITED + 2 * DELETED
    assert counts(session_factory) == (EVENTS, total_events)
    with session_factory() as session:
        rows = {
            r.ts: r
            for r in session.scalars(
                select(ThreadMessageRow).where(
                    ThreadMessageRow.ts.in_([p.ts for p in posts[: EDITED + DELETED + 5]])
                )
            )
        }
    for event in posts[:EDITED]:
        row = rows[event.ts]
        assert row.text == "v3" and row.edited_at is not None and row.deleted_at is None
    for event in posts[EDITED : EDITED + DELETED]:
        row = rows[event.ts]
        assert row.text is None and row.deleted_at is not None
    for event in posts[EDITED + DELETED : EDITED + DELETED + 5]:
        row = rows[event.ts]
        assert row.text == event.text and row.edited_at is None and row.deleted_at is None
