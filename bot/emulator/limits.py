"""Slack's latency and rate limits, played by the emulator from configuration.

Latency is log-normal per method (a median and a 99th percentile, as Slack's are quoted);
``chat.postMessage`` is limited by token buckets per channel and per workspace, as Slack
limits it (about one message a second per channel, with short bursts, and a workspace-wide
ceiling). The emulator owns one :class:`LatencyModel` and one :class:`RateLimiter`.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: The standard normal's 99th percentile: p99 = p50 * exp(sigma * Z_99).
Z_99 = 2.3263


def lognormal_sigma(p50_ms: float, p99_ms: float) -> float:
    """The log-normal sigma whose median is ``p50_ms`` and 99th percentile ``p99_ms``."""
    if not p50_ms > 0:
        raise ValueError(f"p50 must be > 0 ms, not {p50_ms}")
    if not p99_ms >= p50_ms:
        raise ValueError(f"p99 ({p99_ms} ms) must be >= p50 ({p50_ms} ms)")
    return math.log(p99_ms / p50_ms) / Z_99


def sample_latency(rng: random.Random, p50_ms: float, p99_ms: float) -> float:
    """One log-normal delay in ms with median ``p50_ms`` and 99th percentile ``p99_ms``
    (constant when they are equal). Pure but for ``rng``, so the statistics can be tested."""
    sigma = lognormal_sigma(p50_ms, p99_ms)
    if sigma == 0:
        return p50_ms
    return p50_ms * math.exp(sigma * rng.gauss(0.0, 1.0))


class LatencyModel:
    """Per-method latency distributions drawn from one seeded ``random.Random``.

    The draws happen under a lock, so one seed gives one sequence of delays; the caller
    sleeps them outside every lock.
    """

    def __init__(
        self, latency: Mapping[str | None, tuple[float, float]] | None = None, seed: int = 0
    ) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._dists: dict[str | None, tuple[float, float]] = {}
        for method, (p50, p99) in (latency or {}).items():
            self.set(method, p50, p99)

    def set(self, method: str | None, p50_ms: float, p99_ms: float) -> None:
        """Calls to ``method`` (None: any method) wait p50/p99 ms; ``p50_ms=0`` removes it."""
        if p50_ms == 0:
            with self._lock:
                self._dists.pop(method, None)
            return
        lognormal_sigma(p50_ms, p99_ms)  # refuse a bad pair now, not on the next call
        with self._lock:
            self._dists[method] = (float(p50_ms), float(p99_ms))

    def reseed(self, seed: int) -> None:
        """Start the sequence of delays again from ``seed``."""
        with self._lock:
            self._rng = random.Random(seed)

    def delay(self, method: str) -> float:
        """Seconds the next call to ``method`` waits (0.0: none); a method's own wins."""
        with self._lock:
            dist = self._dists.get(method, self._dists.get(None))
            if dist is None:
                return 0.0
            return sample_latency(self._rng, *dist) / 1000.0


@dataclass(frozen=True)
class RateLimits:
    """What :meth:`SlackEmulator.set_rate_limits` takes; None disables that limit.

    ``workspace_burst`` None: one second's worth of the workspace rate (at least 1).
    """

    per_channel_per_second: float | None = 1.0
    channel_burst: int = 1
    per_workspace_per_minute: float | None = None
    workspace_burst: int | None = None

    def __post_init__(self) -> None:
        for name in ("per_channel_per_second", "per_workspace_per_minute"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0 (or None to disable), not {value}")
        for name in ("channel_burst", "workspace_burst"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")


class _Bucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` a second."""

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self.rate = rate
        self.capacity = float(capacity)
        self.tokens = float(capacity)
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until a token is free (0.0: one is free now), after refilling."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class RateLimiter:
    """``chat.postMessage`` token buckets per (team, channel) and per team.

    Nothing is limited until :meth:`configure` is called; ``clock`` is monotonic seconds
    (injectable so tests move time instead of sleeping).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: RateLimits | None = None
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._limited = 0

    def configure(self, limits: RateLimits | None) -> None:
        """Apply ``limits`` (None: no limits) with every bucket full again."""
        with self._lock:
            self._limits = limits
            self._buckets.clear()

    @property
    def limited(self) -> int:
        """How many calls were answered 429 by these limits."""
        with self._lock:
            return self._limited

    def _bucket(self, key: tuple[str, ...], rate: float, capacity: int, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, capacity, now)
        return bucket

    def admit(self, team_id: str, channel: str) -> int | None:
        """Take a token from the channel's and the team's bucket, or, if either is empty,
        take none and return the whole seconds (at least 1) until both have one."""
        with self._lock:
            limits = self._limits
            if limits is None:
                return None
            now = self._clock()
            buckets: list[_Bucket] = []
            if limits.per_channel_per_second is not None:
                buckets.append(
                    self._bucket(
                        ("channel", team_id, channel),
                        limits.per_channel_per_second,
                        limits.channel_burst,
                        now,
                    )
                )
            if limits.per_workspace_per_minute is not None:
                rate = limits.per_workspace_per_minute / 60.0
                burst = limits.workspace_burst or max(1, math.ceil(rate))
                buckets.append(self._bucket(("team", team_id), rate, burst, now))
            wait = max((b.wait(now) for b in buckets), default=0.0)
            if wait > 0:
                self._limited += 1
                return max(1, math.ceil(wait - 1e-9))
            for bucket in buckets:
                bucket.tokens -= 1
            return None


# ---------------------------------------------------------------------- configuration

LATENCY_ENV = "SLACK_EMULATOR_LATENCY"
SEED_ENV = "SLACK_EMULATOR_SEED"
RATE_LIMITS_ENV = "SLACK_EMULATOR_RATE_LIMITS"


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what}: {text!r} is not a finite number")
    return value


def parse_latency(text: str) -> dict[str | None, tuple[float, float]]:
    """``chat.postMessage=150/400,*=20/60`` → ``{"chat.postMessage": (150, 400), None: (20,
    60)}``: ms p50/p99 per method, ``*`` any method; ``=150`` alone is a constant 150 ms."""
    out: dict[str | None, tuple[float, float]] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        method, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not method or not value:
            raise ValueError(f"{LATENCY_ENV}: {item!r} is not METHOD=P50/P99 (ms)")
        p50_text, _, p99_text = value.partition("/")
        p50 = _number(p50_text.strip(), f"{LATENCY_ENV}: {method} p50")
        p99 = _number(p99_text.strip(), f"{LATENCY_ENV}: {method} p99") if p99_text else p50
        try:
            lognormal_sigma(p50, p99)
        except ValueError as exc:
            raise ValueError(f"{LATENCY_ENV}: {method}: {exc}") from None
        out[None if method == "*" else method] = (p50, p99)
    return out


def parse_seed(text: str) -> int:
    """``SLACK_EMULATOR_SEED``: an integer."""
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{SEED_ENV}: {text!r} is not an integer") from None


_PER = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0}


def _rate(text: str, key: str, unit: float) -> float | None:
    """``1/s`` or ``600/min`` as a rate per ``unit`` seconds; ``off``/``none`` → None."""
    if text.lower() in ("off", "none"):
        return None
    count, sep, per = text.partition("/")
    if not sep or per.strip().lower() not in _PER:
        raise ValueError(f"{RATE_LIMITS_ENV}: {key}={text!r} is not N/s, N/min or off")
    value = _number(count.strip(), f"{RATE_LIMITS_ENV}: {key}")
    if not value > 0:
        raise ValueError(f"{RATE_LIMITS_ENV}: {key} must be > 0 (or off), not {text!r}")
    return value / _PER[per.strip().lower()] * unit


def _burst(text: str, key: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{RATE_LIMITS_ENV}: {key}={text!r} is not an integer") from None
    if value < 1:
        raise ValueError(f"{RATE_LIMITS_ENV}: {key} must be at least 1, not {value}")
    return value


def parse_rate_limits(text: str) -> RateLimits:
    """``channel=1/s,channel_burst=3,workspace=600/min,workspace_burst=50`` (any of them;
    the rest as :class:`RateLimits` defaults them). ``channel=off`` lifts the channel limit;
    ``off`` alone lifts both."""
    if text.strip().lower() in ("off", "none"):
        return RateLimits(per_channel_per_second=None)
    fields: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not value:
            raise ValueError(f"{RATE_LIMITS_ENV}: {item!r} is not KEY=VALUE")
        if key not in ("channel", "channel_burst", "workspace", "workspace_burst"):
            raise ValueError(
                f"{RATE_LIMITS_ENV}: unknown key {key!r} "
                "(channel, channel_burst, workspace, workspace_burst)"
            )
        fields[key] = value
    defaults = RateLimits()
    return RateLimits(
        per_channel_per_second=(
            _rate(fields["channel"], "channel", 1.0)
            if "channel" in fields
            else defaults.per_channel_per_second
        ),
        channel_burst=(
            _burst(fields["channel_burst"], "channel_burst")
            if "channel_burst" in fields
            else defaults.channel_burst
        ),
        per_workspace_per_minute=(
            _rate(fields["workspace"], "workspace", 60.0) if "workspace" in fields else None
        ),
        workspace_burst=(
            _burst(fields["workspace_burst"], "workspace_burst")
            if "workspace_burst" in fields
            else None
        ),
    )
