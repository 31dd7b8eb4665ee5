"""Two real scheduler processes on one database; the leader is SIGKILLed mid-run.

Acceptance: every step of 200 groups is posted exactly once, counted in the emulator's
call log, and the database marks every step posted.

On PostgreSQL (``TEST_DATABASE_URL`` names a server; the test makes a database of its
own there and drops it afterwards) the advisory lock makes one process the leader; the
follower takes over when the leader dies, and re-takes the leader's abandoned claims
once they are ``CLAIM_LEASE_SECONDS`` old, checking each channel for prompts the dead
process got out before posting. Without ``TEST_DATABASE_URL`` the same scenario runs
on a SQLite file: both processes then schedule (SQLite has no leadership), and only
the row claims keep each prompt single.

Process A starts alone, so it leads and claims all 200 due steps in one batch; the
emulator answers ``chat.postMessage`` slowly (:meth:`SlackEmulator.slow_down`) so that
A is still posting when B is up. On SQLite, B also takes over A's queued claims once
they are older than the lease, while A is still posting. Then the leader (as
``GET /readyz`` reports it) is killed with SIGKILL, and B posts the rest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.bootstrap import build_runtime
from bot.config import Settings
from bot.domain.model import Cadence, Caller, StepState
from bot.domain.prompts import PromptContent
from bot.emulator.server import SlackEmulator
from bot.services.ports import Notifier
from bot.services.prompts import PromptPolicy, PromptService
from bot.storage.db import make_engine, upgrade
from bot.storage.models import StepRow
from tests.harness import ALICE, CLUB, OTHER, Harness

GROUPS = 200
LEASE_SECONDS = 5
SECRET = "multiprocess-signing-secret"
HOST_USER = "U0MPHOST001"
BOOK = "The Left Hand of Darkness"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
LISTENING = "Readalong listening on "

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float, what: str) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


# ---------------------------------------------------------------------- the database


def _postgres_url(url: str) -> str:
    """psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@contextmanager
def scratch_database(tmp_path: Path) -> Iterator[str]:
    """A migrated database nobody else uses: a new one on the PostgreSQL server, or a file."""
    if not POSTGRES_URL:
        url = f"sqlite:///{tmp_path / 'readalong.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    server = make_url(_postgres_url(POSTGRES_URL))
    name = f"readalong_mp_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server.render_as_string(hide_password=False))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url, pool_size=1, max_overflow=0)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(emulator: SlackEmulator, database_url: str) -> list[str]:
    """200 channels, each reading a one-chapter book every day; step 1 fell due a minute ago.

    Built through the services, in this process. Returns the channel ids.
    """
    settings = Settings(
        slack_bot_token=emulator.bot_token,
        slack_signing_secret=SECRET,
        slack_api_url=emulator.api_url,
        database_url=database_url,
    )
    runtime = build_runtime(settings)
    services = runtime.services
    team = emulator.team_id
    emulator.add_user(HOST_USER, "host", real_name="Multi Host")
    # Whole minutes (the cadence's time of day), one to two minutes ago: due, not late.
    due = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    cadence = Cadence.every(1, clock_time(due.hour, due.minute))
    channels = [f"C0MP{i:07d}" for i in range(GROUPS)]
    try:
        services.books.add(team, HOST_USER, BOOK, "Ursula K. Le Guin", "1")
        for i, channel in enumerate(channels):
            emulator.add_channel(channel, f"club-{i}", members=[HOST_USER, emulator.bot_user_id])
            services.plans.start(
                Caller(team, HOST_USER), channel, BOOK, cadence, 1, due.date(), "UTC"
            )
    finally:
        runtime.close()
    return channels


def step_states(database_url: str) -> Counter[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(StepRow.state, func.count()).group_by(StepRow.state))
            return Counter({state: count for state, count in rows})
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- the processes


@dataclass
class Serve:
    """One ``readalong serve --port 0`` subprocess."""

    name: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def url(self) -> str | None:
        for line in self.stdout.read_text(errors="replace").splitlines():
            if line.startswith(LISTENING):
                return line.removeprefix(LISTENING).split("/slack/events")[0]
        return None

    def alive(self) -> bool:
        return self.process.poll() is None

    def check_alive(self) -> bool:
        """True, or fail the test with the process's log if it has exited."""
        if not self.alive():
            raise AssertionError(
                f"process {self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )
        return True

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.stderr.read_text(errors="replace").splitlines()[-lines:])

    def role(self) -> str:
        url = self.url()
        assert url is not None, f"{self.name} is not listening"
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
            return str(json.load(response)["scheduler"])

    def wait_listening(self, timeout: float = 20.0) -> str:
        def listening() -> str:
            self.check_alive()
            return self.url() or ""

        return wait_for(listening, timeout, f"{self.name} to listen")

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=10)


def start_serve(name: str, database_url: str, emulator: SlackEmulator, workdir: Path) -> Serve:
    script = Path(sys.executable).with_name("readalong")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"READALONG_CONFIG", "HOST", "PORT"}
    }
    env.update(
        DATABASE_URL=database_url,
        SLACK_API_URL=emulator.api_url,
        SLACK_BOT_TOKEN=emulator.bot_token,
        SLACK_SIGNING_SECRET=SECRET,
        SCHEDULER_INTERVAL_SECONDS="1",
        CLAIM_LEASE_SECONDS=str(LEASE_SECONDS),
        REMINDER_LEAD_HOURS="0",  # one-step plans: no reminder DMs in the call log
        LOG_LEVEL="INFO",
    )
    stdout, stderr = workdir / f"{name}.out", workdir / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(script), "serve", "--host", "127.0.0.1", "--port", "0"],
            cwd=workdir,  # no stray config.yaml
            env=env,
            stdout=out,
            stderr=err,
        )
    return Serve(name, process, stdout, stderr)


def posted_step_ids(emulator: SlackEmulator) -> list[int]:
    """The step id of every prompt Slack accepted, in the order it accepted them."""
    ids = []
    for call in emulator.calls_to("chat.postMessage"):
        metadata = call.params.get("metadata") or {}
        if (
            call.status == 200
            and call.response.get("ok")
            and metadata.get("event_type") == "readalong_prompt"
        ):
            ids.append(int(metadata["event_payload"]["step_id"]))
    return ids


# ---------------------------------------------------------------------- the test


def claimants(database_url: str) -> set[str]:
    """The processes (worker ids) that have claimed at least one step."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            tokens = conn.scalars(select(StepRow.claimed_by).where(StepRow.claimed_by.is_not(None)))
            return {token.split(":")[0] for token in tokens if token}
    finally:
        engine.dispose()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_leader_killed_mid_run_every_step_posted_exactly_once(tmp_path: Path) -> None:
    emulator = SlackEmulator().start()
    processes: list[Serve] = []
    try:
        with scratch_database(tmp_path) as database_url:
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
                # Both schedule. Once A's queued claims are older than the lease, B takes
                # them over while A is alive and posting; A must leave those alone.
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
            serve.stop()
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

    def __getattr__(self, name: str) -> object:
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
    mine = PromptService(other.uow, harness.clock, slow, one_at_a_time)  # type: ignore[arg-type]

    report = mine.run_due()  # claims both steps, posts one; the other process takes both

    posted = Counter(posted_step_ids(harness.emulator))
    assert sorted(posted.values()) == [1, 1], posted
    assert len(report.posted) == 1 and len(report.lost) == 1
    assert step_states(harness.runtime.settings.database_url) == {
        StepState.POSTED.value: 2,
        StepState.PENDING.value: 4,
    }
