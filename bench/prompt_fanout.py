"""Prompt fan-out: 1,000 groups due the same minute, posted against the emulator.

Each group is a channel reading a one-chapter book every day, its only step due a
minute ago, built through the services. Then the prompt service runs in this process,
as the scheduler's tick would (``PromptService.run_due``, again while anything is still
due), and the emulator's call log is counted: posts per second, duplicates (a step id
posted twice; must be 0) and misses (a step never posted, or not marked posted).
Target: every prompt posted within ``--fanout-target`` seconds (10).

On SQLite (a temporary file), and on PostgreSQL too when ``BENCH_DATABASE_URL`` (or
``TEST_DATABASE_URL``) names a throwaway database, whose ``public`` schema is replaced.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    HOST,
    SECRET,
    fresh_postgres,
    markdown_table,
    postgres_url_from_env,
    quiet_logging,
    redact,
    start_emulator,
)
from bot.bootstrap import Runtime, build_runtime
from bot.domain.model import StepState
from bot.emulator.server import SlackEmulator
from bot.storage.models import StepRow
from tests.process_helpers import (
    emulator_settings,
    posted_step_ids,
    seed_due_plans,
    sqlite_database,
)

BOOK = "The Dispossessed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("prompt_fanout")
    group.add_argument(
        "--fanout-groups", type=int, default=1000, help="groups due at once (default 1000)"
    )
    group.add_argument(
        "--fanout-target",
        type=float,
        default=10.0,
        help="seconds within which every prompt must be posted (default 10)",
    )


@contextmanager
def _databases() -> Iterator[list[tuple[str, str]]]:
    with sqlite_database() as sqlite_url:
        found = [("sqlite", sqlite_url)]
        postgres = postgres_url_from_env()
        if postgres:
            found.append(("postgresql", postgres))
        yield found


def _seed(runtime: Runtime, emulator: SlackEmulator, groups: int, tag: str) -> None:
    """``groups`` channels, each with one step that fell due a minute or two ago."""
    channels = [f"C0F{tag}{i:06d}" for i in range(groups)]
    seed_due_plans(runtime, emulator, channels, host=HOST, book=BOOK, name=f"fanout-{tag.lower()}")


def _marked_posted(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return int(
            conn.scalar(select(func.count()).where(StepRow.state == StepState.POSTED.value)) or 0
        )


def measure(
    name: str, url: str, emulator: SlackEmulator, groups: int, max_seconds: float
) -> dict[str, Any]:
    """Seed ``groups`` due groups on ``url``, post them all, and count what Slack got."""
    if name == "postgresql":
        fresh_postgres(url)
    # One-step daily plans: keep reminder DMs out of the run.
    settings = emulator_settings(emulator, url, secret=SECRET, reminder_lead_hours=0)
    runtime = build_runtime(settings)
    try:
        seeded = time.perf_counter()
        _seed(runtime, emulator, groups, name[0].upper())
        seed_s = time.perf_counter() - seeded
        before = len(emulator.calls_to("chat.postMessage"))
        prompts = runtime.services.prompts
        ticks = retrying = 0
        started = time.perf_counter()
        # One run_due() normally posts everything (it loops over batches); tick again
        # while a tick still made progress, as the scheduler would.
        while time.perf_counter() - started < max_seconds:
            report = prompts.run_due()
            ticks += 1
            retrying += len(report.retrying)
            if not (report.posted or report.recovered):
                break
        wall = time.perf_counter() - started
        posted = Counter(posted_step_ids(emulator, before))
        marked = _marked_posted(runtime)
    finally:
        runtime.close()
    return {
        "database": name,
        "url": redact(url),
        "groups": groups,
        "seed_s": round(seed_s, 2),
        "ticks": ticks,
        "wall_s": round(wall, 3),
        "posted": len(posted),
        "posts_per_s": round(len(posted) / wall, 1) if wall > 0 else None,
        "duplicates": sum(n - 1 for n in posted.values()),
        "missed": groups - len(posted),
        "retrying": retrying,
        "marked_posted": marked,
        "workers": prompts.policy.workers,
        "batch": prompts.policy.batch,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    quiet_logging()
    groups = int(getattr(args, "fanout_groups", 1000))
    target = float(getattr(args, "fanout_target", 10.0))
    max_seconds = float(getattr(args, "max_seconds", 600.0))
    results = []
    emulator = start_emulator()
    try:
        with _databases() as databases:
            for name, url in databases:
                results.append(measure(name, url, emulator, groups, max_seconds))
    finally:
        emulator.stop()
    for result in results:
        result["within_target"] = (
            result["missed"] == 0
            and result["duplicates"] == 0
            and result["marked_posted"] == groups
            and result["wall_s"] <= target
        )
    print()
    print(
        f"{groups} groups due the same minute, posted by PromptService.run_due() "
        f"against the emulator; target: all within {target:g} s, 0 duplicates"
    )
    print()
    print(
        markdown_table(
            ["database", "posted", "wall s", "posts/s", "duplicates", "missed", "ticks", "ok"],
            [
                [
                    r["database"],
                    r["posted"],
                    r["wall_s"],
                    r["posts_per_s"],
                    r["duplicates"],
                    r["missed"],
                    r["ticks"],
                    "yes" if r["within_target"] else "NO",
                ]
                for r in results
            ],
        )
    )
    return {
        "config": {"groups": groups, "target_s": target},
        "results": results,
        "passed": all(r["within_target"] for r in results),
    }


def main() -> int:
    from bench.common import RESULTS_DIR, save_results

    parser = argparse.ArgumentParser(prog="python -m bench.prompt_fanout", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()
    data = run(args)
    path = save_results("prompt_fanout", data, RESULTS_DIR)
    print(f"\nSaved {path}")
    return 0 if data["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
