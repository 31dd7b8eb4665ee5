"""Two real scheduler processes on one database; the leader is SIGKILLed mid-run.

Acceptance: every step of 200 groups is posted exactly once, counted in the emulator's
call log, and the database marks every step posted.

On PostgreSQL (``TEST_DATABASE_URL`` names a server; the test makes a database of its
own there and drops it afterwards) the advisory lock makes one process the leader; the
follower takes over when the leader dies, and re-takes the leader's abandoned claims
(at once, as the leader's worker lock went with it; those whose post was in flight once
that post is over), checking each channel for prompts the dead process got out before
posting. Without ``TEST_DATABASE_URL`` the same scenario runs
on a SQLite file: both processes then schedule (SQLite has no leadership), and only
the row claims keep each prompt single.

Process A starts alone, so it leads and claims all 200 due steps in one batch; the
emulator answers ``chat.postMessage`` slowly (:meth:`SlackEmulator.slow_down`) so that
A is still posting when B is up. On SQLite, which expects one posting process, B takes
A's queued claims (made before B started) for abandoned and takes them over while A is
still posting; A notices at its next post (its renewal fails) and leaves them. Then the leader (as
``GET /readyz`` reports it) is killed with SIGKILL, and B posts the rest.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest

from bot.domain.model import Cadence, Caller, StepState
from bot.domain.prompts import PromptContent
from bot.emulator.server import SlackEmulator
from bot.services.ports import Notifier
from bot.services.prompts import PromptPolicy, PromptService
from tests import process_helpers
from tests.harness import ALICE, CLUB, OTHER, Harness
from tests.process_helpers import (
    POSTGRES_URL,
    ServerProcess,
    claimants,
    posted_step_ids,
    scratch_database,
    seed_groups,
    step_states,
    wait_for,
)

GROUPS = 200
LEASE_SECONDS = 5
SECRET = "multiprocess-signing-secret"


# ---------------------------------------------------------------------- the database


def seed(emulator: SlackEmulator, database_url: str) -> list[str]:
    """200 channels, each reading a one-chapter book every day; step 1 fell due a minute ago."""
    return seed_groups(emulator, database_url, secret=SECRET, groups=GROUPS)


# ---------------------------------------------------------------------- the processes


def start_serve(
    name: str, database_url: str, emulator: SlackEmulator, workdir: Path
) -> ServerProcess:
    # 8 posting threads: slow posts keep A busy long enough for B to start and step in.
    return process_helpers.start_serve(
        name,
        database_url,
        emulator,
        workdir,
        secret=SECRET,
        lease_seconds=LEASE_SECONDS,
        POSTING_WORKERS="8",
    )


# ---------------------------------------------------------------------- the test


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_leader_killed_mid_run_every_step_posted_exactly_once(tmp_path: Path) -> None:
    emulator = SlackEmulator().start()
    processes: list[ServerProcess] = []
    try:
        with scratch_database(tmp_path, "readalong_h2_mp") as database_url:
            seed(emulator, database_url)
            assert step_states(database_url) == {StepState.PENDING.value: GROUPS}
            emulator.slow_down(0.25, method="chat.postMessage")

            first = start_serve("A", database_url, emulator, tmp_path)
            processes.append(first)
            first.wait_listening()
            wait_for(
                lambda: first.check_alive() and len(posted_step_ids(emulator)) >= 8, 30, "A to post"
            )
            (claimant,) = claimants(database_url)  # A alone has claimed: all 200 steps
            # A's 8 threads now take 1 s a post: ~25 s for the rest, time enough for B to start.
            emulator.slow_down(1.0, method="chat.postMessage")

            second = start_serve("B", database_url, emulator, tmp_path)
            processes.append(second)
            second.wait_listening()
            roles = {serve.name: serve.role() for serve in processes}
            if POSTGRES_URL:
                assert roles == {"A": "leader", "B": "follower"}, roles
            else:
                assert roles == {"A": "leader", "B": "leader"}, roles  # SQLite: no election
                # Both schedule. B takes A's queued claims over (made before B started,
                # or, later, older than the lease) while A is alive and posting; A must
                # leave those alone.
                wait_for(
                    lambda: second.check_alive() and len(claimants(database_url)) == 2,
                    LEASE_SECONDS + 20,
                    "B to take over some of A's claims",
                )
            leader = next(serve for serve in processes if roles[serve.name] == "leader")
            assert leader is first and claimant in claimants(database_url)
            survivor = second

            os.kill(leader.process.pid, signal.SIGKILL)
            leader.process.wait(timeout=10)
            posted_before_kill = len(posted_step_ids(emulator))
            assert 0 < posted_before_kill < GROUPS, "the leader was not killed mid-run"
            emulator.slow_down(0.02, method="chat.postMessage")

            def all_posted() -> bool:
                survivor.check_alive()
                return len(set(posted_step_ids(emulator))) >= GROUPS and step_states(
                    database_url
                ) == {StepState.POSTED.value: GROUPS}

            try:
                wait_for(all_posted, 40, "the survivor to post every remaining step")
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc}: {len(set(posted_step_ids(emulator)))} steps posted, the database "
                    f"says {dict(step_states(database_url))}; "
                    f"{survivor.name}'s log:\n{survivor.log_tail()}"
                ) from None
            if POSTGRES_URL:
                assert survivor.role() == "leader"

            posted = Counter(posted_step_ids(emulator))
            duplicates = {step: n for step, n in posted.items() if n > 1}
            assert not duplicates, f"posted more than once: {duplicates}"
            assert len(posted) == GROUPS
            assert all(c.status == 200 for c in emulator.calls_to("chat.postMessage"))
    finally:
        for serve in processes:
            serve.kill()
        emulator.stop()


# ---------------------------------------------------------------------- the same race, in-process


class _OtherProcessMidBatch:
    """A notifier whose first post is followed, before it returns, by another process's
    tick a lease later: as if this process's batch took longer than the lease."""

    def __init__(self, inner: Notifier, harness: Harness, other: PromptService) -> None:
        self.inner = inner
        self.harness = harness
        self.other = other
        self.done = False

    def post_prompt(self, channel_id: str, content: PromptContent) -> str:
        ts = self.inner.post_prompt(channel_id, content)
        if not self.done:
            self.done = True
            self.harness.clock.advance(self.other.policy.lease + timedelta(minutes=1))
            self.other.run_due()
        return ts

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_claim_waiting_in_a_live_batch_past_the_lease_is_not_posted_twice(
    harness: Harness,
) -> None:
    services = harness.runtime.services
    services.books.add(harness.emulator.team_id, ALICE, "Dune", "Frank Herbert", "3")
    for channel in (CLUB, OTHER):
        services.plans.start(
            Caller(harness.emulator.team_id, ALICE),
            channel,
            "Dune",
            Cadence.weekly(0, clock_time(9)),
            1,
            datetime(2026, 12, 7).date(),
            "Europe/Berlin",
        )
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))  # step 1 of both plans is due
    other = services.prompts
    slow = _OtherProcessMidBatch(other.notifier, harness, other)
    one_at_a_time = PromptPolicy(lease=other.policy.lease, workers=1)
    mine = PromptService(other.uow, harness.clock, slow, one_at_a_time)

    report = mine.run_due()  # claims both steps, posts one; the other process takes both

    posted = Counter(posted_step_ids(harness.emulator))
    assert sorted(posted.values()) == [1, 1], posted
    assert len(report.posted) == 1 and len(report.lost) == 1
    assert step_states(harness.runtime.settings.database_url) == {
        StepState.POSTED.value: 2,
        StepState.PENDING.value: 4,
    }
