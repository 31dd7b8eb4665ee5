"""The ``readalong`` command line: help, db upgrade/status/check-models, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.cli import main
from bot.config import Settings
from bot.storage.db import make_engine
from bot.storage.models import Base

UNREACHABLE = "postgresql://nobody:hunter2@127.0.0.1:1/none?connect_timeout=3"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    names = {name.upper() for name in Settings.model_fields} | {"READALONG_CONFIG"}
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


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]):
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


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "required" in capsys.readouterr().err


def test_db_upgrade_then_status(db_file: Path, capsys: pytest.CaptureFixture[str]):
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


def test_db_status_on_an_unmigrated_database(db_file: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["db", "status"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    line = one_line_error(err)
    assert "has no schema" in line and "`readalong db upgrade`" in line


@pytest.mark.parametrize("command", [["db", "status"], ["db", "upgrade"], ["start"]])
def test_an_unreachable_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
):
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    assert main(command) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith("config error: DATABASE_URL: cannot connect to postgresql+psycopg://")
    assert "hunter2" not in line  # the password is hidden


def test_a_config_error_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("PORT", "not-a-port")
    assert main(["db", "status"]) == 2
    assert one_line_error(capsys.readouterr().err).startswith("config error: PORT: ")


def test_db_check_models(capsys: pytest.CaptureFixture[str]):
    assert main(["db", "check-models"]) == 0
    assert "Models and migrations agree." in capsys.readouterr().out


def test_the_installed_console_script(clean_env: Path):
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
