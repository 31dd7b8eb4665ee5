"""Logs never carry tokens; JSON logs are JSON."""

from __future__ import annotations

import io
import json
import logging

from bot.observability import JsonFormatter, RedactingFilter


def test_json_logs_redact_tokens() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("readalong.test.json")
    log.addHandler(handler)
    log.propagate = False
    log.warning("calling with %s and %s", "xoxb-1234-secret-token", "xapp-1-A-secret")
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "WARNING" and "[redacted]" in entry["message"]
    assert "secret" not in stream.getvalue()
