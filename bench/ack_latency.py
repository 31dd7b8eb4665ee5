"""Slash-command ack latency over HTTP at a steady request rate.

Targets, measured one after the other in one process, all served by waitress
(:class:`bot.serving.HttpServer`) and all driven by the same signed
:class:`bot.emulator.client.SlackAppClient`:

* a bare bolt app that only acks, in bolt's default configuration;
* the same bare app with ``process_before_response=True`` (the reference);
* Readalong's ``/book status`` (in a channel with a running plan) and ``/reflect <text>``,
  on SQLite, and on PostgreSQL when ``BENCH_DATABASE_URL`` (or ``TEST_DATABASE_URL``) is set.

The question it answers: is Readalong's p99 ack latency within ``--threshold`` (1.5×) of
the fast bare app's?
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bench.common import (
    CHANNEL,
    READER,
    SECRET,
    LazyOutcome,
    PacedRun,
    fresh_postgres,
    markdown_table,
    paced_run,
    postgres_url_from_env,
    quiet_logging,
    redact,
    sqlite_database,
    start_emulator,
    start_readalong,
    start_running_plan,
    summarize,
)
from bot.emulator.client import AppResponse, SlackAppClient
from bot.emulator.server import SlackEmulator
from bot.serving import HttpServer

REFERENCE = "bare bolt, process_before_response=True"
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
        help="how long to wait for Readalong's lazy work after each target (default 60)",
    )


@dataclass
class Target:
    name: str
    kind: str  # "bare" or "readalong"
    database: str | None
    command: str
    result: PacedRun
    lazy: LazyOutcome | None = None  # what the lazy listeners did (Readalong only)


def _bare_app(emulator: SlackEmulator, *, process_before_response: bool) -> App:
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=emulator.bot_token, base_url=emulator.api_url),
        token_verification_enabled=False,
        process_before_response=process_before_response,
    )

    def handle(ack: Ack) -> None:
        ack()

    app.command("/book")(handle)
    return app


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


def _bare_targets(
    emulator: SlackEmulator, args: argparse.Namespace, deadline: float
) -> Iterator[Target]:
    for fast in (False, True):
        name = REFERENCE if fast else "bare bolt, default"
        print(f"… {name}", flush=True)
        app = _bare_app(emulator, process_before_response=fast)
        server = HttpServer(SlackRequestHandler(app), "127.0.0.1", 0).start()
        slack = SlackAppClient(emulator, f"{server.url}/slack/events", SECRET)
        try:
            send = partial(
                slack.slash_command, "/book", "status", user_id=READER, channel_id=CHANNEL
            )
            result = _measure(send, args, deadline)
        finally:
            slack.close()
            server.stop()
        yield Target(name, "bare", None, "/book status", result)


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
            setup = start_readalong(emulator, url)
            try:
                start_running_plan(setup)
            finally:
                setup.close()
            for command, text in (("/book", "status"), ("/reflect", REFLECTION)):
                label = f"{command} {'status' if command == '/book' else '<text>'}"
                name = f"Readalong {backend} {label}"
                print(f"… {name} ({redact(url)})", flush=True)
                # A fresh process-like runtime per target, so nothing left over from one
                # target (pool state, stuck lazy work) carries into the next.
                readalong = start_readalong(emulator, url)
                try:
                    before = len(emulator.response_url_posts())
                    send = partial(
                        readalong.slack.slash_command,
                        command,
                        text,
                        user_id=READER,
                        channel_id=CHANNEL,
                    )
                    result = _measure(send, args, deadline)
                    # Let the lazy work finish so it does not overlap the next target.
                    lazy = readalong.settle(before, args.drain_seconds)
                finally:
                    readalong.close()
                    gc.collect()  # a connection a failed session leaked still holds a lock
                yield Target(name, "readalong", backend, label, result, lazy)


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
            *_bare_targets(emulator, args, deadline),
            *_readalong_targets(emulator, args, deadline),
        ]
    finally:
        emulator.stop()

    reference = next(t for t in targets if t.name == REFERENCE)
    reference_p99 = float(summarize(reference.result.latencies_ms)["p99_ms"])
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
                "lazy": None
                if target.lazy is None
                else {
                    "expected_replies": target.result.sent,
                    "replies": target.lazy.replies,
                    "apologies": target.lazy.failures,
                    "drained": target.lazy.drained,
                    "cancelled": target.lazy.cancelled,
                },
                "latencies_ms": [round(v, 3) for v in target.result.latencies_ms],
            }
        )

    print()
    print(
        f"Slash-command ack latency, client-side, {args.rate:g} requests/s, "
        f"{args.requests} requests per target after {args.warmup} warm-up"
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
                + (
                    f", still busy after {args.drain_seconds:g} s, {lazy.cancelled} cancelled"
                    if not lazy.drained
                    else ""
                )
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
            }
        )
        print(
            f"{'PASS' if ok else 'FAIL'}: {target.name} p99 {record['p99_ms']:.2f} ms is "
            f"{record['p99_ratio_to_reference']:.2f}× the {REFERENCE} p99 "
            f"{reference_p99:.2f} ms ({'≤' if ok else '>'} {args.threshold:g}×)"
        )

    return {
        "config": {
            "rate_per_s": args.rate,
            "requests": args.requests,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "server_threads": 8,
            "threshold": args.threshold,
            "reference": REFERENCE,
            "latency": "client-side, from sending the request to reading the whole response",
        },
        "targets": records,
        "verdicts": verdicts,
        "all_within_threshold": all(v["within_threshold"] for v in verdicts),
    }
