"""The ``readalong`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bot.config import ConfigError, Settings, load_settings
from bot.storage.db import DatabaseNotReady, check_models, ensure_ready, make_engine, upgrade

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace, Settings], int]


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        ensure_ready(engine)
    finally:
        engine.dispose()
    print(f"Database {engine.url.render_as_string(hide_password=True)} is up to date.")
    return 0


def _db_check_models(args: argparse.Namespace, settings: Settings) -> int:
    """Build a scratch SQLite database from the migrations and diff it against the models."""
    engine = make_engine("sqlite://")
    try:
        upgrade(engine)
        check_models(engine)
    finally:
        engine.dispose()
    print("Models and migrations agree.")
    return 0


def _db_status(args: argparse.Namespace, settings: Settings) -> int:
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
        print("Slack credentials found; starting the bot. (Coming with the Slack surface.)")
    else:
        print(
            "No SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET configured.\n"
            "Next: copy config.example.yaml to config.yaml and fill in the Slack settings,\n"
            "or run the tests with `make test`."
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="readalong",
        description="Readalong: a Slack bot for reading groups and mentoring pairs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    start = sub.add_parser(
        "start", help="migrate the database, then start the bot (what `make run` does)"
    )
    start.set_defaults(handler=_start)

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
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        logging.getLogger("alembic").setLevel(logging.WARNING)
        handler: Handler = args.handler
        return handler(args, settings)
    except (ConfigError, DatabaseNotReady) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
