"""Work that waits on Slack, done many at a time: one scheduled tick may owe thousands of
posts (prompts, reminders, digests), and each waits 100-300 ms for Slack's answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Posts in flight at once, per process, unless configured (POSTING_WORKERS). Throughput
# is workers over Slack's latency, until one core is busy: measured against 150/400 ms
# (p50/p99), 32 threads posted 160/s, 64 190/s, 128 185/s (bench/prompt_fanout.py).
DEFAULT_WORKERS = 64


def fan_out(work: Callable[[T], R], items: Sequence[T], workers: int = DEFAULT_WORKERS) -> list[R]:
    """``work`` over ``items``, at most ``workers`` at a time; results in ``items``' order.
    ``work`` must catch what it can handle: an exception ends the fan-out with it."""
    if len(items) <= 1 or workers <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(
        max_workers=min(workers, len(items)), thread_name_prefix="fan-out"
    ) as pool:
        return list(pool.map(work, items))
