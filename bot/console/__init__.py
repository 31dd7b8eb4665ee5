"""Console mode: the whole bot on one machine, no Slack workspace needed.

``readalong console`` runs SQLite, a loopback Slack emulator (a workspace with
``#book-club``, alice, bob and carol, and whoever else joins: ``:as dave``) and the real
bolt app in HTTP mode in one process, and gives a prompt where you act as a member, in
any conversation they are in (channels, private channels, group DMs, DMs). ``readalong demo`` plays a scripted tour
through the same console. Entry points for ``bot.cli``: :func:`add_console_arguments`,
:func:`console_main`, :func:`add_demo_arguments`, :func:`demo_main`.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.config import ConfigError, Settings

if TYPE_CHECKING:
    from rich.console import Console

    from bot.console.inputs import LineSource

DEFAULT_DB = "readalong.db"
HISTORY_FILE = ".readalong_console_history"


def add_console_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``readalong console``."""
    parser.add_argument(
        "--db",
        default=DEFAULT_DB,
        metavar="PATH",
        help=f"SQLite file, created and migrated on first use (default ./{DEFAULT_DB})",
    )
    _common_arguments(parser)


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``readalong demo``."""
    parser.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="SQLite file to use (default: a temporary database, deleted afterwards)",
    )
    _common_arguments(parser)


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--start",
        default=None,
        metavar="TIME",
        help="virtual time to start at, e.g. '2026-12-07 08:00' (default: Monday 7 Dec 2026 "
        "08:00, or where the last console session on this database stopped)",
    )
    parser.add_argument(
        "--as",
        dest="as_user",
        default="alice",
        metavar="NAME",
        help="the member you start as (alice, bob, carol, or a new name, who joins the "
        "workspace; default alice)",
    )


def console_main(args: argparse.Namespace, settings: Settings) -> int:
    """``readalong console``: an interactive prompt, or a script when stdin is not a terminal."""
    from bot.console.inputs import ScriptInput, TerminalInput

    db = Path(getattr(args, "db", None) or DEFAULT_DB)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Through a pipe too, each answer shows as it comes (a secret link to use at once).
        sys.stdout.reconfigure(line_buffering=True)
    source = (
        TerminalInput(Path.home() / HISTORY_FILE) if sys.stdin.isatty() else ScriptInput(sys.stdin)
    )
    return run_console(
        settings,
        db,
        source,
        _console(sys.stdout),
        start=_start_time(args, settings),
        user=getattr(args, "as_user", None) or "alice",
    )


def demo_main(args: argparse.Namespace, settings: Settings) -> int:
    """``readalong demo``: the scripted tour, printed as a transcript. Non-zero if a step failed."""
    from bot.console.demo import DEMO_SCRIPT
    from bot.console.inputs import ScriptInput

    source = ScriptInput(DEMO_SCRIPT.splitlines())
    out = _console(sys.stdout)
    start = _start_time(args, settings)
    user = getattr(args, "as_user", None) or "alice"
    if getattr(args, "db", None):
        return run_console(
            settings, Path(args.db), source, out, start=start, user=user, strict=True
        )
    with tempfile.TemporaryDirectory(prefix="readalong-demo-") as tmp:
        return run_console(
            settings,
            Path(tmp) / "demo.db",
            source,
            out,
            start=start,
            user=user,
            remember_time=False,
            strict=True,
        )


def run_console(
    settings: Settings,
    db_path: Path,
    source: LineSource,
    out: Console,
    *,
    start: datetime | None = None,
    user: str = "alice",
    remember_time: bool = True,
    strict: bool = False,
) -> int:
    """Start the world on ``db_path``, run the shell over ``source`` until it ends.

    ``strict``: exit 1 when any command failed (for the demo and scripted checks).
    """
    from bot.console.shell import Shell
    from bot.console.world import ConsoleError, ConsoleWorld

    _quiet_logs()
    try:
        world = ConsoleWorld(settings, db_path, start=start, remember_time=remember_time)
    except ConsoleError as exc:
        raise ConfigError(str(exc)) from None
    with world:
        try:
            shell = Shell(world, source, out, user=user)
        except ConsoleError as exc:
            raise ConfigError(f"--as: {exc}") from None
        status = shell.run()
    return 1 if strict and shell.failures else status


def _console(stream: TextIO) -> Console:
    from rich.console import Console

    return Console(file=stream, highlight=False, emoji=False, markup=False, soft_wrap=True)


def _start_time(args: argparse.Namespace, settings: Settings) -> datetime | None:
    text = getattr(args, "start", None)
    if not text:
        return None
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise ConfigError(f"--start: {text!r} is not a time, e.g. 2026-12-07 08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(settings.default_timezone))


def _quiet_logs() -> None:
    """The transcript is the output: only warnings and errors from the libraries."""
    root = logging.getLogger()
    if root.level < logging.WARNING:
        root.setLevel(logging.WARNING)
    for name in ("slack_sdk", "waitress", "alembic", "bot"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    # Bolt warns about requests nobody handles (an unknown /command); the console says so itself.
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)


__all__ = [
    "add_console_arguments",
    "add_demo_arguments",
    "console_main",
    "demo_main",
    "run_console",
]
