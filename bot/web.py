"""The HTTP surface: Slack's requests on /slack/events (and OAuth), plus health endpoints."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.observability import metrics_text
from bot.slack.guard import Admitted, RequestGuard

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], dict[str, Any]]

EVENTS_PATH = "/slack/events"
CALENDAR_PREFIX = "/calendar/"
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,64}")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    413: "Content Too Large",
    503: "Service Unavailable",
}


class ReadalongWSGI:
    """WSGI app: health endpoints here, everything else to bolt's handler.

    ``POST /slack/events`` passes :class:`~bot.slack.guard.RequestGuard` first: bolt only
    sees requests that are signed, readable and shaped as its listeners expect.
    """

    def __init__(
        self,
        app: App,
        readiness: ReadinessCheck | None = None,
        *,
        signing_secret: str | None = None,
        calendars: Callable[[str], bytes | None] | None = None,
    ) -> None:
        self.slack = SlackRequestHandler(app, path=EVENTS_PATH)
        self.readiness = readiness
        self.calendars = calendars  # secret → an iCalendar feed, or None
        # bolt keeps the secret it verifies with (not public API); the guard uses the same.
        self.guard = RequestGuard(signing_secret or getattr(app, "_signing_secret", None))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET" and path == "/healthz":
            return _json(start_response, 200, {"status": "ok"})
        if method == "GET" and path == "/readyz":
            return self._ready(start_response)
        if method == "GET" and path == "/metrics":
            body = metrics_text()
            start_response(
                "200 OK",
                [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))],
            )
            return [body]
        if method == "POST" and path == EVENTS_PATH:
            return self._slack_request(environ, start_response)
        if method in ("GET", "HEAD") and path.startswith(CALENDAR_PREFIX):
            return self._calendar(path, start_response)
        return self.slack(environ, start_response)

    def _slack_request(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        verdict = self.guard.check(environ)
        if not isinstance(verdict, Admitted):
            start_response(
                _status_line(verdict.status),
                [
                    ("Content-Type", verdict.content_type),
                    ("Content-Length", str(len(verdict.body))),
                ],
            )
            return [verdict.body]
        environ["wsgi.input"] = io.BytesIO(verdict.body)
        environ["CONTENT_LENGTH"] = str(len(verdict.body))
        environ.update(verdict.headers)
        return self.slack(environ, start_response)

    def _calendar(self, path: str, start_response: StartResponse) -> Iterable[bytes]:
        """A secret calendar feed. Anything but a live secret (unknown, revoked, guessed,
        malformed) gets the same 404, so nothing tells how close a guess was."""
        secret = path[len(CALENDAR_PREFIX) :].removesuffix(".ics")
        feed = None
        if self.calendars is not None and path.endswith(".ics") and _SECRET.fullmatch(secret):
            try:
                feed = self.calendars(secret)
            except Exception:
                logger.exception("calendar feed failed")
        if feed is None:
            body = b"Not Found"
            start_response(
                "404 Not Found",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/calendar; charset=utf-8"),
                ("Content-Length", str(len(feed))),
                ("Cache-Control", "private, max-age=300"),
            ],
        )
        return [feed]

    def _ready(self, start_response: StartResponse) -> Iterable[bytes]:
        if self.readiness is None:
            return _json(start_response, 200, {"status": "ok"})
        try:
            report = self.readiness()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            logger.warning("readiness check failed: %s", exc)
            return _json(
                start_response, 503, {"status": "unavailable", "error": str(exc).splitlines()[0]}
            )
        return _json(start_response, 200, {"status": "ok", **report})


def _json(start_response: StartResponse, status: int, payload: dict[str, Any]) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        _status_line(status),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Error')}"
