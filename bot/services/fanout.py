"""Work that waits on Slack, done many at a time: one scheduled tick may owe thousands of
posts (prompts, reminders, digests), and each waits 100-300 ms for Slack's answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Posts in flight at once, per process, unless configured (POSTING_WORKERS). Throughput
# is workers over Slack's latency: 32 keep ~150-200 posts/s going at 150-200 ms a post.
DEFAULT_WORKERS = 32


def fan_out(work: Callable[[T], R], items: Sequence[T], workers: int = DEFAULT_WORKERS) -> list[R]:
    """``work`` over ``items``, at most ``workers`` at a time; results in ``items``' order.
    ``work`` must catch what it can handle: an exception ends the fan-out with it."""
    if len(items) <= 1 or workers <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(
        max_workers=min(workers, len(items)), thread_name_prefix="fan-out"
    ) as pool:
        return list(pool.map(work, items))
