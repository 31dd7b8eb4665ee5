"""``SlackEmulator``: a loopback HTTP server speaking the Slack Web API.

HTTP handling lives here; the workspace state is in :mod:`bot.emulator.workspace`, the
methods in :mod:`bot.emulator.webapi`, block limits in :mod:`bot.emulator.validation`
and fault injection in :mod:`bot.emulator.faults`.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.emulator.faults import FaultInjector
from bot.emulator.limits import (
    LATENCY_ENV,
    RATE_LIMITS_ENV,
    SEED_ENV,
    LatencyModel,
    RateLimiter,
    RateLimits,
    parse_latency,
    parse_rate_limits,
    parse_seed,
)
from bot.emulator.models import ApiCall, Message, UploadedFile
from bot.emulator.webapi import (
    METHOD_SCOPES,
    METHODS,
    Params,
    decode_json_params,
    error_body,
)
from bot.emulator.workspace import SlackError, Workspace

_MAX_BODY = 50 * 1024 * 1024
#: What Slack's file host answers a request without a token that may read the file.
_SIGN_IN = (
    b"<!DOCTYPE html><html><head><title>Sign in | Slack</title></head>"
    b"<body><h1>Sign in to your workspace</h1></body></html>"
)


class _Listener(ThreadingHTTPServer):
    """Accepts however many connections arrive at once, as Slack does: socketserver's
    backlog of 5 reset connections under a few processes' posting threads (each call a
    new connection)."""

    request_queue_size = 1024


class SlackEmulator:
    """An in-memory Slack workspace served over HTTP on 127.0.0.1.

    Point ``slack_sdk.WebClient(token, base_url=emulator.api_url)`` at it. Every call is
    recorded in :attr:`calls`; :meth:`fail_next` makes the next calls fail with 429/5xx,
    :meth:`slow_down` makes calls slow. :meth:`set_latency` and :meth:`set_rate_limits`
    (or :meth:`configure` from ``SLACK_EMULATOR_*`` variables) play Slack's latency and
    ``chat.postMessage`` limits.

    The bot token carries ``scopes`` (by default those Readalong's manifest declares, as
    when the app is installed from it): every answer to it names them in the
    ``x-oauth-scopes`` header, as Slack's do, and a method none of whose accepted scopes
    was granted answers ``missing_scope``. :meth:`grant_scopes` changes them and
    :meth:`revoke_token` makes the token refused, as after an uninstall.
    Seed users and channels with :meth:`add_user` / :meth:`add_channel`; drive the app
    the way Slack does with :class:`bot.emulator.client.SlackAppClient`.
    :meth:`add_workspace` installs the app in more workspaces, each with its own token.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-emulator-token",
        team_id: str = "T0EMULATOR1",
        team_domain: str = "readalong-emulator",
        bot_user_id: str = "U0BOTREADAL",
        clock: Callable[[], float] = time.time,
        team_name: str = "Readalong Emulator",
        bot_name: str = "readalong",
        bot_id: str | None = None,
        app_id: str = "A0READALONG",
        scopes: Iterable[str] | None = None,
        escaped_commands: Iterable[str] | None = None,
        latency: Mapping[str | None, tuple[float, float]] | None = None,
        seed: int = 0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``scopes`` the bot token carries and ``escaped_commands`` (slash commands
        declared with should_escape) default to what the app's manifest declares.
        ``latency`` maps methods (None: any) to (p50, p99) ms as :meth:`set_latency`
        takes them, drawn from ``random.Random(seed)``; ``monotonic`` is the clock the
        rate limits refill by (a fake one in tests)."""
        self.bot_token = bot_token
        from bot.slack.manifest import bot_scopes
        from bot.slack.manifest import escaped_commands as declared_escaped

        if scopes is None:
            scopes = bot_scopes()
        if escaped_commands is None:
            escaped_commands = declared_escaped()
        self._scopes = tuple(scopes)
        self._token_error: str | None = None
        self.clock = clock
        self.workspace = Workspace(
            team_id=team_id,
            team_domain=team_domain,
            team_name=team_name,
            bot_user_id=bot_user_id,
            bot_id=bot_id or "B" + bot_user_id[1:],
            app_id=app_id,
            clock=clock,
        )
        # Commands the app declares with should_escape: mentions arrive as <@U…|name>.
        self.workspace.escaped_commands = frozenset(escaped_commands)
        self.workspace.add_user(bot_user_id, bot_name, real_name="Readalong", is_bot=True)
        self.faults = FaultInjector()
        self.latency = LatencyModel(latency, seed)
        self.limiter = RateLimiter(monotonic)
        # Every installation's bot token, to the team it belongs to.
        self._tokens: dict[str, str] = {bot_token: team_id}
        self._calls: list[ApiCall] = []
        self._calls_lock = threading.Lock()
        self._oauth_codes: dict[str, tuple[str, str]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ identity

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    @property
    def team_domain(self) -> str:
        return self.workspace.team_domain

    @property
    def bot_user_id(self) -> str:
        return self.workspace.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.workspace.bot_id

    @property
    def app_id(self) -> str:
        return self.workspace.app_id

    # ------------------------------------------------------------------ lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> SlackEmulator:
        """Serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        server = _Listener((host, port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self.workspace.base_url = f"http://{host}:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (only meaningful once started)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self.workspace.base_url

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``, the ``base_url`` for slack_sdk's WebClient."""
        return self.base_url + "/api/"

    # ------------------------------------------------------------------ seeding

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "Europe/Berlin",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
    ) -> None:
        """Add (or replace) a workspace member."""
        self.workspace.add_user(
            user_id,
            name,
            real_name=real_name,
            tz=tz,
            is_admin=is_admin,
            is_owner=is_owner,
            is_bot=is_bot,
        )

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        members: Iterable[str] = (),
        team_id: str | None = None,
    ) -> None:
        """Add a channel. The bot sees public channels; private ones only as a member.
        ``team_id``: the workspace it is in (default the primary; see :meth:`add_workspace`)."""
        self.workspace.add_channel(
            channel_id,
            name,
            is_private=is_private,
            members=members,
            team_id=team_id or self.team_id,
        )

    def add_workspace(
        self, team_id: str, name: str | None = None, domain: str | None = None
    ) -> str:
        """Install the app in another workspace; returns its bot token
        (``xoxb-<team_id>-emulator``).

        Calls with that token act in that workspace: ``auth.test`` names it, its channels
        (``add_channel(..., team_id=...)``) are the only ones it sees, and the workspace
        rate limit counts it apart. Users, scopes and :meth:`revoke_token` are shared.
        """
        token = f"xoxb-{team_id}-emulator"
        self.workspace.add_team(team_id, name or f"Workspace {team_id}", domain or team_id.lower())
        with self._calls_lock:
            self._tokens[token] = team_id
        return token

    def token_for(self, team_id: str) -> str:
        """The bot token of the workspace ``team_id`` (KeyError if not installed)."""
        with self._calls_lock:
            for token, team in self._tokens.items():
                if team == team_id:
                    return token
        raise KeyError(team_id)

    def join(self, channel_id: str, user_id: str) -> None:
        """Make ``user_id`` a member of the channel."""
        self.workspace.join(channel_id, user_id)

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[ApiCall]:
        """A copy of every recorded call, oldest first."""
        with self._calls_lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        """The recorded calls to one method (e.g. ``"chat.postMessage"``)."""
        with self._calls_lock:
            return [copy.deepcopy(c) for c in self._calls if c.method == method]

    def reset_calls(self) -> None:
        with self._calls_lock:
            self._calls.clear()

    def messages(self, channel_id: str) -> list[Message]:
        """Channel history (top level and replies, deleted ones flagged), in ts order."""
        return self.workspace.messages(channel_id)

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        """The thread's parent followed by its replies, in ts order."""
        return self.workspace.thread(channel_id, thread_ts)

    def ephemerals(self, user_id: str | None = None) -> list[Message]:
        """Ephemeral messages (chat.postEphemeral and ephemeral response_url posts)."""
        return self.workspace.ephemerals(user_id)

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel id with ``user_id`` (created if needed)."""
        return self.workspace.dm_channel(user_id)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view last published for ``user_id``."""
        return self.workspace.home_view(user_id)

    def open_views(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Modals currently open (bottom of each user's stack first)."""
        return self.workspace.open_views(user_id)

    def view(self, view_id: str) -> dict[str, Any]:
        """Any view the app created (open, closed or home), by id."""
        with self.workspace.lock:
            return copy.deepcopy(self.workspace.view(view_id).view)

    def response_url_posts(self) -> list[dict[str, Any]]:
        """Every post to a response_url: ``{url, payload, status, response, at}``."""
        return self.workspace.response_url_posts()

    def uploaded_files(self) -> list[UploadedFile]:
        """Files completed through files.completeUploadExternal."""
        return self.workspace.files()

    def shown(self, since: tuple[int, int, int] = (0, 0, 0)) -> list[tuple[frozenset[str], str]]:
        """Everything the app showed anyone, with who could see it, as Slack would:
        messages (posted or updated) the members of their conversation, ephemerals and
        answers through a response_url their user (or the conversation, in_channel or
        replacing a message there), modals and App Home their user, files their
        conversation. The text is the JSON of what was sent. ``since``: from these
        counts of (calls, response_url posts, files) on (see :meth:`shown_mark`)."""
        ws = self.workspace
        seen: list[tuple[frozenset[str], str]] = []

        def members(channel_id: object) -> frozenset[str]:
            try:
                channel = ws.channel(str(channel_id))
            except SlackError:
                return frozenset()
            return frozenset(m for m in channel.members if m != ws.bot_user_id)

        for call in self.calls[since[0] :]:
            text = json.dumps(call.params, ensure_ascii=False)
            if call.method in ("chat.postMessage", "chat.update"):
                seen.append((members(call.params.get("channel")), text))
            elif call.method == "chat.postEphemeral":
                seen.append((frozenset({str(call.params.get("user"))}), text))
            elif call.method == "views.publish":
                seen.append((frozenset({str(call.params.get("user_id"))}), text))
            elif call.method in ("views.open", "views.push"):
                seen.append(
                    (frozenset({ws.trigger_user(str(call.params.get("trigger_id")))}), text)
                )
            elif call.method == "views.update":
                seen.append((frozenset({ws.view_user(str(call.params.get("view_id")))}), text))
        for post in self.response_url_posts()[since[1] :]:
            record = ws.response_url_record(urlsplit(str(post["url"])).path)
            payload = post["payload"] if isinstance(post["payload"], dict) else {}
            text = json.dumps(payload, ensure_ascii=False)
            if record is None:
                continue
            public = payload.get("response_type") == "in_channel" or (
                payload.get("replace_original") and not record.source_ephemeral
            )
            seen.append(
                (members(record.channel_id) if public else frozenset({record.user_id}), text)
            )
        for file in self.uploaded_files()[since[2] :]:
            seen.append((members(file.channel), (file.content or b"").decode(errors="replace")))
        return seen

    def shown_mark(self) -> tuple[int, int, int]:
        """Where :meth:`shown` stands now, to look at only what comes after."""
        with self._calls_lock:
            calls = len(self._calls)
        return (calls, len(self.response_url_posts()), len(self.uploaded_files()))

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        n: int,
        *,
        status: int = 429,
        retry_after: int = 1,
        method: str | None = None,
        error: str | None = None,
    ) -> None:
        """The next ``n`` matching Web API calls answer HTTP ``status`` and change nothing.

        429 carries ``Retry-After: retry_after`` and ``{"ok": false, "error": "ratelimited"}``;
        5xx carry Slack's error bodies (``fatal_error``, ``service_unavailable``, …)
        unless ``error`` names another.
        """
        self.faults.arm(n, status=status, retry_after=retry_after, method=method, error=error)

    def slow_down(self, seconds: float, method: str | None = None) -> None:
        """Hold every later Web API call to ``method`` (or to any method) ``seconds`` of real time.

        The wait comes before the call takes effect, like a slow network or a busy Slack:
        a client that gives up or dies meanwhile may still find its message posted.
        Other calls are not held up (each request has its own thread). ``slow_down(0, m)``
        removes the latency for ``m``; :meth:`FaultInjector.clear` removes them all.
        """
        self.faults.slow_down(seconds, method)

    def set_latency(self, method: str | None, p50_ms: float, p99_ms: float) -> None:
        """Every later call to ``method`` (None: any) waits a log-normal delay with median
        ``p50_ms`` and 99th percentile ``p99_ms`` (equal: constant), as Slack's latency
        spreads. A method's own wins over the any-method one; ``p50_ms=0`` removes it.
        Draws come from the seeded generator (reproducible); the wait is outside every
        lock, so calls overlap, and adds to any :meth:`slow_down`."""
        self.latency.set(method, p50_ms, p99_ms)

    def set_rate_limits(
        self,
        per_channel_per_second: float | None = 1.0,
        channel_burst: int = 1,
        per_workspace_per_minute: float | None = None,
        workspace_burst: int | None = None,
    ) -> None:
        """Limit ``chat.postMessage`` as Slack does: token buckets per channel (refilled
        at ``per_channel_per_second``, holding ``channel_burst``) and per workspace
        (``per_workspace_per_minute``, holding ``workspace_burst``, by default one
        second's worth); None lifts that limit. Nothing is limited until this is called.

        A call over a limit answers 429 with ``Retry-After`` (whole seconds until a token
        is free) and ``ratelimited``, posts nothing and is counted in :attr:`rate_limited`.
        The buckets start full on every call of this method.
        """
        self.limiter.configure(
            RateLimits(
                per_channel_per_second=per_channel_per_second,
                channel_burst=channel_burst,
                per_workspace_per_minute=per_workspace_per_minute,
                workspace_burst=workspace_burst,
            )
        )

    @property
    def rate_limited(self) -> int:
        """How many calls :meth:`set_rate_limits`' limits answered 429 (not fail_next's)."""
        return self.limiter.limited

    def configure(self, env: Mapping[str, str]) -> None:
        """Apply ``SLACK_EMULATOR_LATENCY`` (``chat.postMessage=150/400,*=20/60``: ms
        p50/p99, ``*`` any method), ``SLACK_EMULATOR_SEED`` (an integer) and
        ``SLACK_EMULATOR_RATE_LIMITS`` (``channel=1/s,channel_burst=3,workspace=600/min,
        workspace_burst=50``) from ``env``, e.g. ``os.environ``; unset or empty ones change
        nothing. A bad value raises ValueError naming it, before anything is applied."""
        latency_text = env.get(LATENCY_ENV, "").strip()
        seed_text = env.get(SEED_ENV, "").strip()
        limits_text = env.get(RATE_LIMITS_ENV, "").strip()
        latency = parse_latency(latency_text) if latency_text else {}
        seed = parse_seed(seed_text) if seed_text else None
        limits = parse_rate_limits(limits_text) if limits_text else None
        if seed is not None:
            self.latency.reseed(seed)
        for method, (p50, p99) in latency.items():
            self.latency.set(method, p50, p99)
        if limits is not None:
            self.limiter.configure(limits)

    # ------------------------------------------------------------------ the token

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes the bot token carries now (what ``x-oauth-scopes`` says)."""
        with self._calls_lock:
            return self._scopes

    def grant_scopes(self, scopes: Iterable[str]) -> None:
        """From now on the bot token carries exactly ``scopes``, as after reinstalling the
        app with a different manifest (the token itself stays the same)."""
        with self._calls_lock:
            self._scopes = tuple(scopes)

    def revoke_token(self, error: str = "token_revoked") -> None:
        """From now on every call with the bot token is refused with ``error``:
        ``token_revoked`` (the app was uninstalled), ``account_inactive`` (the bot user
        was deactivated) or ``invalid_auth``. :meth:`restore_token` undoes it."""
        with self._calls_lock:
            self._token_error = error

    def restore_token(self) -> None:
        """The bot token is accepted again."""
        with self._calls_lock:
            self._token_error = None

    # ------------------------------------------------------------------ request handling

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        body: Any,
        team_id: str | None = None,
    ) -> None:
        response = body if isinstance(body, dict) else {"body": body}
        call = ApiCall(
            method=method,
            params=copy.deepcopy(params),
            status=status,
            response=copy.deepcopy(response),
            at=self.clock(),
            team_id=team_id,
        )
        with self._calls_lock:
            self._calls.append(call)

    def handle_api(
        self, method: str, params: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Answer one Web API call: (HTTP status, extra headers, JSON body)."""
        delay = self.faults.latency(method) + self.latency.delay(method)
        if delay > 0:
            time.sleep(delay)  # outside every lock: other calls go on meanwhile
        params = decode_json_params(params)
        token = params.pop("token", None)
        handler = METHODS.get(method)
        headers: dict[str, str] = {}
        team_id: str | None = None
        if method == "oauth.v2.access":
            status, body = 200, self._oauth_access(params, authorization)
            team = body.get("team")
            team_id = str(team["id"]) if isinstance(team, dict) else None
        elif handler is None:
            status, body = 404, {"ok": False, "error": "unknown_method"}
        elif (fault := self.faults.take(method)) is not None:
            status, headers, body = fault.reply()
        else:
            status = 200
            if authorization and authorization.lower().startswith("bearer "):
                token = authorization[7:].strip()
            with self._calls_lock:
                scopes, token_error = self._scopes, self._token_error
                team_id = self._tokens.get(token) if token else None
            accepted = METHOD_SCOPES.get(method, ())
            if not token:
                body = {"ok": False, "error": "not_authed"}
            elif team_id is None:
                body = {"ok": False, "error": "invalid_auth"}
            elif token_error is not None:
                body = {"ok": False, "error": token_error}
            else:
                # Slack names the token's scopes (and the method's) on every answer to it.
                headers["x-oauth-scopes"] = ",".join(scopes)
                headers["x-accepted-oauth-scopes"] = ",".join(accepted)
                if accepted and not set(accepted) & set(scopes):
                    body = {
                        "ok": False,
                        "error": "missing_scope",
                        "needed": accepted[0],
                        "provided": ",".join(scopes),
                    }
                elif (retry_after := self._over_limit(method, team_id, params)) is not None:
                    status, body = 429, {"ok": False, "error": "ratelimited"}
                    headers["Retry-After"] = str(retry_after)
                else:
                    try:
                        with self.workspace.lock, self.workspace.acting_as(team_id):
                            body = handler(self.workspace, Params(params))
                    except SlackError as exc:
                        body = error_body(method, exc)
        self._record(method, params, status, body, team_id)
        return status, headers, body

    def _over_limit(self, method: str, team_id: str, params: dict[str, Any]) -> int | None:
        """Seconds to wait if this call is over a rate limit (None: go ahead)."""
        if method != "chat.postMessage":
            return None
        channel = str(params.get("channel") or "")
        # A DM posted to by user id is the same channel as by its D id.
        channel = self.workspace.find_channel_id(channel) or channel
        return self.limiter.admit(team_id, channel)

    # ------------------------------------------------------------------ OAuth

    def enable_oauth(self, client_id: str, client_secret: str) -> None:
        """Accept ``oauth.v2.access`` for this app's credentials (multi-workspace installs)."""
        self._oauth_client = (client_id, client_secret)

    def issue_oauth_code(self, user_id: str, team_id: str | None = None) -> str:
        """The ``code`` Slack puts on the redirect after a user approves the install into
        ``team_id`` (default the primary workspace; another one :meth:`add_workspace` made)."""
        team = team_id or self.team_id
        self.token_for(team)  # KeyError for a workspace the emulator does not know
        code = f"{team}.{secrets.token_hex(8)}"
        with self._calls_lock:
            self._oauth_codes[code] = (user_id, team)
        return code

    def _oauth_access(self, params: dict[str, Any], authorization: str | None) -> dict[str, Any]:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:].strip()).decode()
            client_id, _, client_secret = decoded.partition(":")
        if getattr(self, "_oauth_client", None) != (client_id, client_secret):
            return {"ok": False, "error": "invalid_client_id" if client_id else "invalid_arguments"}
        with self._calls_lock:
            issued = self._oauth_codes.pop(str(params.get("code") or ""), None)
        if issued is None:
            return {"ok": False, "error": "invalid_code"}
        user_id, team_id = issued
        team = self.workspace.team(team_id)
        return {
            "ok": True,
            "access_token": self.token_for(team_id),
            "token_type": "bot",
            "scope": str(params.get("scope") or "commands,chat:write"),
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team.id, "name": team.name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": user_id},
        }

    def handle_upload(self, token: str, content: bytes) -> tuple[int, str]:
        record = self.workspace.receive_upload(token, content)
        status, text = (200, f"OK - {len(content)}") if record else (404, "Not Found")
        self._record("files.upload_url", {"file_id": record.id if record else None}, status, text)
        return status, text

    def handle_file_download(
        self, path: str, authorization: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        """GET a file's ``url_private(_download)``, as Slack serves it: the bytes to a
        request carrying the bot token with ``files:read``; to any other, a sign-in web
        page (Slack answers so, with 200, rather than an error)."""
        given = authorization or ""
        token = given[7:].strip() if given.lower().startswith("bearer ") else None
        with self._calls_lock:
            scopes, token_error = self._scopes, self._token_error
        record = self.workspace.file_by_url_path(path)
        allowed = token == self.bot_token and token_error is None and "files:read" in scopes
        if record is None:
            status, headers, body = 404, {"Content-Type": "text/plain; charset=utf-8"}, b"Not Found"
        elif not allowed:
            status, headers, body = 200, {"Content-Type": "text/html; charset=utf-8"}, _SIGN_IN
        else:
            mimetype = self.workspace.file_json(record)["mimetype"]
            status, headers, body = 200, {"Content-Type": mimetype}, record.content or b""
            headers["Content-Disposition"] = f'attachment; filename="{record.id}"'
        self._record(
            "files.download",
            {"file_id": record.id if record else None, "authorized": allowed},
            status,
            {"bytes": len(body) if status == 200 and allowed else 0},
        )
        return status, headers, body

    def handle_response_url(self, path: str, payload: Any) -> tuple[int, str]:
        status, text = self.workspace.post_to_response_url(path, payload)
        params = payload if isinstance(payload, dict) else {"body": payload}
        self._record("response_url", {"url": path, **params}, status, text)
        return status, text


def _make_handler(emulator: SlackEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "SlackEmulator/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def handle(self) -> None:
            try:
                super().handle()
            except ConnectionError:  # the client hung up (or was killed) before the answer
                self.close_connection = True

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                raise ValueError("body too large")
            return self.rfile.read(length) if length > 0 else b""

        def _dispatch(self) -> None:
            url = urlsplit(self.path)
            try:
                body = self._read_body()
            except ValueError:
                self._send(413, {"ok": False, "error": "request_too_large"})
                return
            if url.path.startswith("/api/"):
                params: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
                parsed = self._parse_body(body)
                if parsed is None:
                    self._send(200, {"ok": False, "error": "invalid_json"})
                    return
                params.update(parsed)
                status, headers, reply = emulator.handle_api(
                    url.path[len("/api/") :], params, self.headers.get("Authorization")
                )
                self._send(status, reply, headers)
            elif url.path.startswith("/files-pri/") and self.command == "GET":
                status, headers, data = emulator.handle_file_download(
                    url.path, self.headers.get("Authorization")
                )
                self._send_bytes(status, data, headers)
            elif url.path.startswith("/upload/v1/") and self.command == "POST":
                status, text = emulator.handle_upload(url.path[len("/upload/v1/") :], body)
                self._send_text(status, text)
            elif emulator.workspace.is_response_url_path(url.path) and self.command == "POST":
                try:
                    payload: Any = json.loads(body.decode("utf-8") or "null")
                except (UnicodeDecodeError, json.JSONDecodeError):
                    payload = None
                status, text = emulator.handle_response_url(url.path, payload)
                self._send_text(status, text)
            else:
                self._send_text(404, "Not Found")

        def _parse_body(self, body: bytes) -> dict[str, Any] | None:
            if not body:
                return {}
            content_type = (self.headers.get("Content-Type") or "").lower()
            text = body.decode("utf-8", errors="replace")
            if "application/json" in content_type:
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    return None
                return value if isinstance(value, dict) else None
            return dict(parse_qsl(text, keep_blank_values=True))

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_bytes(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_text(self, status: int, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
