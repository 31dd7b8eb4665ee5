"""Helpers for tests that run ``readalong serve`` as real subprocesses.

A scratch database (a new one on the PostgreSQL server named by ``TEST_DATABASE_URL``,
else a SQLite file), ``readalong serve --port 0`` processes pointed at an in-process
:class:`SlackEmulator`, and reading the outcome back from the emulator's call log and
the database.
"""

from __future__ import annotations

import json
import os
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

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from bot.bootstrap import build_runtime
from bot.config import Settings
from bot.domain.model import Cadence, Caller
from bot.emulator.server import SlackEmulator
from bot.storage.db import make_engine, upgrade
from bot.storage.models import StepRow

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
def scratch_database(tmp_path: Path, prefix: str = "readalong_mp") -> Iterator[str]:
    """A migrated database nobody else uses: a new one on the PostgreSQL server, or a file."""
    if not POSTGRES_URL:
        url = f"sqlite:///{tmp_path / 'readalong.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    server = make_url(_postgres_url(POSTGRES_URL))
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
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


def step_states(database_url: str) -> Counter[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(StepRow.state, func.count()).group_by(StepRow.state))
            return Counter({state: count for state, count in rows})
    finally:
        engine.dispose()


def claimants(database_url: str) -> set[str]:
    """The processes (worker ids) that have claimed at least one step."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            tokens = conn.scalars(select(StepRow.claimed_by).where(StepRow.claimed_by.is_not(None)))
            return {token.split(":")[0] for token in tokens if token}
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

    def log_text(self) -> str:
        return self.stderr.read_text(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

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

    def wait_logged(self, text: str, timeout: float = 10.0) -> None:
        """Wait until the process has written ``text`` to its log (stderr)."""

        def logged() -> bool:
            self.check_alive()
            return text in self.log_text()

        wait_for(logged, timeout, f"{self.name} to log {text!r}")

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=10)


def start_serve(
    name: str,
    database_url: str,
    emulator: SlackEmulator,
    workdir: Path,
    *,
    secret: str,
    lease_seconds: int,
    **settings: str,
) -> Serve:
    """Start ``readalong serve`` on a free port; ``settings`` are more environment variables."""
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
        SLACK_SIGNING_SECRET=secret,
        SCHEDULER_INTERVAL_SECONDS="1",
        CLAIM_LEASE_SECONDS=str(lease_seconds),
        REMINDER_LEAD_HOURS="0",  # one-step plans: no reminder DMs in the call log
        LOG_LEVEL="INFO",
    )
    env.update(settings)
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


# ---------------------------------------------------------------------- seeding

HOST_USER = "U0MPHOST001"
BOOK = "The Left Hand of Darkness"


def seed_groups(
    emulator: SlackEmulator,
    database_url: str,
    *,
    secret: str,
    groups: int,
    prefix: str = "C0MP",
    book: bool = True,
) -> list[str]:
    """``groups`` channels, each reading a one-chapter book every day; step 1 fell due a
    minute or two ago (due, not late). ``book=False``: an earlier call added the book.

    Built through the services, in this process. Returns the channel ids.
    """
    settings = Settings(
        slack_bot_token=emulator.bot_token,
        slack_signing_secret=secret,
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
    channels = [f"{prefix}{i:07d}" for i in range(groups)]
    plan_ids = []
    try:
        if book:
            services.books.add(team, HOST_USER, BOOK, "Ursula K. Le Guin", "1")
        for i, channel in enumerate(channels):
            emulator.add_channel(channel, f"club-{i}", members=[HOST_USER, emulator.bot_user_id])
            view = services.plans.start(
                Caller(team, HOST_USER), channel, BOOK, cadence, 1, datetime.now(UTC).date(), "UTC"
            )
            plan_ids.append(view.plan.id)
    finally:
        runtime.close()
    # A plan never lays out a step in the past (its first slot may be tomorrow): set the
    # step's time to that minute, as a plan started a little earlier would have it.
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(update(StepRow).where(StepRow.plan_id.in_(plan_ids)).values(due_at=due))
    finally:
        engine.dispose()
    return channels
