"""Logs (text or JSON, tokens redacted) and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "readalong_commands_total", "Slash commands received", ["command"], registry=REGISTRY
)
EVENTS = Counter(
    "readalong_events_total", "Events API deliveries", ["type", "outcome"], registry=REGISTRY
)
PROMPTS = Counter("readalong_prompts_total", "Prompt outcomes", ["outcome"], registry=REGISTRY)
SLACK_LATENCY = Histogram(
    "readalong_slack_api_seconds",
    "Slack Web API call latency",
    ["method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
SLACK_ERRORS = Counter(
    "readalong_slack_api_errors_total",
    "Slack Web API errors",
    ["method", "error"],
    registry=REGISTRY,
)
SCHEDULER_LAG = Gauge(
    "readalong_scheduler_lag_seconds",
    "How late the last tick's latest prompt was",
    registry=REGISTRY,
)
SCHEDULER_TICKS = Counter(
    "readalong_scheduler_ticks_total", "Scheduler ticks", ["role"], registry=REGISTRY
)

_SECRET = re.compile(r"xox[abpre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


def metrics_text() -> bytes:
    return generate_latest(REGISTRY)


class InstrumentedWebClient(WebClient):
    """A WebClient that times every call and counts errors (429s included) by method."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        started = time.perf_counter()
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            SLACK_ERRORS.labels(
                api_method, str(exc.response.get("error") or exc.response.status_code)
            ).inc()
            raise
        finally:
            SLACK_LATENCY.labels(api_method).observe(time.perf_counter() - started)


class RedactingFilter(logging.Filter):
    """Tokens never reach the logs, whatever a library prints."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET.search(message):
            record.msg = _SECRET.sub("[redacted]", message)
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = _SECRET.sub("[redacted]", self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
