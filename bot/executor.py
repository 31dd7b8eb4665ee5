"""A thread pool that can wait for everything it was given (graceful shutdown, tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class DrainableExecutor(ThreadPoolExecutor):
    """``ThreadPoolExecutor`` whose :meth:`drain` blocks until all submitted work has finished.

    The work each listener hands over after its ack runs here (``SlackDeps.later``);
    SIGTERM drains it before exit so no in-flight post is dropped, and tests drain it
    instead of sleeping.
    """

    def __init__(self, max_workers: int = 8, thread_name_prefix: str = "readalong") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._idle:
            self._pending += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Any) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    @property
    def pending(self) -> int:
        return self._pending

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until no work is pending (work started meanwhile counts too). True if idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)
