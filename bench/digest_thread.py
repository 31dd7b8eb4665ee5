"""Digest of a 10,000-message thread: time and peak memory. Targets: < 2 s and < 200 MB.

One step's prompt thread holds ``--digest-messages`` (10,000) replies of ~40 words from
``--digest-authors`` (200) people, a hundred of them deleted, plus 60 shared and 20
private reflections and 1,000 reactions (added through ``DiscussionService``, so the
reply counts are the ones production keeps). The replies are bulk-inserted: seeding is
not what is measured.

Measured, in this process, with the Slack emulator on loopback:

* **compose**: ``DigestService.compose_for_plan`` (load the step's messages, reflections
  and reaction counts; participants, highlights, themes via YAKE);
* **render**: ``bot.slack.blocks.digest_messages`` (Block Kit, split into ≤ 50 blocks);
* **post**: ``SlackNotifier.post_digest`` (permalinks of the highlights, then every
  message to the emulator);
* **end to end**: ``DigestService.post_on_demand`` (what ``/book summary`` runs), the
  figure the 2 s target is about.

Three rounds per backend: *cold* (the first digest in the process: imports YAKE and
NumPy; on the second backend that round is just *first*), *warm*,
and *warm under tracemalloc* (its times are inflated by tracing, so only its memory is
reported). Memory is given two ways: tracemalloc's peak of Python allocations during the
end-to-end call, and the process's RSS high-water mark (``VmHWM``, reset through
``/proc/self/clear_refs`` before each round where the kernel allows it) minus its RSS
before the round. The RSS figure includes everything in the process (the emulator storing
the posted messages, imported libraries), so it is the honest upper bound.
SQLite always; PostgreSQL too when ``BENCH_DATABASE_URL``/``TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, TypeVar

from sqlalchemy import insert

from bench.common import (
    CHANNEL,
    HOST,
    READER,
    bench_settings,
    fresh_postgres,
    markdown_table,
    postgres_url_from_env,
    quiet_logging,
    redact,
    start_emulator,
)
from bot.bootstrap import build_services
from bot.domain.commands import SummaryScope
from bot.domain.digests import DigestKind
from bot.domain.discussions import ReactionEvent
from bot.domain.model import Cadence, Caller, StepState, Visibility
from bot.services.container import Services
from bot.slack.blocks import digest_messages
from bot.slack.notifier import SlackNotifier
from bot.storage.db import make_engine
from bot.storage.models import ThreadMessageRow
from tests.process_helpers import sqlite_database

TARGET_SECONDS = 2.0
TARGET_MB = 200.0
THREAD_TS = "1791000000.000100"
WORDS = [
    "desert",
    "spice",
    "water",
    "stillsuit",
    "sandworm",
    "prophecy",
    "empire",
    "ecology",
    "melange",
    "fremen",
    "harkonnen",
    "atreides",
    "arrakis",
    "mentat",
    "guild",
    "navigator",
    "jihad",
    "gesserit",
    "litany",
    "sietch",
    "crysknife",
    "ornithopter",
    "baron",
    "duke",
    "politics",
    "religion",
    "power",
    "heroes",
    "messiah",
    "betrayal",
    "loyalty",
    "the",
    "and",
    "of",
    "a",
    "is",
    "really",
    "I",
    "think",
    "about",
]
T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("digest_thread")
    group.add_argument(
        "--digest-messages",
        type=int,
        default=10_000,
        help="replies in the step's thread (default 10000)",
    )
    group.add_argument(
        "--digest-authors",
        type=int,
        default=200,
        help="different people writing them (default 200)",
    )


# ---------------------------------------------------------------------- memory


def _status_kib(*keys: str) -> dict[str, int]:
    found: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in keys:
                found[key] = int(value.split()[0])
    return found


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------- seeding


def seed(services: Services, url: str, team_id: str, messages: int, authors: int) -> int:
    """The thread described in the module docstring; returns the plan id."""
    services.books.add(team_id, HOST, "Dune", "Frank Herbert", "22")
    first = date.today() - timedelta(days=1)
    view = services.plans.start(
        Caller(team_id, HOST),
        CHANNEL,
        "Dune",
        Cadence.weekly(first.weekday(), clock_time(9)),
        2,
        first + timedelta(days=7),
        "Europe/Berlin",
    )
    plan_id = view.plan.id
    assert plan_id is not None
    now = services.clock.now()
    with services.plans.uow() as unit:
        plan = unit.plans.get(plan_id)
        assert plan is not None
        step = plan.step(1)
        step.state, step.message_ts, step.posted_at = StepState.POSTED, THREAD_TS, now
        unit.plans.save(plan)
        unit.commit()
        step_id = step.id
    rng = random.Random(11)
    rows: list[dict[str, Any]] = []
    for i in range(messages):
        deleted = i % 100 == 99
        rows.append(
            {
                "workspace_id": view.group.workspace_id,
                "step_id": step_id,
                "channel_id": CHANNEL,
                "ts": f"{1791000001 + i // 1000}.{i % 1000:06d}",
                "thread_ts": THREAD_TS,
                "user_id": f"U0AUTH{i % authors:05d}",
                "text": None
                if deleted
                else f"reply {i}: " + " ".join(rng.choice(WORDS) for _ in range(40)),
                "files": [],
                "reaction_count": 0,
                "created_at": now,
                "deleted_at": now if deleted else None,
            }
        )
    engine = make_engine(url, **({} if url.startswith("sqlite") else {"pool_size": 1}))
    try:
        with engine.begin() as conn:
            conn.execute(insert(ThreadMessageRow), rows)
    finally:
        engine.dispose()
    for i in range(60):
        services.reflections.write(
            team_id,
            CHANNEL,
            f"U0AUTH{i % authors:05d}",
            f"Shared thought {i}: " + " ".join(rng.choice(WORDS) for _ in range(30)),
            step_number=1,
        )
    # Quoting needs consent: the thread's authors agree to be quoted, so highlights,
    # permalinks and themes are measured as before (the reader's private diary is not).
    for i in range(authors):
        services.reflections.set_member_flags(team_id, f"U0AUTH{i:05d}", quotable=True)
    for i in range(20):
        services.reflections.write(
            team_id,
            CHANNEL,
            READER,
            f"Private diary {i} zanzibar",
            step_number=1,
            visibility=Visibility.PRIVATE,
        )
    for i in range(1000):
        target = rows[rng.randrange(messages)]
        services.discussions.record_reaction(
            ReactionEvent(
                f"EvREACT{i:06d}",
                team_id,
                CHANNEL,
                str(target["ts"]),
                f"U0AUTH{i % authors:05d}",
                rng.choice(["heart", "fire", "tada", "eyes"]),
                True,
            )
        )
    return plan_id


# ---------------------------------------------------------------------- measuring


@dataclass
class Round:
    name: str
    compose_s: float
    render_s: float
    post_s: float
    end_to_end_s: float
    messages_posted: int
    blocks: int
    rss_before_mb: float
    rss_peak_mb: float
    rss_growth_mb: float
    hwm_reset: bool
    traced_peak_mb: float | None = None


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def measure_round(
    name: str,
    services: Services,
    notifier: SlackNotifier,
    team_id: str,
    plan_id: int,
    *,
    trace: bool,
) -> Round:
    gc.collect()
    reset = _reset_peak_rss()
    before = _status_kib("VmRSS", "VmHWM")
    if trace:
        tracemalloc.start()
    try:
        posted, end_to_end = _timed(
            lambda: services.digests.post_on_demand(
                Caller(team_id, "U0HOST", is_admin=True), CHANNEL, SummaryScope(DigestKind.STEP)
            )
        )
        traced = tracemalloc.get_traced_memory()[1] if trace else None
    finally:
        if trace:
            tracemalloc.stop()
    after = _status_kib("VmHWM")
    # The parts, one by one (after the end-to-end call, so they do not inflate its peak).
    digest, compose = _timed(lambda: services.digests.compose_for_plan(plan_id, DigestKind.STEP))
    messages, render = _timed(lambda: digest_messages(digest, {}))
    _, post = _timed(lambda: notifier.post_digest(CHANNEL, digest))
    base = before["VmRSS"] if reset else before["VmHWM"]
    return Round(
        name=name,
        compose_s=compose,
        render_s=render,
        post_s=post,
        end_to_end_s=end_to_end,
        messages_posted=posted.messages,
        blocks=sum(len(m.blocks) for m in messages),
        rss_before_mb=before["VmRSS"] / 1024,
        rss_peak_mb=after["VmHWM"] / 1024,
        rss_growth_mb=max(0, after["VmHWM"] - base) / 1024,
        hwm_reset=reset,
        traced_peak_mb=None if traced is None else traced / 2**20,
    )


@contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "SQLite":
        with sqlite_database() as url:
            yield url
        return
    postgres = postgres_url_from_env()
    assert postgres is not None
    yield fresh_postgres(postgres)


def run(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logging()
    messages = int(getattr(args, "digest_messages", 10_000))
    authors = int(getattr(args, "digest_authors", 200))
    backends = ["SQLite"] + (["PostgreSQL"] if postgres_url_from_env() else [])
    emulator = start_emulator()
    rounds: list[tuple[str, Round]] = []
    try:
        for backend in backends:
            with _database(backend) as url:
                print(f"… {backend} ({redact(url)}): seeding {messages:,} replies", flush=True)
                services, dispose = build_services(bench_settings(emulator, url))
                try:
                    plan_id = seed(services, url, emulator.team_id, messages, authors)
                    notifier = services.digests.notifier
                    assert isinstance(notifier, SlackNotifier)
                    # Only the first backend's first round imports YAKE/NumPy: "cold".
                    first = "cold" if backend == backends[0] else "first"
                    for name, trace in ((first, False), ("warm", False), ("traced", True)):
                        print(f"… {backend}: {name}", flush=True)
                        rounds.append(
                            (
                                backend,
                                measure_round(
                                    name, services, notifier, emulator.team_id, plan_id, trace=trace
                                ),
                            )
                        )
                finally:
                    dispose()
    finally:
        emulator.stop()

    print()
    print(
        markdown_table(
            [
                "backend",
                "round",
                "compose s",
                "render s",
                "post s",
                "end to end s",
                "messages",
                "blocks",
                "RSS peak − before MB",
                "tracemalloc peak MB",
            ],
            [
                [
                    backend,
                    r.name,
                    round(r.compose_s, 3),
                    round(r.render_s, 3),
                    round(r.post_s, 3),
                    "(traced)" if r.traced_peak_mb is not None else round(r.end_to_end_s, 3),
                    r.messages_posted,
                    r.blocks,
                    round(r.rss_growth_mb, 1),
                    "—" if r.traced_peak_mb is None else round(r.traced_peak_mb, 1),
                ]
                for backend, r in rounds
            ],
        )
    )
    verdicts = []
    for backend in backends:
        mine = {r.name: r for b, r in rounds if b == backend}
        worst_time = max(r.end_to_end_s for r in mine.values() if r.traced_peak_mb is None)
        worst_rss = max(r.rss_growth_mb for r in mine.values())
        traced = mine["traced"].traced_peak_mb or 0.0
        ok = worst_time < TARGET_SECONDS and max(worst_rss, traced) < TARGET_MB
        verdicts.append(
            {
                "backend": backend,
                "worst_end_to_end_s": round(worst_time, 3),
                "worst_rss_growth_mb": round(worst_rss, 1),
                "tracemalloc_peak_mb": round(traced, 1),
                "target_met": ok,
            }
        )
        print(
            f"\n{backend}: digest {worst_time:.2f} s (target < {TARGET_SECONDS:g} s), "
            f"memory {traced:.1f} MB traced / {worst_rss:.1f} MB RSS growth "
            f"(target < {TARGET_MB:g} MB) → {'met' if ok else 'NOT met'}"
        )
    return {
        "messages": messages,
        "authors": authors,
        "targets": {"seconds": TARGET_SECONDS, "mb": TARGET_MB},
        "rounds": [
            {"backend": backend, **{k: v for k, v in vars(r).items()}} for backend, r in rounds
        ],
        "verdicts": verdicts,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
