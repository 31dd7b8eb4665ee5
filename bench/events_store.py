"""Thread events stored per second, against a raw SQLAlchemy insert loop of the same rows.

``--events`` (10,000) replies in one prompt's thread, each a
:class:`~bot.domain.discussions.MessageEvent` with an event id of its own. The book, the
plan and its posted first step (whose ``message_ts`` is the thread) are made through the
services, in a fresh copy of the schema per measurement. Then, in the same run:

* **service**: ``DiscussionService.record_message`` for every event, one after the other,
  one transaction each, as the Events API listener does in production (claim the event
  id, find the thread's step, insert the message);
* **raw loop**: the same rows (one ``processed_events`` and one ``thread_messages`` row
  per event) added with plain ``session.add`` and committed, one transaction per event,
  on the same engine settings (for SQLite: WAL, ``synchronous=NORMAL``,
  ``BEGIN IMMEDIATE``): the floor the service's bookkeeping is compared with;
* **over HTTP** (``--events-http``, default the same count; 0 skips it): the same
  events as signed Events API requests to the real bolt app served by waitress
  (:class:`bot.serving.HttpServer`) in this process, from ``--concurrency`` (4) sender
  threads. The listener stores the event before it acks, so a 200 means stored.

Each figure is events/s over the timed loop, after ``--events-warmup`` (100) untimed
events. SQLite (a temporary file) always; PostgreSQL too when ``BENCH_DATABASE_URL`` (or
``TEST_DATABASE_URL``) names a throwaway database, whose ``public`` schema is replaced.
Target: ≥ 1,000 events/s through the service on SQLite.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bench.common import (
    CHANNEL,
    HOST,
    bench_settings,
    fresh_postgres,
    markdown_table,
    postgres_url_from_env,
    quiet_logging,
    redact,
    start_emulator,
    start_readalong,
    summarize,
)
from bot.bootstrap import build_services
from bot.domain.discussions import MessageChange, MessageEvent, stored_text
from bot.domain.model import Cadence, Caller, StepState
from bot.emulator.server import SlackEmulator
from bot.services.container import Services
from bot.storage.db import make_engine
from bot.storage.models import ProcessedEventRow, ThreadMessageRow
from tests.process_helpers import sqlite_database

TARGET_SQLITE = 1000.0  # events/s through the service
THREAD_TS = "1790000000.000100"
WORDS = [
    "desert",
    "spice",
    "water",
    "stillsuit",
    "sandworm",
    "prophecy",
    "empire",
    "house",
    "ecology",
    "melange",
    "fremen",
    "harkonnen",
    "atreides",
    "arrakis",
    "dune",
    "mentat",
    "guild",
    "navigator",
    "jihad",
    "bene",
    "gesserit",
    "fear",
    "mind",
    "killer",
    "litany",
    "sietch",
    "plan",
    "crysknife",
    "thumper",
    "ornithopter",
    "baron",
    "duke",
    "lady",
    "son",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("events_store")
    group.add_argument(
        "--events", type=int, default=10_000, help="thread replies stored per run (default 10000)"
    )
    group.add_argument(
        "--events-http",
        type=int,
        default=None,
        help="events sent over HTTP (default: as many as --events; 0 skips)",
    )
    group.add_argument(
        "--events-warmup",
        type=int,
        default=100,
        help="untimed events before each timed loop (default 100)",
    )


# ---------------------------------------------------------------------- the workload


def make_events(count: int, team_id: str, prefix: str) -> list[MessageEvent]:
    """``count`` replies in :data:`THREAD_TS`, ~25 words each, from 50 people."""
    rng = random.Random(20261130)
    events = []
    for i in range(count):
        text = f"reply {i}: " + " ".join(rng.choice(WORDS) for _ in range(25))
        events.append(
            MessageEvent(
                event_id=f"Ev{prefix}{i:08d}",
                team_id=team_id,
                channel_id=CHANNEL,
                ts=f"{1790000001 + i // 1000}.{prefix_micros(prefix)}{i % 1000:03d}",
                change=MessageChange.POSTED,
                thread_ts=THREAD_TS,
                user_id=f"U0READER{i % 50:03d}",
                text=text,
            )
        )
    return events


def prefix_micros(prefix: str) -> str:
    """Three digits that keep warm-up and timed events' ts apart."""
    return {"W": "100", "T": "200"}[prefix]


def seed_thread(services: Services, team_id: str) -> tuple[int, int]:
    """A book, a plan in :data:`CHANNEL` and its first step posted as :data:`THREAD_TS`.

    Returns (workspace id, step id).
    """
    services.books.add(team_id, HOST, "Dune", "Frank Herbert", "22")
    first = date.today() + timedelta(days=7)
    view = services.plans.start(
        Caller(team_id, HOST),
        CHANNEL,
        "Dune",
        Cadence.weekly(first.weekday(), clock_time(9)),
        2,
        first,
        "Europe/Berlin",
    )
    assert view.plan.id is not None
    uow = services.plans.uow
    with uow() as unit:
        plan = unit.plans.get(view.plan.id)
        assert plan is not None
        step = plan.step(1)
        step.state, step.message_ts = StepState.POSTED, THREAD_TS
        step.posted_at = services.clock.now()
        unit.plans.save(plan)
        unit.commit()
        assert step.id is not None
        return view.group.workspace_id, step.id


def count_rows(url: str) -> tuple[int, int]:
    """(thread_messages, processed_events) rows in ``url``'s database."""
    engine = make_engine(url, **({} if url.startswith("sqlite") else {"pool_size": 1}))
    try:
        with engine.connect() as conn:
            messages = conn.scalar(select(func.count()).select_from(ThreadMessageRow))
            events = conn.scalar(select(func.count()).select_from(ProcessedEventRow))
    finally:
        engine.dispose()
    return int(messages or 0), int(events or 0)


# ---------------------------------------------------------------------- the three loops


@dataclass
class Measured:
    method: str
    events: int
    seconds: float
    cpu_seconds: float  # this process's CPU time over the timed loop (all its threads)
    stored: tuple[int, int]  # thread_messages, processed_events after the run
    expected: int
    extra: dict[str, Any]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")

    @property
    def cpu_rate(self) -> float:
        return self.events / self.cpu_seconds if self.cpu_seconds > 0 else float("nan")


def measure_service(emulator: SlackEmulator, url: str, warmup: int, timed: int) -> Measured:
    services, dispose = build_services(bench_settings(emulator, url))
    try:
        seed_thread(services, emulator.team_id)
        record = services.discussions.record_message
        for event in make_events(warmup, emulator.team_id, "W"):
            assert record(event)
        events = make_events(timed, emulator.team_id, "T")
        started, cpu = time.perf_counter(), time.process_time()
        stored = sum(record(event) for event in events)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        dispose()
    if stored != timed:
        raise RuntimeError(f"record_message stored {stored} of {timed} events")
    return Measured("service", timed, seconds, cpu, count_rows(url), warmup + timed, {})


def measure_raw(emulator: SlackEmulator, url: str, warmup: int, timed: int) -> Measured:
    services, dispose = build_services(bench_settings(emulator, url))
    try:
        workspace_id, step_id = seed_thread(services, emulator.team_id)
    finally:
        dispose()
    engine = make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)

    def insert(event: MessageEvent) -> None:
        now = datetime.now(UTC)
        with factory() as session:
            session.add(ProcessedEventRow(event_id=event.event_id, received_at=now))
            session.add(
                ThreadMessageRow(
                    workspace_id=workspace_id,
                    step_id=step_id,
                    channel_id=event.channel_id,
                    ts=event.ts,
                    thread_ts=event.thread_ts,
                    user_id=event.user_id,
                    text=stored_text(event.text),
                    files=list(event.files),
                    reaction_count=0,
                    created_at=now,
                )
            )
            session.commit()

    try:
        for event in make_events(warmup, emulator.team_id, "W"):
            insert(event)
        events = make_events(timed, emulator.team_id, "T")
        started, cpu = time.perf_counter(), time.process_time()
        for event in events:
            insert(event)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        engine.dispose()
    return Measured("raw loop", timed, seconds, cpu, count_rows(url), warmup + timed, {})


def _envelope_event(event: MessageEvent) -> dict[str, Any]:
    """The ``event`` of an Events API callback for a reply, as Slack sends it."""
    return {
        "type": "message",
        "channel": event.channel_id,
        "user": event.user_id,
        "text": event.text,
        "ts": event.ts,
        "thread_ts": event.thread_ts,
        "event_ts": event.ts,
        "channel_type": "channel",
        "client_msg_id": f"{event.event_id}-msg",
    }


def measure_http(
    emulator: SlackEmulator, url: str, warmup: int, timed: int, senders: int
) -> Measured:
    readalong = start_readalong(emulator, url)
    try:
        seed_thread(readalong.runtime.services, emulator.team_id)
        statuses: dict[int, int] = {}
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def send_all(events: list[MessageEvent], record: bool) -> Callable[[int], None]:
            def sender(index: int) -> None:
                mine: list[float] = []
                codes: dict[int, int] = {}
                try:
                    for event in events[index::senders]:
                        try:
                            response = readalong.slack.event(
                                _envelope_event(event), event_id=event.event_id
                            )
                        except OSError as exc:
                            with lock:
                                errors.append(f"{type(exc).__name__}: {exc}")
                            continue
                        codes[response.status] = codes.get(response.status, 0) + 1
                        mine.append(response.elapsed_ms)
                finally:
                    readalong.slack.close()  # this thread's keep-alive connection
                if record:
                    with lock:
                        latencies.extend(mine)
                        for code, n in codes.items():
                            statuses[code] = statuses.get(code, 0) + n

            return sender

        def run_senders(events: list[MessageEvent], record: bool) -> tuple[float, float]:
            threads = [
                threading.Thread(target=send_all(events, record), args=(i,), name=f"sender-{i}")
                for i in range(senders)
            ]
            started, cpu = time.perf_counter(), time.process_time()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return time.perf_counter() - started, time.process_time() - cpu

        run_senders(make_events(warmup, emulator.team_id, "W"), record=False)
        seconds, cpu = run_senders(make_events(timed, emulator.team_id, "T"), record=True)
        readalong.drain()
    finally:
        readalong.close()
    ok = statuses.get(200, 0)
    extra = {
        "senders": senders,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors[:5],
        "error_count": len(errors),
        "latency": summarize(latencies),
    }
    return Measured("over HTTP", ok, seconds, cpu, count_rows(url), warmup + timed, extra)


# ---------------------------------------------------------------------- databases and report


@contextmanager
def _copies(backend: str) -> Iterator[Callable[[], str]]:
    """A factory of fresh, migrated databases of ``backend`` (each call: a new empty one)."""
    if backend == "SQLite":
        with _sqlite_copies() as fresh:
            yield fresh
        return
    postgres = postgres_url_from_env()
    assert postgres is not None
    yield lambda: fresh_postgres(postgres)


@contextmanager
def _sqlite_copies() -> Iterator[Callable[[], str]]:
    with ExitStack() as stack:
        yield lambda: stack.enter_context(sqlite_database())


def run(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logging()
    timed = int(getattr(args, "events", 10_000))
    warmup = int(getattr(args, "events_warmup", 100))
    http_events = getattr(args, "events_http", None)
    http_events = timed if http_events is None else int(http_events)
    senders = int(getattr(args, "concurrency", 4))
    backends = ["SQLite"] + (["PostgreSQL"] if postgres_url_from_env() else [])

    emulator = start_emulator()
    results: list[dict[str, Any]] = []
    try:
        for backend in backends:
            with _copies(backend) as fresh:
                measured: list[Measured] = []
                url = fresh()
                print(f"… {backend} ({redact(url)}): service", flush=True)
                measured.append(measure_service(emulator, url, warmup, timed))
                url = fresh()
                print(f"… {backend}: raw loop", flush=True)
                measured.append(measure_raw(emulator, url, warmup, timed))
                if http_events > 0:
                    url = fresh()
                    print(f"… {backend}: over HTTP, {senders} senders", flush=True)
                    measured.append(measure_http(emulator, url, warmup, http_events, senders))
            raw_rate = measured[1].rate
            for m in measured:
                results.append(
                    {
                        "backend": backend,
                        "method": m.method,
                        "events": m.events,
                        "seconds": round(m.seconds, 3),
                        "events_per_s": round(m.rate, 1),
                        "vs_raw": round(m.rate / raw_rate, 3),
                        "cpu_seconds": round(m.cpu_seconds, 3),
                        "events_per_cpu_s": round(m.cpu_rate, 1),
                        "thread_messages": m.stored[0],
                        "processed_events": m.stored[1],
                        "expected_rows": m.expected,
                        "all_stored_once": m.stored == (m.expected, m.expected),
                        **m.extra,
                    }
                )
    finally:
        emulator.stop()

    print()
    print(
        markdown_table(
            [
                "backend",
                "method",
                "events",
                "s",
                "events/s",
                "× raw",
                "events/CPU-s",
                "rows stored",
                "once each",
            ],
            [
                [
                    r["backend"],
                    r["method"],
                    r["events"],
                    r["seconds"],
                    r["events_per_s"],
                    r["vs_raw"],
                    r["events_per_cpu_s"],
                    f"{r['thread_messages']}/{r['expected_rows']}",
                    "yes" if r["all_stored_once"] else "NO",
                ]
                for r in results
            ],
        )
    )
    http_rows = [r for r in results if r["method"] == "over HTTP"]
    if http_rows:
        print()
        print(
            markdown_table(
                ["backend", "senders", "200s", "errors", "p50 ms", "p99 ms", "max ms"],
                [
                    [
                        r["backend"],
                        r["senders"],
                        r["statuses"].get("200", 0),
                        r["error_count"] + sum(n for k, n in r["statuses"].items() if k != "200"),
                        r["latency"]["p50_ms"],
                        r["latency"]["p99_ms"],
                        r["latency"]["max_ms"],
                    ]
                    for r in http_rows
                ],
            )
        )
    service_sqlite = next(
        r for r in results if r["backend"] == "SQLite" and r["method"] == "service"
    )
    met = service_sqlite["events_per_s"] >= TARGET_SQLITE
    print(
        f"\nTarget ≥ {TARGET_SQLITE:,.0f} events/s through the service on SQLite: "
        f"{service_sqlite['events_per_s']:,.1f} → {'met' if met else 'NOT met'}"
    )
    return {
        "events": timed,
        "warmup": warmup,
        "http_events": http_events,
        "target_events_per_s_sqlite": TARGET_SQLITE,
        "target_met": met,
        "results": results,
        "backends": backends,
    }
