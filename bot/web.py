"""The HTTP surface: Slack's requests on /slack/events (and OAuth), plus health endpoints."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.observability import metrics_text

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], dict[str, Any]]


class ReadalongWSGI:
    """WSGI app: health endpoints here, everything else to bolt's handler."""

    def __init__(self, app: App, readiness: ReadinessCheck | None = None) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.readiness = readiness

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
        return self.slack(environ, start_response)

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
    reason = {200: "OK", 503: "Service Unavailable"}.get(status, "OK")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
