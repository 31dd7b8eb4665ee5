"""Readalong against the Slack emulator, for the tests and the benchmarks alike.

* :class:`ServerProcess`: a server run as a subprocess (``readalong serve --port 0``, or a
  benchmark's reference app) that says ``… listening on URL/slack/events`` on stdout and
  logs to stderr; :func:`start_serve` starts Readalong the way the multi-process tests
  want it.
* The settings and the environment that point Readalong at a :class:`SlackEmulator`.
* Scratch databases: a migrated SQLite file, or a database of its own on the PostgreSQL
  server named by ``TEST_DATABASE_URL``.
* Seeding plans that are due now, and reading the outcome back from the emulator's call
  log and the database.

The benchmarks (``python -m bench``) import this module too, so that there is one way to
start and stop a server process. It lives with the tests because they run it on every
``make test`` on both databases; it imports nothing from pytest, so the benchmarks need
no test machinery.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.engine import make_url

from bot.bootstrap import Runtime, build_runtime
from bot.config import Settings
from bot.domain.model import Cadence, Caller
from bot.emulator.server import SlackEmulator
from bot.slack.blocks import PROMPT_EVENT
from bot.storage.db import make_engine, upgrade
from bot.storage.models import StepRow

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
#: What a server prints on stdout once it accepts connections.
LISTENING = re.compile(r"listening on (https?://\S+?)/slack/events")

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


# ---------------------------------------------------------------------- settings


def emulator_settings(
    emulator: SlackEmulator, database_url: str, *, secret: str, **overrides: Any
) -> Settings:
    """Readalong's settings (built in this process) for a workspace played by ``emulator``."""
    return Settings(
        slack_bot_token=emulator.bot_token,
        slack_signing_secret=secret,
        slack_api_url=emulator.api_url,
        database_url=database_url,
        **overrides,
    )


# The only variables a server process inherits: Readalong reads its settings from the
# environment (HOST, PORT, DATABASE_URL, DEFAULT_TIMEZONE, ...) and READALONG_CONFIG, so
# a stray one in the caller's environment must not leak in. libpq's own PG* ones may.
_INHERITED_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "SYSTEMROOT",
    "GIL_SWITCH_INTERVAL_MS",
)


def server_env(values: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment for a server process: the basics plus ``values``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in _INHERITED_ENV or key.startswith("PG")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


def readalong_env(
    emulator: SlackEmulator, database_url: str, *, secret: str, **settings: str
) -> dict[str, str]:
    """The environment of a ``readalong serve`` that talks to ``emulator``; ``settings``
    are more variables (``LOG_LEVEL="DEBUG"``), and may replace these."""
    return server_env(
        {
            "DATABASE_URL": database_url,
            "SLACK_API_URL": emulator.api_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": secret,
            **settings,
        }
    )


def console_script(name: str) -> str:
    """The console script ``name`` installed next to this interpreter (e.g. ``readalong``)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        raise RuntimeError(f"{path} not found: install the project into this environment")
    return str(path)


def readalong_argv(*options: str) -> list[str]:
    """``readalong serve`` on a free loopback port, plus ``options`` (``--no-scheduler``)."""
    return [console_script("readalong"), "serve", "--host", "127.0.0.1", "--port", "0", *options]


# ---------------------------------------------------------------------- the database


def psycopg_url(url: str) -> str:
    """psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def migrate(url: str, **engine_options: Any) -> None:
    """Bring the database at ``url`` to the latest schema (Alembic)."""
    engine = make_engine(url, **engine_options)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def wipe_public_schema(engine: Engine) -> None:
    """Drop and recreate PostgreSQL's ``public`` schema: every table, type and sequence."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@contextmanager
def sqlite_database(directory: Path | None = None) -> Iterator[str]:
    """A migrated SQLite file in ``directory``, else in a temporary directory removed after."""
    if directory is None:
        with (
            tempfile.TemporaryDirectory(prefix="readalong-") as temporary,
            sqlite_database(Path(temporary)) as url,
        ):
            yield url
        return
    url = f"sqlite:///{directory / 'readalong.db'}"
    migrate(url)
    yield url


@contextmanager
def scratch_database(tmp_path: Path, prefix: str = "readalong_mp") -> Iterator[str]:
    """A migrated database nobody else uses: a new one on the PostgreSQL server, or a file."""
    if not POSTGRES_URL:
        with sqlite_database(tmp_path) as url:
            yield url
        return
    server = make_url(psycopg_url(POSTGRES_URL))
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server.render_as_string(hide_password=False))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url, pool_size=1, max_overflow=0)
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


def process_memory(pid: int) -> dict[str, int]:
    """``VmRSS``, ``VmHWM``, ``RssAnon`` and ``RssFile`` of ``pid`` in KiB, from /proc."""
    wanted = {"VmRSS", "VmHWM", "RssAnon", "RssFile"}
    memory: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in wanted:
                memory[key] = int(value.split()[0])  # "123456 kB"
    return memory


class ServerProcess:
    """A server started as a subprocess that announces its URL on stdout.

    stdout is read by a thread for as long as the process lives (so it can never fill a
    pipe and block the server), which notes when the ``listening on`` line came. stderr,
    the log, goes to ``log_dir/<name>.err`` (kept), or to a temporary file that
    :meth:`close` removes. Starting does not wait: call :meth:`wait_listening`.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | Path,
        log_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.lines: list[str] = []  # stdout so far
        self._url: str | None = None
        self._ready_s: float | None = None
        self._said = threading.Event()  # the listening line came, or stdout closed
        if log_dir is None:
            handle, path = tempfile.mkstemp(prefix=f"{name.replace(' ', '-')}-", suffix=".err")
            os.close(handle)
            self.log_path, self._own_log = Path(path), True
        else:
            self.log_path, self._own_log = log_dir / f"{name}.err", False
        self.spawned_at = time.perf_counter()
        with self.log_path.open("ab") as log:  # append: reading it never moves the writer
            self.process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=dict(env),
                cwd=cwd,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        self._reader = threading.Thread(
            target=self._read_stdout, name=f"{name}-stdout", daemon=True
        )
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            match = LISTENING.search(line) if self._url is None else None
            if match:
                self._ready_s = time.perf_counter() - self.spawned_at
                self._url = match.group(1)
                self._said.set()
        self._said.set()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        """Where it listens (``http://127.0.0.1:PORT``); it must have said so already."""
        if self._url is None:
            raise RuntimeError(f"{self.name} is not listening (yet)")
        return self._url

    @property
    def ready_s(self) -> float:
        """Seconds from the spawn to the ``listening on`` line (read as it came)."""
        if self._ready_s is None:
            raise RuntimeError(f"{self.name} is not listening (yet)")
        return self._ready_s

    def alive(self) -> bool:
        return self.process.poll() is None

    def check_alive(self) -> bool:
        """True, or fail with the process's output if it has exited."""
        if not self.alive():
            raise AssertionError(
                f"process {self.name} exited with {self.process.returncode}:\n{self.output_tail()}"
            )
        return True

    def wait_listening(self, timeout: float = 20.0) -> str:
        """Wait for the ``listening on`` line; its URL. Fails if the process exits first."""
        deadline = time.monotonic() + timeout
        while self._url is None:
            if self._said.wait(max(0.0, min(deadline - time.monotonic(), 0.05))):
                if self._url is not None:
                    break
                time.sleep(0.02)  # stdout closed without the line: it is about to exit
            self.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name} did not say it was listening within {timeout:g} s"
                    + self.output_tail()
                )
        return self._url

    def log_text(self) -> str:
        """Everything it has logged (stderr) so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def output_tail(self, limit: int = 3000) -> str:
        """The end of its stdout and its log, for a failure message."""
        stdout = "\n".join(self.lines)[-limit:]
        return f"\n--- stdout ---\n{stdout}\n--- stderr ---\n{self.log_text()[-limit:]}"

    def wait_logged(self, text: str, timeout: float = 10.0) -> None:
        """Wait until the process has written ``text`` to its log (stderr)."""

        def logged() -> bool:
            self.check_alive()
            return text in self.log_text()

        wait_for(logged, timeout, f"{self.name} to log {text!r}")

    def role(self) -> str:
        """What ``/readyz`` says this process's scheduler is (``leader``, ``standby``, …)."""
        with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as response:
            return str(json.load(response)["scheduler"])

    def memory(self) -> dict[str, int]:
        """The process's memory figures (KiB), see :func:`process_memory`."""
        return process_memory(self.pid)

    def kill(self) -> None:
        """SIGKILL (if it still runs) and reap it."""
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL; returns the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(timeout=5)

    def close(self) -> None:
        """:meth:`stop`, then remove the log if it was a temporary file."""
        self.stop()
        self._reader.join(timeout=5)
        if self._own_log:
            with contextlib.suppress(OSError):
                self.log_path.unlink()


def start_serve(
    name: str,
    database_url: str,
    emulator: SlackEmulator,
    workdir: Path,
    *,
    secret: str,
    lease_seconds: int,
    **settings: str,
) -> ServerProcess:
    """``readalong serve`` with its scheduler ticking every second, on a free port, run in
    ``workdir`` (no stray config.yaml) and logging at INFO to ``workdir/<name>.err``.
    ``settings`` are more environment variables, and may replace these."""
    defaults = {
        "SCHEDULER_INTERVAL_SECONDS": "1",
        "CLAIM_LEASE_SECONDS": str(lease_seconds),
        "REMINDER_LEAD_HOURS": "0",  # one-step plans: no reminder DMs in the call log
        "LOG_LEVEL": "INFO",
    }
    env = readalong_env(emulator, database_url, secret=secret, **{**defaults, **settings})
    return ServerProcess(name, readalong_argv(), env=env, cwd=workdir, log_dir=workdir)


def posted_step_ids(emulator: SlackEmulator, since: int = 0) -> list[int]:
    """The step id of every prompt Slack accepted (after its first ``since`` posts), in the
    order it accepted them."""
    ids = []
    for call in emulator.calls_to("chat.postMessage")[since:]:
        metadata = call.params.get("metadata") or {}
        if (
            call.status == 200
            and call.response.get("ok")
            and metadata.get("event_type") == PROMPT_EVENT
        ):
            ids.append(int(metadata["event_payload"]["step_id"]))
    return ids


# ---------------------------------------------------------------------- seeding

HOST_USER = "U0MPHOST001"
BOOK = "The Left Hand of Darkness"


def seed_due_plans(
    runtime: Runtime,
    emulator: SlackEmulator,
    channels: Sequence[str],
    *,
    host: str,
    book: str = BOOK,
    add_book: bool = True,
    name: str = "club",
) -> list[int]:
    """In each of ``channels`` (new, named ``<name>-<i>``, with ``host`` and the bot in
    them), a plan reading one chapter of ``book`` every day, whose only step fell due a
    minute or two ago (due, not late). ``add_book=False``: it is on the shelf already.

    Built through ``runtime``'s services. Returns the plans' ids.
    """
    services = runtime.services
    team = emulator.team_id
    # Whole minutes (the cadence's time of day), one to two minutes ago: due, not late.
    due = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    cadence = Cadence.every(1, clock_time(due.hour, due.minute))
    if add_book:
        services.books.add(team, host, book, "Ursula K. Le Guin", "1")
    plan_ids = []
    for i, channel in enumerate(channels):
        emulator.add_channel(channel, f"{name}-{i}", members=[host, emulator.bot_user_id])
        view = services.plans.start(
            Caller(team, host), channel, book, cadence, 1, datetime.now(UTC).date(), "UTC"
        )
        assert view.plan.id is not None
        plan_ids.append(view.plan.id)
    # A plan never lays out a step in the past (its first slot may be tomorrow): set the
    # step's time to that minute, as a plan started a little earlier would have it.
    with runtime.engine.begin() as conn:
        conn.execute(update(StepRow).where(StepRow.plan_id.in_(plan_ids)).values(due_at=due))
    return plan_ids


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
    emulator.add_user(HOST_USER, "host", real_name="Multi Host")
    channels = [f"{prefix}{i:07d}" for i in range(groups)]
    runtime = build_runtime(emulator_settings(emulator, database_url, secret=secret))
    try:
        seed_due_plans(runtime, emulator, channels, host=HOST_USER, add_book=book)
    finally:
        runtime.close()
    return channels
