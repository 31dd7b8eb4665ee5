"""Issue 16's faster start, held: what `readalong serve` and `readalong tick` import before
they answer is what a first request needs. Libraries a feature uses only when it is used
(a calendar feed, an EPUB, a fuzzy match, a migration, the console, a chart, YAML
settings, slugs, the scheduler for tick) stay out of start-up: the real processes, with
Python's own import log (``PYTHONPROFILEIMPORTTIME``)."""

from __future__ import annotations

import re
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator.server import SlackEmulator
from tests.process_helpers import (
    ServerProcess,
    console_script,
    readalong_argv,
    readalong_env,
    sqlite_database,
)

SECRET = "startup-signing-secret"
#: Top-level packages a first request never needs (each imported where it is used).
DEFERRED = {
    "alembic",  # only to migrate
    "apscheduler",  # tick: never; serve: when the scheduler starts (not with --no-scheduler)
    "dateutil",  # icalendar's
    "ebooklib",  # an EPUB import
    "icalendar",  # a calendar feed
    "lxml",  # ebooklib's
    "mako",
    "matplotlib",  # benchmarks' charts
    "pydantic",
    "pydantic_settings",
    "pygments",
    "rapidfuzz",  # the first name that does not match as typed
    "rich",  # the console
    "slugify",  # an export
    "yaml",  # a config.yaml, an export
}
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", re.M)


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    emu = SlackEmulator().start()
    yield emu
    emu.stop()


def imported(log: str) -> set[str]:
    found = {name.split(".")[0] for name in _IMPORTED.findall(log)}
    assert "sqlalchemy" in found, "no import log: PYTHONPROFILEIMPORTTIME not honoured"
    return found


def test_serve_answers_without_importing_what_no_first_request_needs(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    with sqlite_database(tmp_path) as database:
        env = readalong_env(emulator, database, secret=SECRET, PYTHONPROFILEIMPORTTIME="1")
        serve = ServerProcess(
            "startup", readalong_argv("--no-scheduler"), env=env, cwd=tmp_path, log_dir=tmp_path
        )
        try:
            url = serve.wait_listening()
            with urllib.request.urlopen(f"{url}/healthz", timeout=10) as answer:
                assert answer.status == 200
            serve.process.send_signal(signal.SIGTERM)
            assert serve.process.wait(timeout=15) == 0
            log = serve.log_text()
        finally:
            serve.close()
    assert imported(log) & DEFERRED == set()


def test_tick_with_nothing_due_imports_only_what_it_uses(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    with sqlite_database(tmp_path) as database:
        env = readalong_env(emulator, database, secret=SECRET, PYTHONPROFILEIMPORTTIME="1")
        done = subprocess.run(
            [console_script("readalong"), "tick"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert imported(done.stderr) & (DEFERRED | {"slack_bolt", "waitress"}) == set()
