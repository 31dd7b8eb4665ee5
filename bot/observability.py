"""Logs (text or JSON, tokens redacted) and Prometheus metrics."""

from __future__ import annotations

import ast
import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.domain.errors import DomainError

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

#: Slack tokens: bot, user, app-level, refresh and rotating ones (``xoxe.xoxb-…``).
_SECRET = re.compile(r"\bxox[a-z]?(?:\.xox[a-z])?-[A-Za-z0-9-]+|\bx(?:app|wfp)-[A-Za-z0-9-]+")


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


#: What marks the start of a request or response body in a library's log message; the
#: rest of the message is withheld. (bolt: a bad signature, a middleware that did not
#: answer, its debug "Responding with"; slack_sdk: every request and response at DEBUG.)
_BODY_DUMPS = (
    (re.compile(r"(Invalid request signature detected)\b.*", re.S), r"\1 (details withheld)"),
    (re.compile(r"(without providing a response for the request)\b.*", re.S), r"\1 (withheld)"),
    (re.compile(r"(Responding with status: \S+) body: .*", re.S), r"\1 (body withheld)"),
    (re.compile(r"(Skipped self event)\b.*", re.S), r"\1 (withheld)"),
    (re.compile(r"(Unhandled request) \(\{.*", re.S), r"\1 (details withheld)"),
    (
        re.compile(r"(Sending a request - url: \S+?),? (?:query_params|body): .*", re.S),
        r"\1 (parameters and body withheld)",
    ),
    (
        re.compile(r"(Received the following response - status: \w+)\b.*", re.S),
        r"\1 (headers and body withheld)",
    ),
    (re.compile(r"\b(request body:?).*", re.S | re.I), r"\1 (withheld)"),
    (re.compile(r"\b(body: ).*", re.S), r"\1(withheld)"),
    # Socket Mode at DEBUG: every envelope received and every ack sent.
    (re.compile(r"\b(message: )[\[{\"'].*", re.S), r"\1(withheld)"),
    # http.client quotes the path of a URL it refuses (a response_url: its credential).
    (re.compile(r"(URL can't contain control characters\.)[^\n]*"), r"\1 (URL withheld)"),
    # SQLAlchemy errors quote the statement's parameters: member text among them.
    (re.compile(r"\[parameters: [^\n]*\]"), "[parameters: withheld]"),
)
_UNHANDLED = re.compile(r"Unhandled request \((\{.*?\})\)(?:\n---\n.*)?\Z", re.S)
_RESPONSE_URL = re.compile(
    r"""(["']?response_url["']?\s*[:=]\s*)(?:"[^"]*"|'[^']*'|[^\s,&}]+)""", re.I
)
#: Any URL but a Web API method's (its path is harmless and useful) loses its path and
#: query: response_url and hooks.slack.com webhooks carry a live credential in the path.
_URL = re.compile(r"(?P<base>(?:https?|wss?)://[^/\s'\"<>]+)(?P<rest>/[^\s'\"<>)\]},]*)?")
#: …and a response_url's or webhook's path on its own (http.client quotes only the path of
#: a URL it refuses): ``/commands/T…/…``, ``/actions/T…``, ``/services/T…``, ``/workflows/T…``.
_HOOK_PATH = re.compile(
    r"(?<![A-Za-z])((?:commands|actions|services|workflows)/T[A-Z0-9]+/)[^\s'\"<>)\]},]+"
)
_API_PATH = re.compile(r"/api/[A-Za-z0-9_.]+/?")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,49}")
_COMMAND = re.compile(r"/[a-z0-9_-]{1,31}")


def _url(match: re.Match[str]) -> str:
    rest = match.group("rest") or ""
    path = rest.split("?", 1)[0]
    if not rest or _API_PATH.fullmatch(path):
        return match.group("base") + path
    return match.group("base") + "/[redacted]"


def _unhandled(match: re.Match[str]) -> str:
    """bolt's "Unhandled request ({…filtered body…})": keep only the kind of request (its
    filtered body still carries button values, dialog answers, ids chosen by callers)."""
    try:
        filtered = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return "Unhandled request (details withheld)"
    if not isinstance(filtered, dict):
        return "Unhandled request (details withheld)"
    kept = [f"type={filtered['type']}"] if _is_kind(filtered.get("type")) else []
    command = filtered.get("command")
    if isinstance(command, str) and _COMMAND.fullmatch(command):
        kept.append(f"command={command}")
    for nested in ("event", "view"):
        inner = filtered.get(nested)
        if isinstance(inner, dict):
            kept += [
                f"{nested}.{k}={inner[k]}" for k in ("type", "subtype") if _is_kind(inner.get(k))
            ]
    return "Unhandled request (" + ", ".join(kept) + ")"


def _is_kind(value: object) -> bool:
    """A request, event or view type (``block_actions``, ``pin_added``), not typed text."""
    return isinstance(value, str) and _KIND.fullmatch(value) is not None


def scrub(text: str) -> str:
    """``text`` without request or response bodies, response URLs, webhooks or tokens."""
    if "Unhandled request (" in text:
        text = _UNHANDLED.sub(_unhandled, text)
    for pattern, replacement in _BODY_DUMPS:
        text = pattern.sub(replacement, text)
    text = _RESPONSE_URL.sub(r"\1[redacted]", text)
    text = _URL.sub(_url, text)
    text = _HOOK_PATH.sub(r"\1[redacted]", text)
    return _SECRET.sub("[redacted]", text)


_WITHHELD = "(a message to the member, withheld)"
_plain = logging.Formatter()


def format_exception(exc_info: Any) -> str:
    """A traceback without the words of any refusal in it.

    A refusal (:class:`DomainError`) quotes what the member typed ("“…” is already on the
    shelf"); it is chained into the traceback of whatever failed while handling it (most
    often: telling the member). Its class and where it was raised stay; its message goes.
    """
    text = _plain.formatException(exc_info)
    seen: set[int] = set()
    exc: BaseException | None = exc_info[1] if isinstance(exc_info, tuple) else None
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DomainError) and str(current):
            text = text.replace(f": {current}", f": {_WITHHELD}")
        pending += [current.__cause__, current.__context__]
    return text


class RedactingFilter(logging.Filter):
    """Nothing private reaches the logs, whatever a library prints, at any level.

    Tokens (``xox…``, ``xapp-…``), response URLs and webhook URLs are redacted; request
    and response bodies that bolt and slack_sdk dump are withheld, as are SQL parameters
    in database errors; tracebacks get the same treatment. (The request guard keeps bad
    requests away from bolt in the first place: this is the safety net.)
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception as exc:  # noqa: BLE001 - a broken log call must not print its args
            record.msg, record.args = f"unformattable log message ({type(exc).__name__})", None
        else:
            cleaned = scrub(message)
            if cleaned != message or record.args:
                record.msg, record.args = cleaned, None
        if record.exc_info:
            # From the exception itself, even where another handler formatted it first.
            record.exc_text = format_exception(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and exception, stack)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            record.exc_text = format_exception(record.exc_info)
        if record.exc_text:
            entry["exception"] = scrub(record.exc_text)
        if record.stack_info:
            entry["stack"] = scrub(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (as logging's last resort does)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        """Always sys.stderr (StreamHandler's constructor assigns it)."""


def log_handler(fmt: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing to ``stream`` (default: stderr) as text or JSON, redacting."""
    handler: logging.Handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(level: str, fmt: str, stream: IO[str] | None = None) -> logging.Handler:
    """The process's logging; every entry point calls it (``readalong …``).

    One handler on the root logger, as text or JSON, passing the redacting filter; it
    replaces the one an earlier call installed and leaves other handlers alone. Libraries
    whose INFO is noise stay at WARNING.
    """
    handler = log_handler(fmt, stream)
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    logging.captureWarnings(True)
    return handler


_OURS = "_readalong_handler"
