"""The ``readalong`` command line: help, db upgrade/status/check-models, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.cli import main
from bot.config import setting_names
from bot.storage.db import make_engine
from bot.storage.models import Base
from tests.harness import ALICE, BOB, CAROL, CLUB, Harness

TEAM = "T0EMULATOR1"

UNREACHABLE = "postgresql://nobody:hunter2@127.0.0.1:1/none?connect_timeout=3"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    names = {name.upper() for name in setting_names()} | {"READALONG_CONFIG"}
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def db_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: readalong" in out
    assert "start" in out and "db" in out
    with pytest.raises(SystemExit):
        main(["db", "--help"])
    out = capsys.readouterr().out
    assert all(word in out for word in ("upgrade", "status", "check-models"))


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "required" in capsys.readouterr().err


def test_db_upgrade_then_status(db_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "is up to date" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert main(["db", "status"]) == 0
    out, err = capsys.readouterr()
    assert "is ready" in out and str(db_file) in out and err == ""
    assert main(["db", "upgrade"]) == 0  # idempotent


def test_db_status_on_an_unmigrated_database(
    db_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "status"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    line = one_line_error(err)
    assert "has no schema" in line and "`readalong db upgrade`" in line


@pytest.mark.parametrize("command", [["db", "status"], ["db", "upgrade"], ["start"]])
def test_an_unreachable_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    assert main(command) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith("config error: DATABASE_URL: cannot connect to postgresql+psycopg://")
    assert "hunter2" not in line  # the password is hidden


def test_a_config_error_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    assert main(["db", "status"]) == 2
    assert one_line_error(capsys.readouterr().err).startswith("config error: PORT: ")


def test_db_check_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "check-models"]) == 0
    assert "Models and migrations agree." in capsys.readouterr().out


def test_the_installed_console_script(clean_env: Path) -> None:
    script = Path(sys.executable).parent / "readalong"
    assert script.is_file(), f"{script} is missing: install the package (pip install -e .)"
    done = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=clean_env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage: readalong" in done.stdout and "db" in done.stdout and "start" in done.stdout


# --- readalong export ----------------------------------------------------------------


def _club_with_a_finished_step(harness: Harness) -> None:
    """Dune in #book-club: step 1 (chapter 1) posted; Bob quotable, Carol not; a private note."""
    from datetime import time, timedelta

    from bot.domain.model import Cadence, Caller, Visibility

    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", "3")
    start = harness.clock.now().date() + timedelta(days=1)
    services.plans.start(
        Caller(TEAM, ALICE), CLUB, "Dune", Cadence.weekly(start.weekday(), time(9)), 1, start, "UTC"
    )
    harness.clock.set(services.plans.current(TEAM, CLUB).plan.step(1).due_at)
    services.run_due()
    harness.say(BOB, "/reflect", "quotable on")
    harness.say(BOB, "/reflect", f"ch 1 Bob agrees with <@{CAROL}>")
    harness.say(CAROL, "/reflect", "ch 1 Carol would rather not be quoted")
    services.reflections.write(
        TEAM, CLUB, BOB, "Bob's hidden walrus", visibility=Visibility.PRIVATE
    )


@pytest.fixture
def slack_env(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("DATABASE_URL", harness.runtime.settings.database_url)
    monkeypatch.setenv("SLACK_API_URL", harness.emulator.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", harness.emulator.bot_token)
    return harness


def test_export_markdown_shows_names_and_labels_and_withholds_text(
    slack_env: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    _club_with_a_finished_step(slack_env)
    capsys.readouterr()
    assert main(["export", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "## Dune in #book-club (active)" in out
    assert "### Step 1: chapter 1 (posted)" in out and "1–1" not in out
    assert "**bob** (chapter 1): Bob agrees with @carol" in out
    assert "**carol** (chapter 1): _text withheld: carol has not agreed to be quoted_" in out
    assert "Carol would rather" not in out and "walrus" not in out
    assert "(3 chapters)" in out
    for raw in (ALICE, BOB, CAROL, CLUB):
        assert raw not in out


def test_export_json_keeps_ids_beside_names(slack_env: Harness, tmp_path: Path) -> None:
    import json

    _club_with_a_finished_step(slack_env)
    target = tmp_path / "record.json"
    assert main(["export", "--format", "json", "-o", str(target)]) == 0
    record = json.loads(target.read_text(encoding="utf-8"))
    assert "withheld" in record["note"]
    (plan,) = record["plans"]
    assert (plan["channel_id"], plan["channel"]) == (CLUB, "book-club")
    assert (plan["host_user_id"], plan["host"]) == (ALICE, "alice")
    step = plan["steps"][0]
    assert step["chapters"] == "chapter 1"
    by_author = {r["author"]: r for r in step["reflections"]}
    assert set(by_author) == {"bob", "carol"}  # the private one is not even counted
    assert by_author["bob"]["author_id"] == BOB and by_author["bob"]["text_withheld"] is False
    assert by_author["carol"]["text"] is None and by_author["carol"]["text_withheld"] is True


def test_export_without_slack_uses_stored_names(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No token (an admin's laptop): Slack is not asked; the names the bot stored serve
    (set by an admin's tool here, or carried by the member's own slash commands)."""
    import dataclasses

    _club_with_a_finished_step(harness)
    services = harness.runtime.services
    with services.exports.uow() as uow:
        workspace_id = uow.workspaces.ensure(TEAM, harness.clock.now())
        for user_id, name in ((ALICE, "Alice (stored)"), (BOB, "Bob (stored)")):
            member = uow.members.ensure(workspace_id, user_id, harness.clock.now())
            uow.members.save(dataclasses.replace(member, display_name=name))
        group = uow.groups.ensure(workspace_id, CLUB, harness.clock.now())
        uow.groups.save(dataclasses.replace(group, name="club-stored"))
        uow.commit()
    monkeypatch.setenv("DATABASE_URL", harness.runtime.settings.database_url)
    monkeypatch.setenv("SLACK_API_URL", harness.emulator.api_url)  # reachable, but no token
    calls = len(harness.emulator.calls)
    capsys.readouterr()
    assert main(["export", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert len(harness.emulator.calls) == calls  # Slack was not asked
    assert "## Dune in #club-stored (active)" in out
    assert "**Bob (stored)** (chapter 1): Bob agrees with" in out
    assert "**carol** (chapter 1): _text withheld" in out  # her commands' user_name
    assert ALICE not in out and BOB not in out and CLUB not in out


def test_book_import_adds_an_epub_with_its_chapter_titles(
    db_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy.orm import sessionmaker

    from bot.storage.uow import SqlAlchemyUnitOfWork
    from tests.epub_files import NOVEL_CHAPTERS, build_epub, damaged

    assert main(["db", "upgrade"]) == 0
    book = tmp_path / "lighthouse.epub"
    book.write_bytes(build_epub())
    assert main(["book", "import", str(book)]) == 1
    assert "No workspace has used Readalong yet" in one_line_error(capsys.readouterr().err)
    assert main(["book", "import", str(book), "--workspace", TEAM]) == 0
    out = capsys.readouterr().out
    assert "The Lighthouse Keeper — Ada Lovelace & Co (lighthouse.epub)" in out
    assert "  [ ]   1  Cover" in out and "  [x]   7    Chapter 1: Arrival" in out
    assert "Added #1 The Lighthouse Keeper — Ada Lovelace & Co (5 chapters)" in out
    # The only workspace is the one; chosen entries, another title.
    assert (
        main(["book", "import", str(book), "--chapters", "7-8", "--title", "Keeper, abridged"]) == 0
    )
    assert "Added #2 Keeper, abridged" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        uow = SqlAlchemyUnitOfWork(sessionmaker(engine, expire_on_commit=False))
        with uow() as unit:
            shelf = unit.books.all(unit.workspaces.ensure(TEAM, datetime.now(UTC)))
    finally:
        engine.dispose()
    assert [[c.title for c in b.chapters] for b in shelf] == [NOVEL_CHAPTERS, NOVEL_CHAPTERS[:2]]
    # The same book again, a broken file, a missing one: one line each, nothing added.
    assert main(["book", "import", str(book)]) == 1
    assert "is already on the shelf" in one_line_error(capsys.readouterr().err)
    broken = tmp_path / "broken.epub"
    broken.write_bytes(damaged(build_epub()))
    assert main(["book", "import", str(broken)]) == 1
    assert "it is not an EPUB file, or it is damaged" in one_line_error(capsys.readouterr().err)
    assert main(["book", "import", str(tmp_path / "nowhere.epub")]) == 2
    assert "no file" in one_line_error(capsys.readouterr().err)
    assert main(["book", "import", str(book), "--chapters", "99"]) == 1
    assert "numbered 1 to 15" in one_line_error(capsys.readouterr().err)
