"""Slash-command ack latency over HTTP at a steady request rate, each app in its own process.

Targets, measured one after the other, each served by waitress
(:class:`bot.serving.HttpServer`) in a process of its own, as in production, and all
driven by the same signed :class:`bot.emulator.client.SlackAppClient` from this process
(which also runs the Slack emulator the apps call back into):

* a bare bolt app that only acks (``python -m bench.servers bare-default``), in bolt's
  default configuration;
* the same bare app with ``process_before_response=True`` (``bare-fast``, the reference),
  measured twice — second and last — since its p99 rests on a handful of samples;
* ``readalong serve --no-scheduler``: ``/book status`` (in a channel with a running plan)
  and ``/reflect <text>``, on SQLite, and on PostgreSQL when ``BENCH_DATABASE_URL`` (or
  ``TEST_DATABASE_URL``) is set. A fresh process per target; before the next target
  starts, every command's lazy reply must have reached the emulator's response_url log.

The question it answers: is Readalong's p99 ack latency within ``--threshold`` (1.5×) of
the fast bare app's? The reference p99 is the mean of the two fast-bare runs' p99s.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.common import (
    CHANNEL,
    READER,
    SECRET,
    LazyOutcome,
    PacedRun,
    count_replies,
    fresh_postgres,
    markdown_table,
    paced_run,
    postgres_url_from_env,
    quiet_logging,
    redact,
    spawn_bare_app,
    spawn_readalong,
    start_emulator,
    start_running_plan,
    summarize,
)
from bot.emulator.client import AppResponse, SlackAppClient
from bot.emulator.server import SlackEmulator
from tests.process_helpers import ServerProcess, sqlite_database

REFERENCE = "bare bolt, process_before_response=True"
REFERENCE_RULE = "mean of the two fast-bare runs' p99s"
REFLECTION = "a steady thought about the opening chapters"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ack_latency")
    group.add_argument(
        "--threshold",
        type=float,
        default=1.5,
        help="the most Readalong's p99 may be, as a multiple of the fast bare app's (default 1.5)",
    )
    group.add_argument(
        "--drain-seconds",
        type=float,
        default=60.0,
        help="how long to wait for Readalong's lazy replies after each target (default 60)",
    )


@dataclass
class Target:
    name: str
    kind: str  # "bare", "reference" or "readalong"
    database: str | None
    command: str
    result: PacedRun
    server: dict[str, Any]  # pid, ready_s, memory after the run, exit code
    lazy: LazyOutcome | None = None  # what the lazy listeners did (Readalong only)


def _measure(
    send: Callable[[], AppResponse], args: argparse.Namespace, deadline: float
) -> PacedRun:
    return paced_run(
        send,
        rate=args.rate,
        requests=args.requests,
        warmup=args.warmup,
        concurrency=args.concurrency,
        deadline=deadline,
    )


def _server_info(server: ServerProcess) -> dict[str, Any]:
    info: dict[str, Any] = {"pid": server.pid, "ready_s": round(server.ready_s, 3)}
    with contextlib.suppress(OSError):
        info["memory_kib"] = server.memory()
    return info


def _bare_target(
    emulator: SlackEmulator, args: argparse.Namespace, deadline: float, *, fast: bool, run: int
) -> Target:
    name = f"{REFERENCE} (run {run})" if fast else "bare bolt, default"
    print(f"… {name}", flush=True)
    server = spawn_bare_app(emulator, "bare-fast" if fast else "bare-default")
    slack = SlackAppClient(emulator, f"{server.url}/slack/events", SECRET)
    try:
        send = partial(slack.slash_command, "/book", "status", user_id=READER, channel_id=CHANNEL)
        result = _measure(send, args, deadline)
        info = _server_info(server)
    finally:
        slack.close()
        server.close()  # SIGTERM, then kill
    info["exit_code"] = server.process.returncode
    return Target(name, "reference" if fast else "bare", None, "/book status", result, info)


@contextlib.contextmanager
def _databases() -> Iterator[Iterator[tuple[str, str]]]:
    """(backend, migrated URL) pairs: SQLite always, PostgreSQL when configured."""
    with sqlite_database() as sqlite_url:

        def urls() -> Iterator[tuple[str, str]]:
            yield "SQLite", sqlite_url
            postgres = postgres_url_from_env()
            if postgres:
                yield "PostgreSQL", fresh_postgres(postgres)

        yield urls()


def _readalong_targets(
    emulator: SlackEmulator, args: argparse.Namespace, deadline: float
) -> Iterator[Target]:
    with _databases() as databases:
        for backend, url in databases:
            with spawn_readalong(emulator, url) as setup:
                start_running_plan(setup)
            for command, text in (("/book", "status"), ("/reflect", REFLECTION)):
                label = f"{command} {'status' if command == '/book' else '<text>'}"
                name = f"Readalong {backend} {label}"
                print(f"… {name} ({redact(url)})", flush=True)
                # A fresh process per target, so nothing left over from one target (pool
                # state, queued lazy work) carries into the next.
                with spawn_readalong(emulator, url) as readalong:
                    before = count_replies(emulator)
                    send = partial(
                        readalong.slack.slash_command,
                        command,
                        text,
                        user_id=READER,
                        channel_id=CHANNEL,
                    )
                    result = _measure(send, args, deadline)
                    # Wait for every lazy reply, so that work does not overlap the next target.
                    lazy = readalong.settle(before, result.sent, args.drain_seconds)
                    info = _server_info(readalong.server)
                info["exit_code"] = readalong.server.process.returncode
                yield Target(name, "readalong", backend, label, result, info, lazy)


def _lazy_cell(target: Target) -> str:
    """``ok/sent``: commands the lazy listeners answered without an apology (incl. warm-up)."""
    if target.lazy is None:
        return "—"
    return f"{target.lazy.replies - target.lazy.failures}/{target.result.sent}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logging()
    deadline = time.monotonic() + args.max_seconds
    emulator = start_emulator()
    try:
        targets = [
            _bare_target(emulator, args, deadline, fast=False, run=1),
            _bare_target(emulator, args, deadline, fast=True, run=1),
            *_readalong_targets(emulator, args, deadline),
            _bare_target(emulator, args, deadline, fast=True, run=2),
        ]
    finally:
        emulator.stop()

    reference_runs = [
        float(summarize(t.result.latencies_ms)["p99_ms"]) for t in targets if t.kind == "reference"
    ]
    reference_p99 = sum(reference_runs) / len(reference_runs)
    rows: list[list[object]] = []
    records: list[dict[str, Any]] = []
    for target in targets:
        stats = summarize(target.result.latencies_ms)
        ratio = float(stats["p99_ms"]) / reference_p99 if reference_p99 > 0 else float("nan")
        rows.append(
            [
                target.name,
                stats["n"],
                stats["p50_ms"],
                stats["p90_ms"],
                stats["p99_ms"],
                stats["max_ms"],
                f"{ratio:.2f}×",
                _lazy_cell(target),
            ]
        )
        lateness = summarize(target.result.lateness_ms)
        records.append(
            {
                "target": target.name,
                "kind": target.kind,
                "database": target.database,
                "command": target.command,
                **stats,
                "p99_ratio_to_reference": round(ratio, 3),
                "failures": target.result.failures,
                "statuses": {str(k): v for k, v in sorted(target.result.statuses.items())},
                "errors": target.result.errors[:10],
                "sent_including_warmup": target.result.sent,
                "duration_s": round(target.result.duration_s, 3),
                "achieved_rate_per_s": round(target.result.sent / target.result.duration_s, 2)
                if target.result.duration_s > 0
                else None,
                "send_lateness_p99_ms": lateness["p99_ms"],
                "send_lateness_max_ms": lateness["max_ms"],
                "truncated_by_deadline": target.result.truncated,
                "server": target.server,
                "lazy": None
                if target.lazy is None
                else {
                    "expected_replies": target.result.sent,
                    "replies": target.lazy.replies,
                    "apologies": target.lazy.failures,
                    "all_arrived": target.lazy.drained,
                },
                "latencies_ms": [round(v, 3) for v in target.result.latencies_ms],
            }
        )

    print()
    print(
        f"Slash-command ack latency, client-side, {args.rate:g} requests/s, "
        f"{args.requests} requests per target after {args.warmup} warm-up; "
        "each app in its own process"
    )
    print()
    print(
        markdown_table(
            [
                "target",
                "n",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "p99 / fast bare p99",
                "lazy replies ok",
            ],
            rows,
        )
    )
    print()
    runs = " and ".join(f"{p99:.2f}" for p99 in reference_runs)
    print(
        f"Reference p99 = {REFERENCE_RULE} ({runs} ms) = {reference_p99:.2f} ms; "
        f"against the better run ({min(reference_runs):.2f} ms) every ratio would be "
        f"{reference_p99 / min(reference_runs):.2f}× as large."
    )
    verdicts: list[dict[str, Any]] = []
    for target, record in zip(targets, records, strict=True):
        if record["failures"] or record["truncated_by_deadline"]:
            print(
                f"! {target.name}: {record['failures']} failed requests"
                + (", stopped by --max-seconds" if record["truncated_by_deadline"] else "")
            )
        lazy = target.lazy
        if lazy is not None and (lazy.failures or lazy.replies < target.result.sent):
            print(
                f"! {target.name}: lazy work answered {lazy.replies - lazy.failures} of "
                f"{target.result.sent} commands ({lazy.failures} apologies"
                + (f", the rest missing after {args.drain_seconds:g} s" if not lazy.drained else "")
                + ")"
            )
        if target.kind != "readalong":
            continue
        ok = record["p99_ratio_to_reference"] <= args.threshold and not record["failures"]
        verdicts.append(
            {
                "target": target.name,
                "within_threshold": ok,
                "ratio": record["p99_ratio_to_reference"],
                "ratio_to_better_reference_run": round(record["p99_ms"] / min(reference_runs), 3),
            }
        )
        print(
            f"{'PASS' if ok else 'FAIL'}: {target.name} p99 {record['p99_ms']:.2f} ms is "
            f"{record['p99_ratio_to_reference']:.2f}× the {REFERENCE} p99 "
            f"{reference_p99:.2f} ms ({'≤' if ok else '>'} {args.threshold:g}×)"
        )
    unclean = sorted({t.name for t in targets if t.server.get("exit_code") not in (0, None)})
    if unclean:
        print(f"! exited non-zero on SIGTERM: {', '.join(unclean)}")

    return {
        "config": {
            "rate_per_s": args.rate,
            "requests": args.requests,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "server_threads": 8,
            "threshold": args.threshold,
            "reference": REFERENCE,
            "reference_p99_rule": REFERENCE_RULE,
            "reference_p99_runs_ms": reference_runs,
            "reference_p99_ms": round(reference_p99, 3),
            "processes": "each app under test in its own process (readalong serve / "
            "python -m bench.servers); emulator and client in the benchmark process",
            "latency": "client-side, from sending the request to reading the whole response",
        },
        "targets": records,
        "verdicts": verdicts,
        "all_within_threshold": all(v["within_threshold"] for v in verdicts),
    }
