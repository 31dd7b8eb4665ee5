"""Crash safety with real processes: SIGKILL at random points, and two schedulers at once.

Issue 7's acceptance:

* The bot, a real ``readalong serve`` subprocess, is killed with SIGKILL at a random
  point while it posts prompts and stores events, 50 times; after restarts no prompt is
  lost or doubled and no acknowledged event is lost.
* Two instances with schedulers on one database post 1,000 due slots without a
  duplicate.

Both run on PostgreSQL when ``TEST_DATABASE_URL`` names a server (each test makes a
database of its own there and drops it afterwards), else on a SQLite file, so that
something real always runs. Prompts are counted in the emulator's call log (Slack's
side), events and steps in the database.

The crash loop: 150 one-step groups whose steps fall due one after another over 100 s
(a few at once to begin with), so that every process finds prompts to post at its first
tick, and one prompt thread that a sender thread fills with replies (Events API
callbacks, each with its own ``event_id``; those not answered 200 are delivered again
with Slack's retry headers, and some answered ones are too). Each cycle starts
``readalong serve``, and SIGKILLs it at a random point: a third of the time within
0.8 s of its start (it takes events, has not ticked yet), otherwise within 0.8 s of its
first tick (it claims and posts; the emulator holds each post 0.3 s, so posts are in
flight at the kill, and land after it, as they may on Slack). A last process then
finishes everything. The randomness is seeded; the processes' timing is not, but the
outcome does not depend on it.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.bootstrap import build_runtime
from bot.config import Settings
from bot.domain.model import StepState
from bot.emulator import payloads
from bot.emulator.client import SlackAppClient
from bot.emulator.server import SlackEmulator
from bot.scheduler import FIRST_TICK
from bot.storage.db import make_engine
from bot.storage.models import ProcessedEventRow, StepRow, ThreadMessageRow
from tests import process_helpers
from tests.process_helpers import (
    POSTGRES_URL,
    ServerProcess,
    claimants,
    emulator_settings,
    posted_step_ids,
    scratch_database,
    seed_groups,
    step_states,
    wait_for,
)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

SECRET = "crash-safety-signing-secret"
LEASE_SECONDS = 5  # the smallest the settings allow
READER = "U0READER001"
EVENT_CHANNEL = "C0EV0000000"


def start_serve(
    name: str, database_url: str, emulator: SlackEmulator, workdir: Path
) -> ServerProcess:
    return process_helpers.start_serve(
        name, database_url, emulator, workdir, secret=SECRET, lease_seconds=LEASE_SECONDS
    )


def settings_for(emulator: SlackEmulator, database_url: str) -> Settings:
    return emulator_settings(emulator, database_url, secret=SECRET, reminder_lead_hours=0)


def duplicates(ids: list[int]) -> dict[int, int]:
    return {step: n for step, n in Counter(ids).items() if n > 1}


# ---------------------------------------------------------------------- events


@dataclass
class Delivery:
    """One Events API event: a reply in the prompt thread, delivered until acknowledged."""

    event_id: str
    ts: str
    event: dict[str, Any]
    attempts: int = 0
    acked: bool = False


@dataclass
class EventStream:
    """Replies in one prompt thread, sent to the app as Slack would.

    Every event gets a fresh ``event_id``. One that was not answered 200 (the process
    died under it, or it failed) is delivered again with Slack's retry headers, before
    anything new; now and then an acknowledged one is delivered again too, as Slack
    does when an answer comes late.
    """

    emulator: SlackEmulator
    thread_ts: str
    rng: random.Random
    deliveries: list[Delivery] = field(default_factory=list)
    unanswered: list[Delivery] = field(default_factory=list)
    failed_requests: int = 0

    def new(self) -> Delivery:
        ws = self.emulator.workspace
        text = f"reply {len(self.deliveries)}"
        message = ws.post_message(
            EVENT_CHANNEL,
            user=READER,
            text=text,
            blocks=payloads.rich_text_blocks(text),
            thread_ts=self.thread_ts,
            client_msg_id=str(uuid.uuid4()),
        )
        event = payloads.message_event(ws, message, ws.channel(EVENT_CHANNEL))
        delivery = Delivery(ws.new_id("Ev"), message.ts, event)
        self.deliveries.append(delivery)
        return delivery

    def next(self) -> Delivery:
        if self.unanswered:
            return self.unanswered[0]
        acked = [d for d in self.deliveries[-50:] if d.acked]
        if acked and self.rng.random() < 0.1:
            return self.rng.choice(acked)
        return self.new()

    def deliver(self, client: SlackAppClient, delivery: Delivery) -> bool:
        """One delivery; True if the app answered it (200 or not), False if it could not."""
        retry = delivery.attempts if delivery.attempts else None
        delivery.attempts += 1
        try:
            response = client.event(
                delivery.event,
                event_id=delivery.event_id,
                retry_num=retry,
                retry_reason="http_error" if retry else "http_timeout",
            )
        except (OSError, http.client.HTTPException):
            self.failed_requests += 1
            client.close()
            if not delivery.acked and delivery not in self.unanswered:
                self.unanswered.append(delivery)
            return False
        if response.status == 200:
            delivery.acked = True
            if delivery in self.unanswered:
                self.unanswered.remove(delivery)
        else:
            self.failed_requests += 1
            if not delivery.acked and delivery not in self.unanswered:
                self.unanswered.append(delivery)
        return True

    def run(self, client: SlackAppClient, stop: threading.Event) -> None:
        """Deliver until ``stop``; a request that found no process ends it early."""
        while not stop.is_set():
            if not self.deliver(client, self.next()):
                return
            time.sleep(0.005)

    def drain(self, client: SlackAppClient, timeout: float) -> None:
        """Deliver every unanswered event again until the app has acknowledged it."""
        deadline = time.monotonic() + timeout
        while self.unanswered:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.unanswered)} events never acknowledged")
            if not self.deliver(client, self.unanswered[0]):
                time.sleep(0.1)


def stored_replies(database_url: str) -> tuple[Counter[str], set[str]]:
    """(how many rows each reply ts has in thread_messages, the event ids recorded)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(ThreadMessageRow.ts, func.count())
                .where(ThreadMessageRow.channel_id == EVENT_CHANNEL)
                .group_by(ThreadMessageRow.ts)
            )
            by_ts = Counter({ts: count for ts, count in rows})
            event_ids = set(conn.scalars(select(ProcessedEventRow.event_id)))
            return by_ts, event_ids
    finally:
        engine.dispose()


def prompt_thread(emulator: SlackEmulator, database_url: str) -> tuple[int, str]:
    """One group whose prompt is already posted (in this process): its step id and the
    prompt's ts, the thread the replies go to."""
    (channel,) = seed_groups(emulator, database_url, secret=SECRET, groups=1, prefix="C0EV")
    assert channel == EVENT_CHANNEL
    emulator.join(EVENT_CHANNEL, READER)
    runtime = build_runtime(settings_for(emulator, database_url))
    try:
        report = runtime.services.prompts.run_due()
    finally:
        runtime.close()
    (step_id,) = report.posted
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            ts = conn.scalar(select(StepRow.message_ts).where(StepRow.id == step_id))
    finally:
        engine.dispose()
    assert ts
    return step_id, ts


# ---------------------------------------------------------------------- 50 SIGKILLs

CYCLES = 50
CRASH_GROUPS = 150
POST_LATENCY = 0.3  # seconds the emulator holds each chat.postMessage
SPREAD_SECONDS = 100.0  # the steps fall due one after another over this long
TICK = FIRST_TICK


def spread_due_times(database_url: str, step_ids: list[int], first: datetime) -> datetime:
    """Make the steps fall due one after another from ``first`` on; returns the last time.

    Each process then finds work at its first tick: steps that fell due since the last
    process died, and those whose claims a killed process left (after the lease).
    """
    spacing = SPREAD_SECONDS / len(step_ids)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            for i, step_id in enumerate(step_ids):
                due = first + timedelta(seconds=i * spacing)
                conn.execute(update(StepRow).where(StepRow.id == step_id).values(due_at=due))
        return first + timedelta(seconds=(len(step_ids) - 1) * spacing)
    finally:
        engine.dispose()


def pending_step_ids(database_url: str) -> list[int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.scalars(
                    select(StepRow.id)
                    .where(StepRow.state == StepState.PENDING.value)
                    .order_by(StepRow.id)
                )
            )
    finally:
        engine.dispose()


def recovered_prompts(emulator: SlackEmulator) -> set[int]:
    """Steps whose prompt a process found in the channel (posted by one killed before it
    could mark the step posted), from the conversations.history answers in the call log."""
    found = set()
    for call in emulator.calls_to("conversations.history"):
        for message in call.response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == "readalong_prompt":
                found.add(int(metadata["event_payload"]["step_id"]))
    return found


def reclaimed_steps(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).where(StepRow.attempts > 1)) or 0)
    finally:
        engine.dispose()


def test_sigkill_50_times_while_posting_and_storing_events_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(7)
    emulator = SlackEmulator().start()
    emulator.add_user(READER, "reader", real_name="Reader")
    processes: list[ServerProcess] = []
    try:
        with scratch_database(tmp_path, "readalong_h2_crash") as database_url:
            thread_step, thread_ts = prompt_thread(emulator, database_url)
            seed_groups(
                emulator,
                database_url,
                secret=SECRET,
                groups=CRASH_GROUPS,
                prefix="C0CR",
                book=False,
            )
            steps = pending_step_ids(database_url)
            assert len(steps) == CRASH_GROUPS
            # A backlog of a few for the first process, then about one more a second.
            last_due = spread_due_times(
                database_url, steps, datetime.now(UTC) - timedelta(seconds=10)
            )
            emulator.slow_down(POST_LATENCY, method="chat.postMessage")
            stream = EventStream(emulator, thread_ts, random.Random(11))

            def prompts() -> list[int]:
                return [s for s in posted_step_ids(emulator) if s != thread_step]

            log = []
            for cycle in range(CYCLES):
                serve = start_serve(f"crash{cycle:02d}", database_url, emulator, tmp_path)
                processes.append(serve)
                url = serve.wait_listening()
                client = SlackAppClient(emulator, f"{url}/slack/events", SECRET, timeout=5)
                stop = threading.Event()
                sender = threading.Thread(target=stream.run, args=(client, stop), daemon=True)
                posted_before = len(prompts())
                sender.start()
                # A third of the kills come while it starts up and takes events; the rest
                # while it posts, up to 0.8 s after its first tick (a second after start).
                early = rng.random() < 1 / 3
                delay = rng.uniform(0.05, 0.8)
                if not early:
                    serve.wait_logged(TICK)
                time.sleep(delay)
                os.kill(serve.process.pid, signal.SIGKILL)
                serve.process.wait(timeout=10)
                stop.set()
                sender.join(timeout=10)
                client.close()
                log.append(
                    (
                        "early" if early else "tick",
                        len(prompts()) - posted_before,
                        len(stream.deliveries),
                    )
                )
            print("cycles (kill, prompts, events so far):", log)
            posted_in_loop = len(set(prompts()))

            final = start_serve("final", database_url, emulator, tmp_path)
            processes.append(final)
            url = final.wait_listening()
            emulator.slow_down(0.01, method="chat.postMessage")
            client = SlackAppClient(emulator, f"{url}/slack/events", SECRET, timeout=5)
            stream.drain(client, timeout=20)
            client.close()

            def all_posted() -> bool:
                final.check_alive()
                return step_states(database_url) == {StepState.POSTED.value: CRASH_GROUPS + 1}

            try:
                still_to_fall_due = max(0.0, (last_due - datetime.now(UTC)).total_seconds())
                wait_for(
                    all_posted,
                    still_to_fall_due + LEASE_SECONDS + 30,
                    "the last process to post the rest",
                )
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc}: the database says {dict(step_states(database_url))}; "
                    f"log:\n{final.log_tail()}"
                ) from None
            final.kill()

            # Prompts: every step exactly once on Slack's side, posted in the database.
            ids = prompts()
            assert not duplicates(ids), f"posted more than once: {duplicates(ids)}"
            assert len(set(ids)) == CRASH_GROUPS
            # Kills landed between a post and its mark in the database: a later process
            # found those prompts in the channel instead of posting them again.
            recovered = recovered_prompts(emulator) - {thread_step}
            assert recovered, "no kill landed between a post and its mark"
            assert reclaimed_steps(database_url) >= len(recovered)

            # Events: every acknowledged one stored once (all were, in the end).
            by_ts, event_ids = stored_replies(database_url)
            acked = [d for d in stream.deliveries if d.acked]
            assert len(acked) == len(stream.deliveries)
            missing = [d.ts for d in acked if by_ts[d.ts] == 0]
            assert not missing, f"{len(missing)} acknowledged events not stored: {missing[:10]}"
            assert not {ts: n for ts, n in by_ts.items() if n > 1}
            assert set(by_ts) == {d.ts for d in stream.deliveries}
            assert {d.event_id for d in acked} <= event_ids
            assert stream.failed_requests > 0, "no kill landed while events were delivered"
            print(
                f"{len(stream.deliveries)} events, {stream.failed_requests} failed deliveries, "
                f"{sum(d.attempts for d in stream.deliveries)} deliveries in all; "
                f"{posted_in_loop} prompts posted during the kills, {len(recovered)} recovered, "
                f"{reclaimed_steps(database_url)} steps claimed more than once"
            )
    finally:
        for serve in processes:
            serve.kill()
        emulator.stop()


# ---------------------------------------------------------------------- 1,000 slots, two schedulers

SLOTS = 1000


def test_two_schedulers_on_one_database_post_1000_slots_without_a_duplicate(
    tmp_path: Path,
) -> None:
    """Two ``readalong serve`` processes with schedulers, started together, 1,000 due steps.

    On PostgreSQL one leads and both post (issue 14: the follower shares the posting,
    claiming rows the other has not locked); on SQLite (no leadership) both schedule and
    claim batches from the same queue. Either way only the row claims keep each prompt
    single.
    """
    emulator = SlackEmulator().start()
    processes: list[ServerProcess] = []
    try:
        with scratch_database(tmp_path, "readalong_h2_slots") as database_url:
            seed_groups(emulator, database_url, secret=SECRET, groups=SLOTS, prefix="C0SL")
            assert step_states(database_url) == {StepState.PENDING.value: SLOTS}
            # Each post takes a little while, so that neither process is done before the
            # other's first tick.
            emulator.slow_down(0.02, method="chat.postMessage")
            processes = [
                start_serve(name, database_url, emulator, tmp_path) for name in ("one", "two")
            ]
            for serve in processes:
                serve.wait_listening()

            deadline = time.monotonic() + 45
            while step_states(database_url) != {StepState.POSTED.value: SLOTS}:
                for serve in processes:
                    serve.check_alive()
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"not all posted in time: {dict(step_states(database_url))}; "
                        f"{len(set(posted_step_ids(emulator)))} on Slack"
                    )
                time.sleep(0.25)
            roles = sorted(serve.role() for serve in processes)
            workers = claimants(database_url)
            for serve in processes:
                serve.kill()

            ids = posted_step_ids(emulator)
            assert not duplicates(ids), f"posted more than once: {duplicates(ids)}"
            assert len(ids) == len(set(ids)) == SLOTS
            if POSTGRES_URL:
                assert roles == ["follower", "leader"]
                assert len(workers) == 2, "the follower did not share the posting"
            else:
                assert roles == ["leader", "leader"]  # SQLite: both schedule
                assert len(workers) == 2, "only one of the two processes posted"
    finally:
        for serve in processes:
            serve.kill()
        emulator.stop()
