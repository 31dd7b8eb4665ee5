"""Logs never carry tokens; JSON logs are JSON."""

from __future__ import annotations

import io
import json
import logging

import pytest

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


MARK = "a private reflection 6250"
HOOK = "https://hooks.slack.com/commands/T0EMULATOR1/1234/hook-secret-8817"
TOKEN = "xoxb-1111-2222-observability"


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _library_dumps() -> None:
    """Make bolt, slack_sdk and SQLAlchemy log what they log about a request, for real."""
    import urllib.parse

    import sqlalchemy
    from slack_bolt.logger.messages import warning_unhandled_request
    from slack_bolt.middleware.request_verification import RequestVerification
    from slack_bolt.request import BoltRequest
    from slack_bolt.response import BoltResponse
    from slack_sdk import WebClient
    from slack_sdk.webhook import WebhookClient

    form = urllib.parse.urlencode({"command": "/reflect", "text": MARK, "response_url": HOOK})
    stale = BoltRequest(
        body=form,
        headers={"x-slack-request-timestamp": "1", "x-slack-signature": "v0=00"},
    )
    RequestVerification("secret").process(
        req=stale, resp=BoltResponse(status=200), next=lambda: BoltResponse(status=200)
    )
    dialog = {"type": "dialog_submission", "callback_id": "cb", "submission": {"note": MARK}}
    payload = BoltRequest(body=urllib.parse.urlencode({"payload": json.dumps(dialog)}))
    logging.getLogger("slack_bolt.App").warning(warning_unhandled_request(payload))
    dead = f"http://127.0.0.1:{_closed_port()}"
    try:
        WebClient(token=TOKEN, base_url=f"{dead}/api/", retry_handlers=[]).chat_postMessage(
            channel="C1", text=MARK
        )
    except Exception:
        logging.getLogger("bot.test").exception("chat.postMessage failed")
    try:
        WebhookClient(HOOK.replace("https://hooks.slack.com", dead), retry_handlers=[]).send(
            text=MARK
        )
    except Exception:
        logging.getLogger("bot.test").exception("response_url post failed")
    engine = sqlalchemy.create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("INSERT INTO nowhere (text) VALUES (:t)"), {"t": MARK})
    except sqlalchemy.exc.OperationalError:
        logging.getLogger("bot.test").exception("storing a reflection failed")
    logging.getLogger("bot.test").warning("calling Slack with %s for %s", TOKEN, HOOK)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_library_body_dumps_response_urls_tokens_and_sql_parameters_never_reach_the_log(
    fmt: str,
) -> None:
    from bot.observability import log_handler

    stream = io.StringIO()
    handler = log_handler(fmt, stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        _library_dumps()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    out = stream.getvalue()
    for secret in (MARK, "hook-secret-8817", TOKEN, "xoxb-"):
        assert secret not in out, out
    # …and the lines are still there, saying what happened.
    for kept in (
        "Invalid request signature detected (details withheld)",
        "Unhandled request (type=dialog_submission)",
        "/api/chat.postMessage (parameters and body withheld)",
        "calling Slack with [redacted] for https://hooks.slack.com/[redacted]",
        "[parameters: withheld]",
        "storing a reflection failed",
    ):
        assert kept in out, (kept, out)
    if fmt == "json":
        for line in out.splitlines():
            assert {"time", "level", "logger", "message"} <= set(json.loads(line))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_refusal_quoting_the_member_stays_out_of_a_later_traceback(fmt: str) -> None:
    """A refusal quotes what the member typed ("… is already on the shelf"); when telling
    them fails too, the traceback chains the refusal, and its words must not be logged.
    (Found by the request fuzzer: a cut-off response_url after a duplicate /book add.)"""
    from bot.domain.errors import Conflict, InvalidInput
    from bot.observability import log_handler

    class TooLong(InvalidInput):  # refusals are defined outside bot.domain.errors too
        pass

    stream = io.StringIO()
    handler = log_handler(fmt, stream)
    log = logging.getLogger("readalong.test.refusal")
    log.addHandler(handler)
    log.propagate = False
    try:
        for refusal in (
            Conflict(f"“{MARK}” by Someone is already on the shelf.\nSee `/book list`."),
            TooLong(f"Your reflection “{MARK}…” is too long"),
        ):
            try:
                try:
                    raise refusal
                except Conflict as exc:
                    raise ConnectionError("could not reach the response_url") from exc
                except TooLong:
                    raise ConnectionError("could not reach the response_url") from None
            except ConnectionError:
                log.exception("could not tell the user that /book failed")
            try:
                raise refusal
            except Exception:
                log.exception("a refusal logged by mistake")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert MARK not in out, out
    # What happened is still there: the classes, the reply's own error, where it was raised.
    for kept in ("bot.domain.errors.Conflict", "ConnectionError: could not reach", __name__):
        assert kept in out, (kept, out)
    assert out.count("could not tell the user that /book failed") == 2


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_response_url_path_alone_is_redacted(fmt: str) -> None:
    """http.client quotes only the path of a URL it refuses (found by the request fuzzer:
    a response_url with a NUL in it): a response_url's path is its credential."""
    import http.client
    import urllib.request

    from bot.observability import log_handler

    stream = io.StringIO()
    handler = log_handler(fmt, stream)
    log = logging.getLogger("readalong.test.url-path")
    log.addHandler(handler)
    log.propagate = False
    try:
        for path in (
            "/\x00commands/T0EMULATOR1/1/hook-secret-8817",
            "/c\x00ommands/T0/1/hook-secret-8817",
        ):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:9{path}", timeout=1)
            except (http.client.InvalidURL, ValueError) as exc:
                log.error("Failed to send a request to Slack API server: %s", exc)
                log.exception("could not tell the user")
        for hook in ("/services/T0/B0/hook-secret-8817", "/actions/T0/1/hook-secret-8817"):
            log.warning("posting to '%s' failed", hook)
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "hook-secret-8817" not in out, out
    assert out.count("[redacted]") >= 2 and out.count("(URL withheld)") >= 4, out
