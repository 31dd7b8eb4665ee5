"""Cold start and idle memory of ``readalong serve`` (and of a bare bolt app, for scale).

Each run spawns a fresh process — ``readalong serve --port 0 --no-scheduler`` on a
migrated database, or ``python -m bench.servers bare-fast`` — and measures:

* **ready**: from spawn to the ``… listening on …`` line on its stdout;
* **/healthz**: from spawn to the first ``GET /healthz`` answered 200 (polled every 5 ms
  once the process said it was listening; the bare app has no /healthz, so its figure is
  the first answered slash command instead);
* **idle RSS**: ``VmRSS`` from ``/proc/<pid>/status`` one second after that, with nothing
  sent yet (``VmHWM``, the peak so far, alongside).

The last Readalong run then serves ``--load-commands`` ``/book status`` commands (in a
channel with a running plan) and waits for every lazy reply, and its RSS is read again.

Then ``readalong tick`` (what cron runs every minute) is run ``--tick-runs`` times on the
same database, with a running plan whose next step is a week away (nothing due): the
time from spawn to exit, and the process's peak RSS (``ru_maxrss`` from ``wait4``).

SQLite always; PostgreSQL too when ``BENCH_DATABASE_URL`` (or ``TEST_DATABASE_URL``) is set.
The first run of each target may pay for a cold page cache; later runs do not.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from bench.common import (
    CHANNEL,
    READER,
    SECRET,
    ReadalongProcess,
    bench_settings,
    count_replies,
    fresh_postgres,
    markdown_table,
    paced_run,
    postgres_url_from_env,
    quiet_logging,
    redact,
    spawn_bare_app,
    spawn_readalong_server,
    start_emulator,
    start_running_plan,
    wait_for_replies,
)
from bot.bootstrap import build_runtime
from bot.domain.model import Cadence, Caller
from bot.emulator.client import SlackAppClient
from bot.emulator.server import SlackEmulator
from tests.process_helpers import (
    ServerProcess,
    console_script,
    readalong_env,
    sqlite_database,
)

IDLE_SECONDS = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("serve_startup")
    group.add_argument(
        "--startup-runs",
        type=int,
        default=5,
        help="fresh processes per target (default 5)",
    )
    group.add_argument(
        "--tick-runs",
        type=int,
        default=5,
        help="`readalong tick` runs per database, nothing due (default 5)",
    )
    group.add_argument(
        "--load-commands",
        type=int,
        default=200,
        help="/book status commands sent before the after-load RSS reading (default 200)",
    )


def _get_ok(url: str, path: str) -> bool:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _poll(check: Callable[[], bool], spawned_at: float, timeout: float = 60.0) -> float:
    """Seconds from ``spawned_at`` until ``check()`` first held (polled every 5 ms)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not answering after {timeout:g} s")
        time.sleep(0.005)
    return time.perf_counter() - spawned_at


def _measure_start(
    server: ServerProcess, check: Callable[[], bool], samples: list[dict[str, Any]]
) -> None:
    answered_s = _poll(check, server.spawned_at)
    time.sleep(IDLE_SECONDS)
    memory = server.memory()
    samples.append(
        {
            "ready_ms": round(server.ready_s * 1000, 1),
            "healthz_ms": round(answered_s * 1000, 1),
            "idle_rss_kib": memory["VmRSS"],
            "idle_hwm_kib": memory["VmHWM"],
            "idle_anon_kib": memory.get("RssAnon"),
        }
    )


def _bare_runs(emulator: SlackEmulator, runs: int) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    for _ in range(runs):
        server = spawn_bare_app(emulator, "bare-fast")
        slack = SlackAppClient(emulator, f"{server.url}/slack/events", SECRET)
        try:

            def answered(slack: SlackAppClient = slack) -> bool:
                try:
                    return (
                        slack.slash_command(
                            "/book", "status", user_id=READER, channel_id=CHANNEL
                        ).status
                        == 200
                    )
                except OSError:
                    return False

            _measure_start(server, answered, samples)
        finally:
            slack.close()
            server.close()
    return samples


def _readalong_runs(
    emulator: SlackEmulator, url: str, runs: int, load_commands: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    after_load: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="readalong-serve-") as cwd:
        for index in range(runs):
            server = spawn_readalong_server(emulator, url, cwd=cwd)
            try:
                _measure_start(server, partial(_get_ok, server.url, "/healthz"), samples)
                if index == runs - 1 and load_commands > 0:
                    after_load = _load(emulator, server, load_commands)
            finally:
                server.close()
    return samples, after_load


def _load(emulator: SlackEmulator, server: ServerProcess, commands: int) -> dict[str, Any]:
    """Seed a plan, send ``commands`` /book status, wait for the replies, read RSS again."""
    slack = SlackAppClient(emulator, f"{server.url}/slack/events", SECRET)
    readalong = ReadalongProcess(emulator, server, slack)
    try:
        start_running_plan(readalong)
        before = count_replies(emulator)
        send = partial(slack.slash_command, "/book", "status", user_id=READER, channel_id=CHANNEL)
        result = paced_run(send, rate=100.0, requests=commands, warmup=0)
        replies = wait_for_replies(emulator, before + result.sent, 60.0) - before
        time.sleep(IDLE_SECONDS)
        memory = server.memory()
    finally:
        slack.close()
    return {
        "commands": result.sent,
        "replies": replies,
        "rss_kib": memory["VmRSS"],
        "hwm_kib": memory["VmHWM"],
    }


def _seed_plan_not_due(emulator: SlackEmulator, url: str) -> None:
    """A book and a plan in :data:`CHANNEL` whose first step is a week away."""
    from datetime import UTC, datetime, timedelta
    from datetime import time as clock_time

    runtime = build_runtime(bench_settings(emulator, url))
    try:
        services = runtime.services
        services.books.add(emulator.team_id, READER, "Tick Book", "Bench Author", "12")
        services.plans.start(
            Caller(emulator.team_id, READER),
            TICK_CHANNEL,
            "Tick Book",
            Cadence.weekly(0, clock_time(9)),
            1,
            datetime.now(UTC).date() + timedelta(days=7),
            "Europe/Berlin",
        )
    finally:
        runtime.close()


TICK_CHANNEL = "C0BENCHTICK"


def _tick_runs(emulator: SlackEmulator, url: str, runs: int) -> list[dict[str, Any]]:
    """``readalong tick`` ``runs`` times: seconds from spawn to exit, and peak RSS."""
    emulator.add_channel(TICK_CHANNEL, "bench-tick", members=[READER, emulator.bot_user_id])
    _seed_plan_not_due(emulator, url)
    env = readalong_env(emulator, url, secret=SECRET, LOG_LEVEL="WARNING")
    samples: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="readalong-tick-") as cwd:
        for _ in range(runs):
            with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as out:
                started = time.perf_counter()
                process = subprocess.Popen(
                    [console_script("readalong"), "tick"],
                    env=env,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                )
                _pid, status, usage = os.wait4(process.pid, 0)
                elapsed = time.perf_counter() - started
                process.returncode = os.waitstatus_to_exitcode(status)
                out.seek(0)
                said = out.read()
            if process.returncode != 0 or "posted 0" not in said:
                raise RuntimeError(f"readalong tick exited {process.returncode}: {said!r}")
            samples.append({"tick_ms": round(elapsed * 1000, 1), "max_rss_kib": usage.ru_maxrss})
    return samples


def _mib(kib: float) -> float:
    return kib / 1024


def run(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logging()
    runs = max(1, args.startup_runs)
    emulator = start_emulator()
    targets: list[dict[str, Any]] = []
    ticks: list[dict[str, Any]] = []
    try:
        print("… bare bolt, process_before_response=True", flush=True)
        targets.append(
            {
                "target": "bare bolt (python -m bench.servers bare-fast)",
                "database": None,
                "samples": _bare_runs(emulator, runs),
                "after_load": None,
            }
        )
        with sqlite_database() as sqlite_url:
            databases = [("SQLite", sqlite_url)]
            postgres = postgres_url_from_env()
            if postgres:
                databases.append(("PostgreSQL", fresh_postgres(postgres)))
            for backend, url in databases:
                print(f"… readalong serve, {backend} ({redact(url)})", flush=True)
                samples, after_load = _readalong_runs(emulator, url, runs, args.load_commands)
                targets.append(
                    {
                        "target": f"readalong serve, {backend}",
                        "database": backend,
                        "samples": samples,
                        "after_load": after_load,
                    }
                )
                if args.tick_runs > 0:
                    print(f"… readalong tick, {backend}", flush=True)
                    ticks.append(
                        {
                            "target": f"readalong tick, {backend}",
                            "database": backend,
                            "samples": _tick_runs(emulator, url, args.tick_runs),
                        }
                    )
    finally:
        emulator.stop()

    rows: list[list[object]] = []
    for target in targets:
        samples = target["samples"]
        ready = [s["ready_ms"] for s in samples]
        healthz = [s["healthz_ms"] for s in samples]
        rss = [_mib(s["idle_rss_kib"]) for s in samples]
        target["summary"] = {
            "ready_ms_median": statistics.median(ready),
            "healthz_ms_median": statistics.median(healthz),
            "healthz_ms_min": min(healthz),
            "healthz_ms_max": max(healthz),
            "healthz_ms_first": healthz[0],
            "idle_rss_mib_median": round(statistics.median(rss), 1),
            "idle_rss_mib_max": round(max(rss), 1),
        }
        after = target["after_load"]
        rows.append(
            [
                target["target"],
                len(samples),
                statistics.median(ready),
                statistics.median(healthz),
                min(healthz),
                max(healthz),
                healthz[0],
                round(statistics.median(rss), 1),
                f"{_mib(after['rss_kib']):.1f} ({after['replies']}/{after['commands']})"
                if after
                else "—",
            ]
        )

    print()
    print(
        f"Cold start (spawn → answering) and idle memory, {runs} fresh processes per target; "
        f"RSS {IDLE_SECONDS:g} s after the first answer"
    )
    print()
    print(
        markdown_table(
            [
                "target",
                "runs",
                "ready line ms (median)",
                "answering ms (median)",
                "min",
                "max",
                "first run",
                "idle RSS MiB (median)",
                f"RSS MiB after {args.load_commands} commands (replies)",
            ],
            rows,
        )
    )
    print()
    print(
        "answering = GET /healthz 200 for readalong serve; "
        "the first acked slash command for the bare app (it has no /healthz)."
    )
    if ticks:
        tick_rows: list[list[object]] = []
        for tick in ticks:
            times = [s["tick_ms"] for s in tick["samples"]]
            peaks = [_mib(s["max_rss_kib"]) for s in tick["samples"]]
            tick["summary"] = {
                "tick_ms_median": statistics.median(times),
                "tick_ms_min": min(times),
                "tick_ms_max": max(times),
                "max_rss_mib_median": round(statistics.median(peaks), 1),
            }
            tick_rows.append(
                [
                    tick["target"],
                    len(times),
                    statistics.median(times),
                    min(times),
                    max(times),
                    round(statistics.median(peaks), 1),
                ]
            )
        print()
        print("`readalong tick` with nothing due, spawn → exit (what cron pays every minute)")
        print()
        print(
            markdown_table(
                ["target", "runs", "ms (median)", "min", "max", "peak RSS MiB (median)"],
                tick_rows,
            )
        )
    return {
        "ticks": ticks,
        "config": {
            "tick_runs": args.tick_runs,
            "runs": runs,
            "idle_seconds": IDLE_SECONDS,
            "load_commands": args.load_commands,
            "command": "readalong serve --port 0 --no-scheduler (LOG_LEVEL=WARNING)",
            "memory": "/proc/<pid>/status VmRSS (VmHWM = peak so far), KiB",
        },
        "targets": targets,
    }
