"""Fault injection: make the next N matching Web API calls fail like Slack under load,
or make every matching call slow (:meth:`FaultInjector.slow_down`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

_DEFAULT_ERRORS = {
    429: "ratelimited",
    500: "fatal_error",
    502: "service_unavailable",
    503: "service_unavailable",
    504: "request_timeout",
}


@dataclass
class Fault:
    """One armed fault: ``remaining`` more calls (to ``method``, or any) answer ``status``."""

    remaining: int
    status: int
    retry_after: int
    method: str | None
    error: str | None

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and (self.method is None or self.method == method)

    def reply(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, extra headers, JSON body) for one faulted call."""
        error = self.error or _DEFAULT_ERRORS.get(self.status, "fatal_error")
        headers: dict[str, str] = {}
        if self.status == 429:
            headers["Retry-After"] = str(self.retry_after)
        return self.status, headers, {"ok": False, "error": error}


class FaultInjector:
    """Thread-safe queue of armed faults, consumed in the order they were armed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._latency: dict[str | None, float] = {}

    def arm(
        self,
        n: int,
        *,
        status: int = 429,
        retry_after: int = 1,
        method: str | None = None,
        error: str | None = None,
    ) -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        if status < 400:
            raise ValueError("a fault needs an HTTP error status")
        with self._lock:
            self._faults.append(Fault(n, status, retry_after, method, error))

    def take(self, method: str) -> Fault | None:
        """The fault to apply to this call (and count it used), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method):
                    fault.remaining -= 1
                    self._faults = [f for f in self._faults if f.remaining > 0]
                    return fault
            return None

    def pending(self) -> int:
        """How many faulted calls are still armed."""
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def slow_down(self, seconds: float, method: str | None = None) -> None:
        """Every later call to ``method`` (or to any method) waits ``seconds`` first.

        A method's own latency wins over the any-method one; ``seconds=0`` removes it.
        """
        if not seconds >= 0:
            raise ValueError("seconds must be >= 0")
        with self._lock:
            if seconds == 0:
                self._latency.pop(method, None)
            else:
                self._latency[method] = float(seconds)

    def latency(self, method: str) -> float:
        """How long a call to ``method`` is held before it is handled (0.0: not at all)."""
        with self._lock:
            return self._latency.get(method, self._latency.get(None, 0.0))

    def clear(self) -> None:
        """Disarm every fault and remove every latency."""
        with self._lock:
            self._faults.clear()
            self._latency.clear()
