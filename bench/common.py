"""Helpers every benchmark shares: statistics, output, pacing, and a Readalong under test.

Everything runs on 127.0.0.1 and nothing here talks to the outside world. The Slack
emulator and the client that plays Slack live in the benchmark's process; the app under
test is either served in that process too (:func:`start_readalong`, for benchmarks that
need its internals) or runs in a process of its own, as in production
(:func:`spawn_readalong`, :func:`spawn_bare_app`). Processes, settings and scratch SQLite
databases come from :mod:`tests.process_helpers`, which the tests use as well.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.bootstrap import Runtime, build_runtime
from bot.config import Settings
from bot.emulator.client import AppResponse, SlackAppClient
from bot.emulator.server import SlackEmulator
from bot.serving import HttpServer
from bot.slack.listeners.common import GENERIC_FAILURE
from bot.storage.db import make_engine
from tests.process_helpers import (
    ServerProcess,
    emulator_settings,
    migrate,
    psycopg_url,
    readalong_argv,
    readalong_env,
    server_env,
    wipe_public_schema,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"

SECRET = "bench-signing-secret"
CHANNEL = "C0BENCHCLUB"
HOST = "U0BENCHHOST"
READER = "U0BENCHREAD"

# ---------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (0–100) with linear interpolation between ranks (NumPy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: Sequence[float]) -> dict[str, float | int]:
    """Count, mean, p50/p90/p99 and max of a list of milliseconds (rounded to µs)."""
    n = len(values)
    return {
        "n": n,
        "mean_ms": round(sum(values) / n, 3) if n else math.nan,
        "p50_ms": round(percentile(values, 50), 3),
        "p90_ms": round(percentile(values, 90), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3) if n else math.nan,
    }


# ---------------------------------------------------------------------- output


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; numbers are right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [
        max([len(header)] + [len(row[i]) for row in cells]) for i, header in enumerate(headers)
    ]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if num else "-" * (w + 2)
            for w, num in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(list(headers)), rule, *(line(row) for row in cells)])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.2f}"
    return str(value)


def machine_info() -> dict[str, Any]:
    """Where the figures came from: enough to tell two machines' results apart."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save_results(name: str, data: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    """Write ``{benchmark, machine, ...data}`` to ``directory/name.json``; returns the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    document = {"benchmark": name, "machine": machine_info(), **data}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def quiet_logging() -> None:
    """Keep the app's INFO chatter out of the benchmark's output (warnings still show)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("bot", "slack_bolt", "slack_sdk", "waitress", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)


# ---------------------------------------------------------------------- pacing


@dataclass
class PacedRun:
    """What one paced run measured (warm-up requests excluded)."""

    latencies_ms: list[float]
    statuses: dict[int, int]
    errors: list[str]
    lateness_ms: list[float]  # how long after its scheduled time each request was sent
    sent: int  # including warm-up
    duration_s: float
    truncated: bool  # stopped early by the deadline

    @property
    def failures(self) -> int:
        return len(self.errors) + sum(n for status, n in self.statuses.items() if status != 200)


@dataclass
class _Sample:
    status: int | None = None
    elapsed_ms: float = math.nan
    late_ms: float = math.nan
    error: str | None = None


def paced_run(
    send: Callable[[], AppResponse],
    *,
    rate: float,
    requests: int,
    warmup: int,
    concurrency: int = 4,
    deadline: float | None = None,
) -> PacedRun:
    """Call ``send`` ``warmup + requests`` times at a steady ``rate`` per second (open loop).

    Request *i* is due at ``start + i / rate``; a pool of ``concurrency`` sender threads
    (each with its own keep-alive connection) sends it then, so one slow answer does not
    delay the ones after it. The latency is the client's: from sending the request to
    having read the whole response. ``deadline`` (a ``time.monotonic()`` value) stops
    scheduling new requests once passed.
    """
    if rate <= 0 or requests < 1 or warmup < 0 or concurrency < 1:
        raise ValueError("rate must be > 0, requests ≥ 1, warmup ≥ 0, concurrency ≥ 1")
    total = warmup + requests
    samples = [_Sample() for _ in range(total)]
    futures: list[Future[None]] = []

    def job(index: int, due: float) -> None:
        sample = samples[index]
        sample.late_ms = (time.perf_counter() - due) * 1000
        try:
            response = send()
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out
            sample.error = f"{type(exc).__name__}: {exc}"
            return
        sample.status, sample.elapsed_ms = response.status, response.elapsed_ms

    truncated = False
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-send") as pool:
        for index in range(total):
            if deadline is not None and time.monotonic() > deadline:
                truncated = True
                break
            due = started + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            futures.append(pool.submit(job, index, due))
        for future in futures:
            future.result()
    duration = time.perf_counter() - started

    counted = samples[warmup : len(futures)]
    statuses: dict[int, int] = {}
    for sample in counted:
        if sample.status is not None:
            statuses[sample.status] = statuses.get(sample.status, 0) + 1
    return PacedRun(
        latencies_ms=[s.elapsed_ms for s in counted if s.status == 200],
        statuses=statuses,
        errors=[s.error for s in counted if s.error is not None],
        lateness_ms=[s.late_ms for s in counted],
        sent=len(futures),
        duration_s=duration,
        truncated=truncated,
    )


# ---------------------------------------------------------------------- the system under test


def start_emulator() -> SlackEmulator:
    """A loopback Slack with a host, a reader and one book-club channel the bot is in."""
    emulator = SlackEmulator()
    emulator.add_user(HOST, "host", real_name="Bench Host", tz="Europe/Berlin")
    emulator.add_user(READER, "reader", real_name="Bench Reader", tz="Europe/Berlin")
    emulator.add_channel(CHANNEL, "bench-club", members=[HOST, READER, emulator.bot_user_id])
    return emulator.start()


def bench_settings(emulator: SlackEmulator, database_url: str, **overrides: Any) -> Settings:
    """Readalong's settings in the benchmarks (Berlin unless ``overrides`` say otherwise)."""
    options: dict[str, Any] = {"default_timezone": "Europe/Berlin", **overrides}
    return emulator_settings(emulator, database_url, secret=SECRET, **options)


def postgres_url_from_env() -> str | None:
    """``BENCH_DATABASE_URL``, else ``TEST_DATABASE_URL``: a throwaway PostgreSQL database."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    return psycopg_url(url) if url else None


def fresh_postgres(url: str) -> str:
    """Drop and recreate the ``public`` schema of ``url``'s database, then migrate it."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        wipe_public_schema(engine)
    finally:
        engine.dispose()
    migrate(url, pool_size=1, max_overflow=0)
    return url


def redact(url: str) -> str:
    """A database URL fit for printing and saving (no password)."""
    return make_url(url).render_as_string(hide_password=True)


@dataclass
class LazyOutcome:
    """What the work after the acks did: replies posted, apologies among them."""

    drained: bool
    replies: int
    failures: int
    cancelled: int


@dataclass
class Readalong:
    """Readalong built by its composition root and served over HTTP in this process, plus a
    client for it."""

    emulator: SlackEmulator
    runtime: Runtime
    server: HttpServer
    slack: SlackAppClient
    _closed: bool = field(default=False, repr=False)

    def drain(self, timeout: float = 60.0) -> None:
        """Wait for the work handed on after each ack; raise if it is not done in ``timeout`` s."""
        if not self.runtime.executor.drain(timeout):
            raise RuntimeError(f"work after the acks still running after {timeout:.0f} s")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.slack.close()
        self.server.stop()
        self.runtime.close()


def start_readalong(emulator: SlackEmulator, database_url: str, *, threads: int = 8) -> Readalong:
    """Readalong on a migrated ``database_url``, as ``readalong start`` builds it."""
    runtime = build_runtime(bench_settings(emulator, database_url))
    server = HttpServer(runtime.wsgi, "127.0.0.1", 0, threads=threads).start()
    slack = SlackAppClient(emulator, f"{server.url}/slack/events", SECRET)
    return Readalong(emulator, runtime, server, slack)


# ---------------------------------------------------------------------- apps in their own process
# The process itself is :class:`tests.process_helpers.ServerProcess`, which the tests use too.


def _listening(server: ServerProcess, timeout: float = 60.0) -> ServerProcess:
    """``server`` once it said it listens; stopped, and the error raised, if it does not."""
    try:
        server.wait_listening(timeout)
    except BaseException:
        server.close()
        raise
    return server


def spawn_bare_app(emulator: SlackEmulator, kind: str) -> ServerProcess:
    """``python -m bench.servers <kind>`` (``bare-default`` or ``bare-fast``) on a free port."""
    argv = [
        sys.executable,
        "-m",
        "bench.servers",
        kind,
        "--port",
        "0",
        "--signing-secret",
        SECRET,
        "--api-url",
        emulator.api_url,
        "--token",
        emulator.bot_token,
    ]
    env = server_env({"PYTHONPATH": str(REPO_ROOT)})
    return _listening(ServerProcess(kind, argv, env=env, cwd=REPO_ROOT))


def spawn_readalong_server(
    emulator: SlackEmulator, database_url: str, *, cwd: str | Path, ready_timeout: float = 60.0
) -> ServerProcess:
    """``readalong serve --port 0 --no-scheduler`` on a migrated ``database_url``, logging
    warnings only.

    ``cwd`` should hold no ``config.yaml`` (Readalong would read it); a temporary
    directory is a good choice.
    """
    env = readalong_env(
        emulator,
        database_url,
        secret=SECRET,
        DEFAULT_TIMEZONE="Europe/Berlin",
        SCHEDULER_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    server = ServerProcess("readalong serve", readalong_argv("--no-scheduler"), env=env, cwd=cwd)
    return _listening(server, ready_timeout)


def count_replies(emulator: SlackEmulator) -> int:
    """How many posts the app made to response_urls so far."""
    return len(emulator.response_url_posts())


def wait_for_replies(emulator: SlackEmulator, expected: int, timeout: float) -> int:
    """Poll the emulator until ``expected`` response_url posts arrived or ``timeout`` s passed."""
    deadline = time.monotonic() + timeout
    while True:
        count = count_replies(emulator)
        if count >= expected or time.monotonic() >= deadline:
            return count
        time.sleep(0.05 if expected - count < 5 else 0.2)


@dataclass
class ReadalongProcess:
    """``readalong serve`` in its own process, plus a client for it."""

    emulator: SlackEmulator
    server: ServerProcess
    slack: SlackAppClient
    _closed: bool = field(default=False, repr=False)

    def settle(self, replies_before: int, expected: int, timeout: float) -> LazyOutcome:
        """Wait up to ``timeout`` s until ``expected`` more replies arrived; count apologies."""
        wait_for_replies(self.emulator, replies_before + expected, timeout)
        posts = self.emulator.response_url_posts()[replies_before:]
        failures = sum(GENERIC_FAILURE in json.dumps(post["payload"]) for post in posts)
        return LazyOutcome(len(posts) >= expected, len(posts), failures, 0)

    def command(
        self, command: str, text: str, *, user_id: str = HOST, timeout: float = 30.0
    ) -> str:
        """Send a slash command, wait for its reply, and return the text the bot replied with."""
        before = count_replies(self.emulator)
        response = self.slack.slash_command(command, text, user_id=user_id, channel_id=CHANNEL)
        if response.status != 200:
            raise RuntimeError(f"{command} {text!r} answered {response.status}: {response.text}")
        if wait_for_replies(self.emulator, before + 1, timeout) <= before:
            raise RuntimeError(f"{command} {text!r}: no reply within {timeout:g} s")
        posts = self.emulator.response_url_posts()[before:]
        return json.dumps([post["payload"] for post in posts], ensure_ascii=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.slack.close()
        self.server.close()


def start_running_plan(readalong: ReadalongProcess) -> None:
    """Put a book on the shelf and start a plan in :data:`CHANNEL`, through slash commands."""
    added = readalong.command("/book", "add Dune | Frank Herbert | 22")
    if "Dune" not in added:
        raise RuntimeError(f"/book add did not add the book: {added}")
    first = date.today() + timedelta(days=7)
    readalong.command(
        "/book", f"start Dune every monday at 09:00 2 chapters from {first.isoformat()}"
    )
    status = readalong.command("/book", "status", user_id=READER)
    if "no reading plan" in status.lower() or "Dune" not in status:
        raise RuntimeError(f"no running plan after /book start: {status}")


@contextmanager
def spawn_readalong(emulator: SlackEmulator, database_url: str) -> Iterator[ReadalongProcess]:
    """``readalong serve`` on a migrated ``database_url``, stopped (SIGTERM, then kill) after."""
    with tempfile.TemporaryDirectory(prefix="readalong-serve-") as cwd:
        server = spawn_readalong_server(emulator, database_url, cwd=cwd)
        readalong = ReadalongProcess(
            emulator, server, SlackAppClient(emulator, f"{server.url}/slack/events", SECRET)
        )
        try:
            yield readalong
        finally:
            readalong.close()
