"""The gate in front of bolt for ``POST /slack/events``.

Every request is read with a size cap, its signature checked, its body parsed and its
shape checked before bolt sees it, so that nothing a caller sends can make bolt or a
listener fail (an HTTP 500, which makes Slack retry what can never succeed) or make bolt
log the body (bolt logs whole bodies on a bad signature, and parts of them for requests
nobody handles).

=====================================================  ======  ==========================
what is wrong                                          status  logged (never a value)
=====================================================  ======  ==========================
body over the size cap                                 413     INFO: the cap
signature or timestamp missing, garbled, forged,       401     INFO: which check failed
stale (over 5 minutes, either way) or not a number
signed, but not UTF-8, not a form, payload/JSON that   400     WARNING: what did not parse
does not parse or is not an object, truncated, empty
signed and parsed, but a field the listeners rely on   200     WARNING: the field's path
is missing or of the wrong type (Slack must not retry
it: it can never succeed)
=====================================================  ======  ==========================

A 200 for a malformed slash command carries a short ephemeral apology, so the member
sees that nothing happened. The body bolt gets is the body that was checked, parsed the
way bolt parses it (see :func:`parse_like_bolt`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_sdk.signature import Clock, SignatureVerifier

if TYPE_CHECKING:
    from wsgiref.types import WSGIEnvironment

logger = logging.getLogger(__name__)

#: Slack's requests are a few kilobytes; a large modal submission stays well under this.
MAX_BODY_BYTES = 1024 * 1024
#: Slack's own rule, and bolt's: a request older (or newer) than this is refused.
SIGNATURE_WINDOW_SECONDS = 300

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

#: Ids, timestamps and the like: what Slack sends (``U0ALICE0001``, ``1700000000.000100``)
#: and what the database columns hold (32 characters).
_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
_EVENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,49}")
#: An emoji name as stored (100 characters), without spaces or control characters.
_EMOJI = re.compile(r"[^\x00-\x20\x7f]{1,100}")
_HTTP_URL = re.compile(r"https?://[^\s/?#]+[^\s]{0,2000}")

COMMAND_APOLOGY = (
    "Sorry, Slack sent me this command in a form I could not read, so I did nothing. "
    "Please try again."
)


# ---------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Refused:
    """Answer with ``status`` and ``body``; bolt never sees the request."""

    status: int
    reason: str
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Admitted:
    """Hand the request to bolt, with this body (and these headers replaced)."""

    body: bytes
    kind: str
    headers: dict[str, str] = field(default_factory=dict)


class Unreadable(Exception):
    """The body does not parse (400)."""


class Malformed(Exception):
    """The body parses, but a field the listeners rely on is missing or of the wrong type.

    The message names the field by its path, never its value.
    """


# ---------------------------------------------------------------------- signature


class _BytesSignatureVerifier(SignatureVerifier):
    """slack_sdk's verifier (same 5-minute window, same clock), signing the raw bytes.

    The stock one decodes the body as UTF-8 first and raises on bytes that are not; Slack
    signs bytes, so a signed body that is not UTF-8 must verify, then be refused as
    unreadable (400), not blow up.
    """

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        if timestamp is None:
            return None
        raw = body if isinstance(body, bytes) else (body or "").encode()
        base = b"v0:" + timestamp.encode() + b":" + raw
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return f"v0={digest}"


# ---------------------------------------------------------------------- the guard


class RequestGuard:
    """Checks one request to ``/slack/events``: size, signature, syntax, shape."""

    def __init__(
        self,
        signing_secret: str | None,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        clock: Clock | None = None,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        # Without a secret nothing can be verified: every request is refused (as bolt would).
        self._verifier = (
            _BytesSignatureVerifier(signing_secret, clock=clock or Clock())
            if signing_secret and signing_secret.strip()
            else None
        )

    def check(self, environ: WSGIEnvironment) -> Admitted | Refused:
        where = str(environ.get("REMOTE_ADDR") or "?")
        read = self._read(environ)
        if isinstance(read, Refused):
            logger.info("refused a request from %s (%s): %s", where, read.status, read.reason)
            return read
        body = read
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
        unsigned = self._unsigned(body, timestamp, str(environ.get("HTTP_X_SLACK_SIGNATURE") or ""))
        if unsigned:
            logger.info("refused an unsigned request from %s (401): %s", where, unsigned)
            return Refused(401, unsigned, b"invalid request signature")
        content_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0]
        try:
            parsed, as_json = parse_like_bolt(body, content_type)
        except Unreadable as exc:
            logger.warning("refused a signed but unreadable request from %s (400): %s", where, exc)
            return Refused(400, str(exc), b"bad request")
        try:
            kind = check_shape(parsed)
        except Malformed as exc:
            kind = _kind_name(parsed)
            logger.warning("ignored a signed but malformed %s (200): %s", kind, exc)
            if kind == "slash command":
                apology = json.dumps({"response_type": "ephemeral", "text": COMMAND_APOLOGY})
                return Refused(200, str(exc), apology.encode(), "application/json")
            return Refused(200, str(exc))
        if as_json is None:
            return Admitted(body, kind)
        # bolt gets the very fields checked here, as JSON (it verifies the signature again:
        # the request was verified above, so it is signed again, same timestamp).
        assert self._verifier is not None
        signature = self._verifier.generate_signature(timestamp=timestamp, body=as_json)
        assert signature is not None
        return Admitted(
            as_json,
            kind,
            {
                "CONTENT_TYPE": JSON,
                "CONTENT_LENGTH": str(len(as_json)),
                "HTTP_X_SLACK_SIGNATURE": signature,
            },
        )

    def _read(self, environ: WSGIEnvironment) -> bytes | Refused:
        declared = str(environ.get("CONTENT_LENGTH") or "").strip()
        if declared and not declared.isdigit():
            return Refused(400, "Content-Length is not a number", b"bad request")
        length = int(declared) if declared else None
        if length is not None and length > self.max_body_bytes:
            return Refused(413, f"body over {self.max_body_bytes} bytes", b"request too large")
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        body = stream.read(length if length is not None else self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            return Refused(413, f"body over {self.max_body_bytes} bytes", b"request too large")
        if length is not None and len(body) != length:
            return Refused(400, "body shorter than its Content-Length", b"bad request")
        return bytes(body)

    def _unsigned(self, body: bytes, timestamp: str, signature: str) -> str:
        """Why the request is not signed by Slack, or "" when it is."""
        if self._verifier is None:
            return "no signing secret is configured"
        if not timestamp:
            return "no X-Slack-Request-Timestamp"
        if not _DIGITS.fullmatch(timestamp):
            return "X-Slack-Request-Timestamp is not a number of seconds"
        if not signature:
            return "no X-Slack-Signature"
        if not _SIGNATURE.fullmatch(signature):
            return "X-Slack-Signature is not a v0 signature"
        if abs(self._verifier.clock.now() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return "timestamp outside the 5-minute window"
        if not self._verifier.is_valid(body, timestamp, signature):
            return "signature does not match"
        return ""


# ---------------------------------------------------------------------- parsing


def parse_like_bolt(body: bytes, content_type: str) -> tuple[dict[str, Any], bytes | None]:
    """The body as bolt will see it (or :class:`Unreadable`), and what to hand bolt
    instead of the form, as JSON: ``None`` to hand it the body as it came.

    Bolt reads JSON when the content type is ``application/json`` or the body starts
    with ``{``; otherwise a form, whose ``payload`` field (interactivity) is JSON. Bolt's
    test for that field is whether the *text* "payload" occurs anywhere in the body, so
    a slash command mentioning the word would reach it empty: such a form goes to bolt
    as JSON. An interaction goes to bolt as its payload's JSON, so the (slow, pure
    Python) form decoding of a large payload happens once, here, not twice.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("body is not UTF-8") from None
    if not text.strip():
        raise Unreadable("body is empty")
    if content_type == JSON or text.startswith("{"):
        return _json_object(text, "JSON body"), None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except UnicodeDecodeError:
        raise Unreadable("form body is not UTF-8 once decoded") from None
    except ValueError:
        raise Unreadable("form body is not name=value pairs") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise Unreadable("form body repeats a field")
    if "payload" in form:
        payload = form["payload"]
        return _json_object(payload, "payload"), payload.encode()
    if "payload" in text:
        return form, json.dumps(form, ensure_ascii=False).encode()
    return form, None


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Unreadable(f"{what} is not JSON (or is cut short)") from None
    if not isinstance(value, dict):
        raise Unreadable(f"{what} is not a JSON object")
    return value


# ---------------------------------------------------------------------- shape

INTERACTIONS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
        "dialog_submission",
        "dialog_cancellation",
        "dialog_suggestion",
        "workflow_step_edit",
    }
)


def _kind_name(body: dict[str, Any]) -> str:
    if "command" in body:
        return "slash command"
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        event_type = event.get("type") if isinstance(event, dict) else None
        # Named in the log only when it looks like an event type (a value is never logged).
        known = isinstance(event_type, str) and _EVENT_TYPE.fullmatch(event_type)
        return f"{event_type} event" if known else "event"
    if isinstance(kind, str) and kind in INTERACTIONS:
        return f"{kind} payload"
    return "request"


def check_shape(body: dict[str, Any]) -> str:
    """The request's kind, once every field bolt and the listeners read has a usable type.

    Raises :class:`Malformed` naming the first field that is not.
    """
    _context(body, "")
    if "command" in body:  # bolt routes on the key alone
        _slash_command(body)
        return "slash command"
    kind = body.get("type")
    if kind is None and "ssl_check" in body:
        return "ssl_check"
    if not isinstance(kind, str) or not kind:
        raise Malformed("no request type (not a command, an event or an interaction)")
    if not _EVENT_TYPE.fullmatch(kind):
        raise Malformed("type is not a request type")
    if kind == "url_verification":
        _text(body, "challenge", "challenge", required=True, nonempty=True)
    elif kind == "event_callback":
        _event_callback(body)
    elif kind == "block_actions":
        _block_actions(body)
    elif kind in ("view_submission", "view_closed"):
        _view_payload(body)
    elif kind in INTERACTIONS:
        _interaction(body)
    return kind


def _slash_command(body: dict[str, Any]) -> None:
    command = body["command"]
    if not isinstance(command, str) or not command.startswith("/") or len(command) > 64:
        raise Malformed("command must be a /command")
    for key in ("team_id", "user_id", "channel_id"):
        _id(body, key, key)
    _text(body, "text", "text")
    _url(body, "response_url", "response_url", required=True)
    _text(body, "trigger_id", "trigger_id")


def _event_callback(body: dict[str, Any]) -> None:
    event = _object(body, "event", "event", required=True)
    assert event is not None
    event_type = event.get("type")
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        raise Malformed("event.type must be an event type")
    _id(body, "event_id", "event_id", pattern=_EVENT_ID)
    _id(body, "team_id", "team_id", required=False)
    _context(event, "event.")
    if event_type == "message":
        _id(body, "team_id", "team_id")
        _message_event(event)
    elif event_type in ("reaction_added", "reaction_removed"):
        _id(body, "team_id", "team_id")
        _id(event, "user", "event.user")
        reaction = event.get("reaction")
        if not isinstance(reaction, str) or not _EMOJI.fullmatch(reaction):
            raise Malformed("event.reaction must be an emoji name")
        item = _object(event, "item", "event.item", required=True)
        assert item is not None
        _text(item, "type", "event.item.type", required=True)
        _id(item, "channel", "event.item.channel", required=False)
        _id(item, "ts", "event.item.ts", required=False)
    elif event_type == "function_executed" and "function" in event:
        if not isinstance(event["function"], dict):
            raise Malformed("event.function must be an object")
    elif event_type == "app_home_opened":
        _id(event, "user", "event.user")
        _id(event, "channel", "event.channel", required=False)
        _text(event, "tab", "event.tab")


def _message_event(event: dict[str, Any]) -> None:
    _id(event, "channel", "event.channel", required=False)
    _id(event, "user", "event.user", required=False)
    _id(event, "ts", "event.ts")
    for key in ("thread_ts", "deleted_ts", "event_ts"):
        _id(event, key, f"event.{key}", required=False)
    for key in ("subtype", "text", "bot_id", "channel_type"):
        _text(event, key, f"event.{key}")
    files = event.get("files")
    if files is not None:
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            raise Malformed("event.files must be a list of objects")
        for i, item in enumerate(files):
            _text(item, "name", f"event.files[{i}].name")
            _text(item, "title", f"event.files[{i}].title")
    changed = event.get("subtype") == "message_changed"
    for key in ("message", "previous_message"):
        inner = _object(event, key, f"event.{key}", required=changed and key == "message")
        if inner is None:
            continue
        _context(inner, f"event.{key}.")
        _id(inner, "ts", f"event.{key}.ts", required=False)
        _id(inner, "thread_ts", f"event.{key}.thread_ts", required=False)
        _id(inner, "user", f"event.{key}.user", required=False)
        _text(inner, "text", f"event.{key}.text")


def _block_actions(body: dict[str, Any]) -> None:
    _actor(body)
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise Malformed("actions must be a non-empty list")
    for i, action in enumerate(actions):
        if not isinstance(action, dict):
            raise Malformed(f"actions[{i}] must be an object")
        _text(action, "action_id", f"actions[{i}].action_id", required=True, nonempty=True)
        for key in ("block_id", "value", "type", "action_ts"):
            _text(action, key, f"actions[{i}].{key}")
        option = _object(action, "selected_option", f"actions[{i}].selected_option")
        if option is not None:
            _text(option, "value", f"actions[{i}].selected_option.value")
    _text(body, "trigger_id", "trigger_id", required=True, nonempty=True)
    for key in ("container", "message", "state"):
        _object(body, key, key)
    view = _object(body, "view", "view")
    if view is not None:
        _view(view)


def _view_payload(body: dict[str, Any]) -> None:
    _actor(body)
    view = _object(body, "view", "view", required=True)
    assert view is not None
    _view(view)
    # bolt reads view.type of every submission (is it a workflow step's?) before any
    # listener runs, and then the workflow step itself.
    _text(view, "type", "view.type", required=True, nonempty=True)
    if view["type"] == "workflow_step" and "workflow_step" not in body:
        raise Malformed("workflow_step is missing")
    _text(body, "trigger_id", "trigger_id")


def _view(view: dict[str, Any]) -> None:
    for key in ("id", "type", "callback_id", "private_metadata", "hash", "root_view_id"):
        _text(view, key, f"view.{key}")
    state = _object(view, "state", "view.state")
    if state is not None:
        values = _object(state, "values", "view.state.values")
        for block in (values or {}).values():
            if not isinstance(block, dict) or not all(isinstance(v, dict) for v in block.values()):
                raise Malformed("view.state.values must hold an object per block and action")


def _interaction(body: dict[str, Any]) -> None:
    """Interactions Readalong has no listener for: enough for bolt to say so safely."""
    user = _object(body, "user", "user", required=True)
    assert user is not None
    _id(user, "id", "user.id")
    for key in ("callback_id", "action_id", "trigger_id"):
        _text(body, key, key)
    actions = body.get("actions")
    # bolt takes actions[0] of any attachment action, and the workflow step of a step's edit.
    needs_actions = body["type"] == "interactive_message" and "callback_id" in body
    if (actions is not None or needs_actions) and (
        not isinstance(actions, list)
        or not actions
        or not all(isinstance(a, dict) for a in actions)
    ):
        raise Malformed("actions must be a non-empty list of objects")
    step_edit = body["type"] == "workflow_step_edit" and "callback_id" in body
    if step_edit and "workflow_step" not in body:
        raise Malformed("workflow_step is missing")


def _actor(body: dict[str, Any]) -> None:
    """Who clicked or submitted: ``user.id`` and ``team.id`` (the listeners key on both)."""
    for key in ("user", "team"):
        ref = _object(body, key, key, required=True)
        assert ref is not None
        _id(ref, "id", f"{key}.id")
    channel = _object(body, "channel", "channel")
    if channel is not None:
        _id(channel, "id", "channel.id", required=False)


#: Fields bolt reads from every request (and from its event, and authorizations[0]) to
#: build its context, before any listener runs: a wrong type there fails in bolt itself.
_REFS = ("team", "user", "channel", "enterprise")
_SCALARS = ("team_id", "user_id", "channel_id", "enterprise_id", "thread_ts")
_NESTED = ("view", "item", "message", "previous_message", "assistant_thread", "function_data")


def _context(data: dict[str, Any], prefix: str, depth: int = 0) -> None:
    for key in _REFS:
        value = data.get(key)
        if value is not None and not isinstance(value, str | dict):
            raise Malformed(f"{prefix}{key} must be an id or an object")
        if isinstance(value, dict):
            _text(value, "id", f"{prefix}{key}.id")
            _text(value, "team_id", f"{prefix}{key}.team_id")
            _text(value, "enterprise_id", f"{prefix}{key}.enterprise_id")
    for key in _SCALARS:
        _text(data, key, f"{prefix}{key}")
    _url(data, "response_url", f"{prefix}response_url")
    for key in _NESTED:
        _object(data, key, f"{prefix}{key}")
    if "view" in data and not isinstance(data["view"], dict):  # bolt reads a null one too
        raise Malformed(f"{prefix}view must be an object")
    authorizations = data.get("authorizations")
    if authorizations is not None:
        if not isinstance(authorizations, list) or not all(
            isinstance(a, dict) for a in authorizations
        ):
            raise Malformed(f"{prefix}authorizations must be a list of objects")
        if authorizations and depth < 2:
            _context(authorizations[0], f"{prefix}authorizations[0].", depth + 1)
    urls = data.get("response_urls")
    if urls is not None:
        if not isinstance(urls, list) or not all(isinstance(u, dict) for u in urls):
            raise Malformed(f"{prefix}response_urls must be a list of objects")
        for i, item in enumerate(urls):
            _url(item, "response_url", f"{prefix}response_urls[{i}].response_url")
    if not prefix and "event" in data and not isinstance(data["event"], dict):
        raise Malformed("event must be an object")


# ---------------------------------------------------------------------- field checks


def _object(
    data: dict[str, Any], key: str, path: str, *, required: bool = False
) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        if required:
            raise Malformed(f"{path} is missing")
        return None
    if not isinstance(value, dict):
        raise Malformed(f"{path} must be an object")
    return value


def _present(data: dict[str, Any], key: str, path: str, required: bool) -> Any:
    """``data[key]``, or None when absent (refused when it is ``required``)."""
    value = data.get(key)
    if value is None and required:
        raise Malformed(f"{path} is missing")
    return value


def _text(
    data: dict[str, Any],
    key: str,
    path: str,
    *,
    required: bool = False,
    nonempty: bool = False,
) -> None:
    value = _present(data, key, path, required)
    if value is None:
        return
    if not isinstance(value, str):
        raise Malformed(f"{path} must be a string")
    if nonempty and not value:
        raise Malformed(f"{path} is empty")


def _url(data: dict[str, Any], key: str, path: str, *, required: bool = False) -> None:
    """Where bolt's ``respond`` posts: an http(s) URL (Slack's hooks.slack.com ones)."""
    value = _present(data, key, path, required)
    if value is None:
        return
    if not isinstance(value, str) or not _HTTP_URL.fullmatch(value):
        raise Malformed(f"{path} must be an http(s) URL")


def _id(
    data: dict[str, Any],
    key: str,
    path: str,
    *,
    required: bool = True,
    pattern: re.Pattern[str] = _ID,
) -> None:
    value = _present(data, key, path, required)
    if value is None:
        return
    if not isinstance(value, str):
        raise Malformed(f"{path} must be a string")
    if not pattern.fullmatch(value):
        raise Malformed(f"{path} is empty" if not value else f"{path} is not a Slack id")
