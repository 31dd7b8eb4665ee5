"""The ``readalong`` command line.

Start-up time matters here (`readalong tick` runs from cron every minute; `serve` should
answer within a second): this module imports next to nothing itself, each command
imports what it uses, and the garbage collector is off while a command starts up (start-up
allocates much and frees little, and every collection would walk all of it). A command
turns it back on when its start-up is over (:func:`started`); `serve` first freezes
what start-up built, for the ack path's sake.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace, "Settings"], int]


def started(*, freeze: bool = False, collect: bool = False) -> None:
    """Start-up is over: the collector runs again.

    ``freeze`` first moves everything built so far out of its sight (else the first
    collection would walk all of it: ~0.1 s); ``collect`` frees start-up's garbage before
    that, as a server does (what it froze lives as long as the process, and no full
    collection walks it again to pause acknowledgements)."""
    if collect:
        gc.collect()
    if freeze:
        gc.freeze()
    gc.enable()


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.db import ensure_reachable, ensure_ready, make_engine, upgrade

    engine = make_engine(settings.database_url)
    try:
        ensure_reachable(engine)  # a one-line error, not a traceback, when it cannot connect
        upgrade(engine)
        ensure_ready(engine)
    finally:
        engine.dispose()
    print(f"Database {engine.url.render_as_string(hide_password=True)} is up to date.")
    return 0


def _db_check_models(args: argparse.Namespace, settings: Settings) -> int:
    """Build a scratch SQLite database from the migrations and diff it against the models."""
    from bot.storage.db import check_models, make_engine, upgrade

    engine = make_engine("sqlite://")
    try:
        upgrade(engine)
        check_models(engine)
    finally:
        engine.dispose()
    print("Models and migrations agree.")
    return 0


def _db_status(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.db import ensure_ready, make_engine

    engine = make_engine(settings.database_url)
    try:
        ensure_ready(engine)
    finally:
        engine.dispose()
    print(f"Database {engine.url.render_as_string(hide_password=True)} is ready.")
    return 0


def _start(args: argparse.Namespace, settings: Settings) -> int:
    """``make run``: migrate, then start the real bot (tokens set) or the console."""
    _db_upgrade(args, settings)
    if settings.has_slack_credentials:
        if settings.slack_app_token:
            print("Slack credentials found: starting the bot in Socket Mode.", flush=True)
            return _run_socket_mode(args, settings)
        print("Slack credentials found: starting the bot over HTTP.", flush=True)
        return _serve(argparse.Namespace(host=None, port=None, no_scheduler=False), settings)
    print(
        "No SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET configured: starting the console.\n"
        "(For Slack, copy config.example.yaml to config.yaml and fill in the Slack settings.)"
    )
    from bot.console import console_main

    started()
    return console_main(args, settings)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """HTTP mode: commands, events and interactivity on POST /slack/events."""
    from bot.bootstrap import build_runtime
    from bot.serving import HttpServer

    # --port 0 asks for a free port: 0 is a choice here, not "unset".
    port = settings.port if args.port is None else args.port
    settings = dataclasses.replace(settings, host=args.host or settings.host, port=port)
    _require_slack(settings)
    sys.setswitchinterval(settings.gil_switch_interval_ms / 1000)
    runtime = build_runtime(settings)
    server = HttpServer(runtime.wsgi, settings.host, settings.port)
    runtime.serving_at(server.url)
    if settings.scheduler_enabled and not args.no_scheduler:
        runtime.scheduler.start()
    # Everything built so far lives as long as the process: keep the collector from
    # walking it again and again (full collections would pause acknowledgements).
    started(collect=True, freeze=True)
    print(
        f"Readalong listening on {server.url}/slack/events (health: {server.url}/healthz)",
        flush=True,
    )
    try:
        server.serve_forever()
    finally:
        runtime.close()
    return 0


def _tick(args: argparse.Namespace, settings: Settings) -> int:
    """Run everything due once (for cron deployments and operators), then exit."""
    from bot.bootstrap import build_services
    from bot.config import ConfigError
    from bot.services.ports import FakeClock

    clock = None
    if args.now:
        try:
            moment = datetime.fromisoformat(args.now)
        except ValueError:
            raise ConfigError(
                f"--now: {args.now!r} is not an ISO-8601 time, e.g. 2026-12-07T09:00:00+01:00"
            ) from None
        clock = FakeClock(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    _require_slack(settings)
    # Only the use cases: no bolt app, HTTP server or scheduler to build for one pass.
    services, close = build_services(settings, clock=clock)
    started(freeze=True)  # a short-lived process: its start-up's garbage may stay
    try:
        report = services.run_due()
    finally:
        close()
    print(
        f"posted {len(report.posted)} (late {len(report.late)}, recovered {len(report.recovered)}), "
        f"retrying {len(report.retrying)}, missed {len(report.missed)}, reminders {report.reminded}, "
        f"digests {report.digests}, polls closed {report.polls}"
    )
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    """Is the Slack app set up right for these settings? 0 when it is, 1 with what to fix."""
    from bot.check import run_checks

    if settings.log_level != "DEBUG":  # the report is the output; the app's INFO lines are noise
        logging.getLogger().setLevel(logging.WARNING)
    report = run_checks(settings, url=args.url, timeout=args.timeout)
    print(report.render(), flush=True)
    return 0 if report.ok else 1


def _request_url(value: str) -> str:
    """``--url``: an http(s) URL; a bare host means its /slack/events."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {value!r}")
    if parts.path in ("", "/"):
        parts = parts._replace(path="/slack/events")
    return urlunsplit(parts)


def _run_socket_mode(args: argparse.Namespace, settings: Settings) -> int:
    """Socket Mode: no public URL needed; needs SLACK_APP_TOKEN (xapp-…)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.bootstrap import build_runtime
    from bot.config import ConfigError

    if not settings.slack_app_token:
        raise ConfigError(
            "config error: SLACK_APP_TOKEN: Socket Mode needs an app-level token (xapp-…)"
        )
    _require_slack(settings)
    runtime = build_runtime(settings)
    started(collect=True, freeze=True)
    try:
        SocketModeHandler(runtime.app, settings.slack_app_token).start()  # type: ignore[no-untyped-call]
    finally:
        runtime.close()
    return 0


def _require_slack(settings: Settings) -> None:
    from bot.config import ConfigError

    if not settings.slack_signing_secret:
        raise ConfigError(
            "config error: SLACK_SIGNING_SECRET: required to verify requests from Slack"
        )
    if not settings.slack_bot_token and not (
        settings.slack_client_id and settings.slack_client_secret
    ):
        raise ConfigError(
            "config error: SLACK_BOT_TOKEN: required (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"
        )


def _export(args: argparse.Namespace, settings: Settings) -> int:
    """Write what an admin may take away, as JSON or Markdown, to stdout or --output."""
    import json

    from bot.bootstrap import build_services
    from bot.domain.export import record_markdown
    from bot.services.export import ExportService

    services, close = build_services(settings)
    exports = services.exports
    if not settings.slack_bot_token:  # no Slack to ask: the names the bot stored will do
        exports = ExportService(exports.uow, exports.clock)
    try:
        record = exports.record(channel_id=args.group, book_ref=args.book, member=args.member)
    finally:
        close()
    text = (
        json.dumps(record, indent=2, ensure_ascii=False)
        if args.format == "json"
        else record_markdown(record)
    )
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    return 0


def _book_import(args: argparse.Namespace, settings: Settings) -> int:
    """Add a book from an EPUB file, its chapters read from the table of contents."""
    from pathlib import Path

    from bot.bootstrap import build_services
    from bot.domain.errors import DomainError
    from bot.domain.imports import describe_picks, parse_picks
    from bot.epub import size_refusal
    from bot.services.imports import preview

    path = Path(args.file)
    if not path.is_file():
        print(f"readalong book import: no file {str(path)!r}", file=sys.stderr)
        return 2
    too_big = size_refusal(path.stat().st_size)
    try:
        if too_big is not None:
            raise too_big  # before reading a byte of it
        data = path.read_bytes()
        contents, picks = preview(data, path.name)
        print(f"{contents.title} — {contents.author} ({path.name})")
        for index, entry in enumerate(contents.entries):
            mark = "[x]" if index in picks else "[ ]"
            print(f"  {mark} {index + 1:>3}  {'  ' * entry.depth}{entry.title}")
        if args.chapters:
            picks = parse_picks(args.chapters, len(contents.entries))
        elif sys.stdin.isatty() and not args.yes and contents.entries:
            typed = input(f"Chapters to keep [{describe_picks(picks)}]: ").strip()
            if typed:
                picks = parse_picks(typed, len(contents.entries))
        services, close = build_services(settings)
        try:
            team = services.imports.workspace_for_import(args.workspace)
            book = services.imports.add_from_file(
                team, data, path.name, picked=picks, title=args.title, author=args.author
            )
        finally:
            close()
    except DomainError as exc:
        print(f"readalong book import: {exc.message}", file=sys.stderr)
        return 1
    print(
        f"Added #{book.id} {book.title} — {book.author} ({book.chapter_count} chapters) to the "
        f"shelf of {team}."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    from bot.console import add_console_arguments, add_demo_arguments, console_main, demo_main

    parser = argparse.ArgumentParser(
        prog="readalong",
        description="Readalong: a Slack bot for reading groups and mentoring pairs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    start = sub.add_parser(
        "start", help="migrate the database, then start the bot (what `make run` does)"
    )
    start.set_defaults(handler=_start)

    console = sub.add_parser(
        "console", help="the whole bot in your terminal, against a built-in Slack emulator"
    )
    add_console_arguments(console)
    console.set_defaults(handler=console_main)

    demo = sub.add_parser("demo", help="a scripted tour through the console, printed")
    add_demo_arguments(demo)
    demo.set_defaults(handler=demo_main)

    serve = sub.add_parser(
        "serve", help="run the bot in HTTP mode (POST /slack/events, GET /healthz)"
    )
    serve.add_argument(
        "--host", default=None, help="interface to listen on (default from config: 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=None, help="port (default from config: 3000)")
    serve.add_argument(
        "--no-scheduler", action="store_true", help="HTTP worker only; another process schedules"
    )
    serve.set_defaults(handler=_serve)

    tick = sub.add_parser(
        "tick", help="post everything due now (prompts, reminders) once, then exit"
    )
    tick.add_argument("--now", default=None, help="act as if it were this ISO-8601 time")
    tick.set_defaults(handler=_tick)

    check = sub.add_parser(
        "check",
        help="check the Slack app's setup: token, scopes, signing secret, database, "
        "/slack/events, channels",
        description="Check the configured settings against Slack and the database. Exits 0 "
        "when all is well, 1 with a list of what to fix.",
    )
    check.add_argument(
        "--url",
        type=_request_url,
        default=None,
        help="send the signed test request to this deployed Request URL (e.g. "
        "https://readalong.example.com/slack/events) instead of serving the app from these "
        "settings on a loopback port",
    )
    check.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for each answer (default 10)"
    )
    # A setting that cannot be read is one more thing to fix, not a usage error.
    check.set_defaults(handler=_check, config_error_status=1)

    run = sub.add_parser("run", help="run the bot in Socket Mode (needs SLACK_APP_TOKEN)")
    run.set_defaults(handler=_run_socket_mode)

    export = sub.add_parser(
        "export", help="export books, plans, shared reflections, threads and digests"
    )
    export.add_argument("--format", choices=("json", "markdown"), default="json")
    export.add_argument("--group", default=None, help="only this channel id (C…)")
    export.add_argument("--book", default=None, help="only this book (id or title)")
    export.add_argument("--member", default=None, help="only this member's text (U…)")
    export.add_argument("--output", "-o", default=None, help="file to write (default: stdout)")
    export.set_defaults(handler=_export)

    book = sub.add_parser("book", help="the shelf: add a book from an EPUB file")
    book_sub = book.add_subparsers(dest="book_command", required=True, metavar="BOOK_COMMAND")
    book_import = book_sub.add_parser(
        "import",
        help="add a book from an EPUB file: title, author and chapter titles from its table "
        "of contents (front matter, acknowledgements, the index… left out)",
        description="Read an EPUB's title, author and table of contents, list the entries "
        "with the ones that look like chapters marked, and add the book with those as its "
        "chapters (ask which at a terminal, or give --chapters).",
    )
    book_import.add_argument("file", help="the .epub file")
    book_import.add_argument(
        "--workspace",
        default=None,
        help="the Slack team id (T…) whose shelf takes it (needed when there are several)",
    )
    book_import.add_argument(
        "--chapters", default=None, help="the entries to keep, as listed: e.g. 6-7,9-12"
    )
    book_import.add_argument("--title", default=None, help="use this title instead")
    book_import.add_argument("--author", default=None, help="use this author instead")
    book_import.add_argument(
        "--yes", "-y", action="store_true", help="keep the marked entries without asking"
    )
    book_import.set_defaults(handler=_book_import)

    db = sub.add_parser("db", help="database schema: upgrade, status, check-models")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_sub.add_parser("upgrade", help="apply every pending migration").set_defaults(
        handler=_db_upgrade
    )
    db_sub.add_parser("status", help="is the database reachable and current?").set_defaults(
        handler=_db_status
    )
    db_sub.add_parser(
        "check-models", help="check that the ORM models and the migrations agree (alembic check)"
    ).set_defaults(handler=_db_check_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    collecting = gc.isenabled()
    gc.disable()  # until the command's start-up is over (see the module's docstring)
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


# Commands that say themselves when their start-up is over (they call started()).
_LONG_STARTS = frozenset({"serve", "run", "tick", "start"})


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from bot.config import ConfigError, load_settings
    from bot.observability import configure_logging
    from bot.storage.db import DatabaseNotReady

    try:
        settings = load_settings()
        # Every command logs the same way: LOG_LEVEL, LOG_FORMAT (text or json), and nothing
        # private (tokens, response URLs, request bodies) whatever a library prints. The
        # console and the demo then quiet the libraries further (their output is the show).
        configure_logging(settings.log_level, settings.log_format)
        if args.command not in _LONG_STARTS:
            started()
        handler: Handler = args.handler
        return handler(args, settings)
    except (ConfigError, DatabaseNotReady) as exc:
        print(str(exc), file=sys.stderr)
        return int(getattr(args, "config_error_status", 2))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
