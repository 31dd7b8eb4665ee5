"""``readalong check``: is the Slack app set up right for these settings?

Each check says what it found in one line, and what to do when it failed. The checks
use the configured settings as ``readalong serve`` would, and nothing else: the Slack
Web API at ``SLACK_API_URL`` (``auth.test`` for the token and its ``x-oauth-scopes``,
``conversations.info`` for the channels with plans), the database at ``DATABASE_URL``,
and, in HTTP mode, Readalong's own ``/slack/events`` answering a request signed with
``SLACK_SIGNING_SECRET`` — the request Slack sends when a Request URL is saved in the
app's settings (``url_verification``). By default the check serves the app from these
settings on a loopback port of its own for that; ``--url`` sends the request to a
deployed ``readalong serve`` instead (the public Request URL), which also proves that
the proxy, HTTPS and the deployed process's secret are right.
"""

from __future__ import annotations

import enum
import http.client
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.storage.db import DatabaseNotReady, ensure_reachable, head_revision, make_engine

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from slack_sdk.web import SlackResponse

EVENTS_PATH = "/slack/events"
MANIFEST = "manifest.yaml"
OAUTH_PAGE = "OAuth & Permissions"
REINSTALL = "Install App → Reinstall to Workspace"

#: What Slack means by each refusal of a bot token, and what fixes it.
TOKEN_ERRORS: dict[str, tuple[str, str]] = {
    "invalid_auth": (
        "Slack does not know this token (invalid_auth)",
        f"Put the app's Bot User OAuth Token (xoxb-…, {OAUTH_PAGE}) in SLACK_BOT_TOKEN.",
    ),
    "not_authed": (
        "Slack received no token (not_authed)",
        f"Put the app's Bot User OAuth Token (xoxb-…, {OAUTH_PAGE}) in SLACK_BOT_TOKEN.",
    ),
    "token_revoked": (
        "the token was revoked (the app was uninstalled, or the token regenerated)",
        f"Install the app again ({REINSTALL}) and put the new Bot User OAuth Token in "
        "SLACK_BOT_TOKEN.",
    ),
    "account_inactive": (
        "the token's bot user is deactivated (account_inactive)",
        f"Install the app again ({REINSTALL}) and put the new Bot User OAuth Token in "
        "SLACK_BOT_TOKEN.",
    ),
    "token_expired": (
        "the token expired (token rotation is on)",
        "Turn token rotation off in the app's OAuth & Permissions (manifest.yaml has "
        "token_rotation_enabled: false), reinstall, and use the new token.",
    ),
}


class Status(enum.Enum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"
    WARN = "warn"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: what it looked at, what it found, and the fix when it failed."""

    area: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, area: str, status: Status, detail: str, fix: str | None = None) -> Finding:
        finding = Finding(area, status, detail, fix)
        self.findings.append(finding)
        return finding

    @property
    def ok(self) -> bool:
        return all(f.status is not Status.FAIL for f in self.findings)

    def render(self) -> str:
        width = max(len(f.area) for f in self.findings) if self.findings else 0
        lines = [f"  {f.status.value:<4}  {f.area:<{width}}  {f.detail}" for f in self.findings]
        fixes = [f.fix for f in self.findings if f.status is Status.FAIL and f.fix]
        if self.ok:
            lines += ["", "All is well."]
        else:
            lines += ["", "To fix:"]
            lines += [f"  {n}. {fix}" for n, fix in enumerate(fixes, start=1)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Identity:
    """Who the token is, from auth.test."""

    team: str
    team_id: str
    user: str
    user_id: str
    url: str


def run_checks(settings: Settings, *, url: str | None = None, timeout: float = 10.0) -> Report:
    """Every check, in the order a person setting the app up would fix them."""
    report = Report()
    identity, scopes = _check_token(report, settings, timeout)
    if identity is not None:
        _check_scopes(report, scopes)
    _check_app_token(report, settings)
    secret_ok = _check_signing_secret(report, settings)
    database_ok = _check_database(report, settings)
    _check_request_url(report, settings, url, timeout, ready=secret_ok and database_ok)
    _check_channels(report, settings, identity, timeout, ready=database_ok)
    return report


# ---------------------------------------------------------------------- the bot token


def _client(settings: Settings, timeout: float) -> WebClient:
    from slack_sdk import WebClient

    return WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=int(timeout)
    )


def _check_token(
    report: Report, settings: Settings, timeout: float
) -> tuple[Identity | None, list[str] | None]:
    area = "bot token"
    token = settings.slack_bot_token
    if not token:
        if settings.slack_client_id and settings.slack_client_secret:
            report.add(
                area,
                Status.SKIP,
                "multi-workspace install (SLACK_CLIENT_ID): each workspace's token comes with "
                "its install; set SLACK_BOT_TOKEN to one of them to check it",
            )
        else:
            report.add(
                area,
                Status.FAIL,
                "SLACK_BOT_TOKEN is not set",
                f"Put the app's Bot User OAuth Token (xoxb-…, {OAUTH_PAGE}) in SLACK_BOT_TOKEN.",
            )
        return None, None
    kind = _token_kind(token)
    if kind != "bot":
        report.add(
            area,
            Status.FAIL,
            f"SLACK_BOT_TOKEN holds {kind}, not a bot token (xoxb-…)",
            f"Put the Bot User OAuth Token (xoxb-…, {OAUTH_PAGE}) in SLACK_BOT_TOKEN"
            + (
                " and the app-level token in SLACK_APP_TOKEN." if kind.startswith("an app") else "."
            ),
        )
        return None, None
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        response = _client(settings, timeout).auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        what, fix = TOKEN_ERRORS.get(
            error, (f"auth.test answered {error}", "See https://api.slack.com/methods/auth.test.")
        )
        report.add(area, Status.FAIL, f"SLACK_BOT_TOKEN is wrong: {what}", fix)
        return None, None
    except (SlackClientError, OSError, ValueError) as exc:  # unreachable, or not Slack at all
        report.add(
            area,
            Status.FAIL,
            f"cannot reach Slack at {settings.slack_api_url} ({_reason(exc)})",
            "Check SLACK_API_URL (normally https://slack.com/api/) and the network.",
        )
        return None, None
    data: dict[str, Any] = dict(response.data) if isinstance(response.data, dict) else {}
    identity = Identity(
        team=str(data.get("team") or "?"),
        team_id=str(data.get("team_id") or "?"),
        user=str(data.get("user") or "?"),
        user_id=str(data.get("user_id") or "?"),
        url=str(data.get("url") or ""),
    )
    if not data.get("bot_id"):
        report.add(
            area,
            Status.FAIL,
            f"SLACK_BOT_TOKEN belongs to the person @{identity.user}, not to a bot user",
            f"Put the Bot User OAuth Token (xoxb-…, {OAUTH_PAGE}) in SLACK_BOT_TOKEN.",
        )
        return None, None
    report.add(
        area,
        Status.OK,
        f"workspace {identity.team} ({identity.team_id}, {identity.url or 'no URL'}), "
        f"bot user @{identity.user} ({identity.user_id})",
    )
    return identity, _granted_scopes(response)


def _token_kind(token: str) -> str:
    prefixes = {
        "xoxb-": "bot",
        "xapp-": "an app-level token (xapp-…, for SLACK_APP_TOKEN)",
        "xoxp-": "a user token (xoxp-…)",
        "xoxe": "a refresh or rotating token (xoxe…)",
    }
    stripped = token.strip()
    if stripped != token:
        return "a token with spaces or a line break around it"
    for prefix, kind in prefixes.items():
        if token.startswith(prefix):
            return kind
    return "something else"


def _granted_scopes(response: SlackResponse) -> list[str] | None:
    for key, value in response.headers.items():
        if str(key).lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list) else value
            return [scope.strip() for scope in str(text).split(",") if scope.strip()]
    return None


def _check_scopes(report: Report, granted: list[str] | None) -> None:
    from bot.slack.manifest import bot_scopes

    area = "scopes"
    needed = bot_scopes()
    if granted is None:
        report.add(
            area,
            Status.WARN,
            "Slack did not say which scopes the token has (no x-oauth-scopes header)",
        )
        return
    missing = [scope for scope in needed if scope not in granted]
    extra = sorted(set(granted) - set(needed))
    if missing:
        report.add(
            area,
            Status.FAIL,
            f"{len(missing)} of the {len(needed)} scopes {MANIFEST} declares are missing: "
            + ", ".join(missing),
            f"Add {', '.join(missing)} under {OAUTH_PAGE} → Scopes → Bot Token Scopes (or "
            f"paste {MANIFEST} again under App Manifest), then {REINSTALL}; the token stays "
            "the same.",
        )
        return
    also = f" (also granted: {', '.join(extra)})" if extra else ""
    report.add(area, Status.OK, f"all {len(needed)} scopes {MANIFEST} declares{also}")


# ---------------------------------------------------------------------- app token and secret


def _check_app_token(report: Report, settings: Settings) -> None:
    token = settings.slack_app_token
    if not token:
        return  # HTTP mode: no app-level token needed
    if not token.startswith("xapp-") or token.strip() != token:
        report.add(
            "app token",
            Status.FAIL,
            "SLACK_APP_TOKEN is not an app-level token (xapp-…)",
            "Create an app-level token with connections:write (Basic Information → App-Level "
            "Tokens) and put it in SLACK_APP_TOKEN, or unset it to use HTTP mode.",
        )
        return
    report.add("app token", Status.OK, "SLACK_APP_TOKEN is an app-level token: Socket Mode")


SIGNING_SECRET = re.compile(r"[0-9a-fA-F]{32}")
SECRET_FIX = (
    "Copy the Signing Secret from Basic Information → App Credentials into SLACK_SIGNING_SECRET."
)


def signing_secret_problem(secret: str | None, *, client_secret: str | None = None) -> str | None:
    """What is wrong with the form of ``secret`` as a Slack signing secret, or None."""
    if not secret:
        return "is not set"
    if secret.strip() != secret:
        return "has spaces or a line break around it"
    if secret.startswith(("xox", "xapp-")):
        return "is a token, not the signing secret"
    if secret == client_secret:
        return "is the same as SLACK_CLIENT_SECRET (the client secret, not the signing secret)"
    if not SIGNING_SECRET.fullmatch(secret):
        return f"is {len(secret)} characters; a Slack signing secret is 32 hexadecimal characters"
    return None


def _check_signing_secret(report: Report, settings: Settings) -> bool:
    area = "signing secret"
    problem = signing_secret_problem(
        settings.slack_signing_secret, client_secret=settings.slack_client_secret
    )
    if problem:
        report.add(area, Status.FAIL, f"SLACK_SIGNING_SECRET {problem}", SECRET_FIX)
        return False
    report.add(area, Status.OK, "32 hexadecimal characters, as Slack's are")
    return True


# ---------------------------------------------------------------------- database


def _check_database(report: Report, settings: Settings) -> bool:
    area = "database"
    engine = make_engine(settings.database_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        current = ensure_reachable(engine)
    except DatabaseNotReady as exc:
        report.add(
            area,
            Status.FAIL,
            str(exc).removeprefix("config error: DATABASE_URL: "),
            "Check DATABASE_URL and that the database server is running.",
        )
        return False
    finally:
        engine.dispose()
    head = head_revision()
    if current != head:
        state = "has no schema" if current is None else f"is at migration {current}, not {head}"
        report.add(area, Status.FAIL, f"{where} {state}", "Run `readalong db upgrade`.")
        return False
    report.add(area, Status.OK, f"{where} is reachable, at the latest migration ({head})")
    return True


# ---------------------------------------------------------------------- the request URL


def _check_request_url(
    report: Report, settings: Settings, url: str | None, timeout: float, *, ready: bool
) -> None:
    area = "request URL"
    if settings.slack_app_token and url is None:
        report.add(area, Status.SKIP, "Socket Mode: Slack sends no HTTP requests")
        return
    secret = settings.slack_signing_secret
    if not secret:
        report.add(area, Status.SKIP, "no signing secret to sign a request with")
        return
    if url is None and not ready:
        report.add(area, Status.SKIP, "the app cannot start until the problems above are fixed")
        return
    try:
        with _target(settings, url) as (target, where):
            outcome = _probe(target, secret, timeout)
    except Exception as exc:  # noqa: BLE001 - the app failing to start is this check's finding
        report.add(
            area,
            Status.FAIL,
            f"the app did not start from these settings ({_reason(exc)})",
            "Run `readalong serve` and read its error.",
        )
        return
    if outcome.ok:
        report.add(area, Status.OK, f"{where} answered a signed request ({outcome.what})")
        return
    report.add(area, Status.FAIL, f"{where}: {outcome.what}", outcome.fix)


@contextmanager
def _target(settings: Settings, url: str | None) -> Iterator[tuple[str, str]]:
    """(the URL to send to, how to name it): ``url``, or the app served from ``settings``
    on a loopback port for as long as the block runs (no scheduler)."""
    if url is not None:
        yield url, url
        return
    from bot.bootstrap import build_runtime
    from bot.serving import HttpServer

    runtime = build_runtime(settings)
    try:
        server = HttpServer(runtime.wsgi, "127.0.0.1", 0, threads=2).start()
        try:
            target = f"{server.url}{EVENTS_PATH}"
            yield target, f"the app served from these settings at {target}"
        finally:
            server.stop()
    finally:
        runtime.close()


@dataclass(frozen=True)
class Probe:
    ok: bool
    what: str
    fix: str | None = None


def _probe(target: str, secret: str, timeout: float) -> Probe:
    """Send Slack's url_verification request, signed with ``secret``, then the same with a
    wrong signature: the first must be answered with its challenge, the second refused."""
    challenge = secrets.token_urlsafe(24)
    body = json.dumps(
        {"token": "readalong-check", "challenge": challenge, "type": "url_verification"}
    ).encode()

    def send(key: str) -> tuple[int, bytes]:
        return _post(target, body, key, timeout)

    try:
        status, answer = send(secret)
    except (OSError, http.client.HTTPException) as exc:
        return Probe(
            False,
            f"no answer ({_reason(exc)})",
            f"Start `readalong serve` where {target} leads (behind HTTPS), or fix the URL.",
        )
    if status == 401:
        return Probe(
            False,
            "refused a request signed with SLACK_SIGNING_SECRET (401)",
            "Give the server the same SLACK_SIGNING_SECRET as this check has (Basic "
            "Information → App Credentials → Signing Secret) and restart it.",
        )
    if status != 200 or challenge.encode() not in answer:
        return Probe(
            False,
            f"answered HTTP {status} without the challenge: it is not Readalong's /slack/events",
            f"Point the Request URLs in {MANIFEST} at Readalong's /slack/events.",
        )
    try:
        forged, _ = send(secret + "-wrong")
    except (OSError, http.client.HTTPException) as exc:
        return Probe(False, f"no answer to a second request ({_reason(exc)})", None)
    if forged != 401:
        return Probe(
            False,
            f"accepted a request with a wrong signature (HTTP {forged})",
            "Run Readalong's own `readalong serve` there: it refuses unsigned requests.",
        )
    return Probe(True, "the challenge came back; a wrong signature got 401")


def _post(target: str, body: bytes, secret: str, timeout: float) -> tuple[int, bytes]:
    from slack_sdk.signature import SignatureVerifier

    timestamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    request = urllib.request.Request(
        target,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature or "",
            "User-Agent": "readalong-check",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())


# ---------------------------------------------------------------------- channels


def _check_channels(
    report: Report, settings: Settings, identity: Identity | None, timeout: float, *, ready: bool
) -> None:
    area = "channels"
    if identity is None or not ready:
        report.add(area, Status.SKIP, "needs a working token and database")
        return
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.bootstrap import build_services

    services, close = build_services(settings)
    try:
        views = services.plans.running_in_workspace(identity.team_id)
    finally:
        close()
    if not views:
        report.add(area, Status.OK, "no running plans yet")
        return
    client = _client(settings, timeout)
    outside: list[str] = []
    channels = sorted({view.group.channel_id: view for view in views}.items())
    for channel_id, view in channels:
        label = f"#{view.group.name} ({channel_id})" if view.group.name else channel_id
        try:
            channel = client.conversations_info(channel=channel_id)["channel"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "channel_not_found":
                outside.append(f"{channel_id} (private and without the bot, or deleted)")
            else:
                outside.append(f"{label} (conversations.info answered {error})")
            continue
        except (SlackClientError, OSError) as exc:
            outside.append(f"{label} (no answer: {_reason(exc)})")
            continue
        if not channel.get("is_member"):
            outside.append(f"#{channel.get('name') or view.group.name} ({channel_id})")
        elif channel.get("is_archived"):
            outside.append(f"#{channel.get('name')} ({channel_id}, archived)")
    if outside:
        report.add(
            area,
            Status.FAIL,
            f"the bot is not in {len(outside)} of the {len(channels)} channels with running "
            "plans: " + ", ".join(outside),
            f"Invite the bot there (`/invite @{identity.user}` in each channel), or `/book "
            "cancel` a plan whose channel is gone.",
        )
        return
    report.add(area, Status.OK, f"the bot is in all {len(channels)} channels with running plans")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
