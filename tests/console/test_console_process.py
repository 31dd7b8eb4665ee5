"""``readalong console`` and ``readalong demo`` as real processes, input piped in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from bot.console.demo import DEMO_SCRIPT

TIMEOUT = 120


def console_env(repo_root: Path) -> dict[str, str]:
    """A newcomer's environment: no Slack, no database or Readalong settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("SLACK_", "READALONG_", "DATABASE_URL", "DEFAULT_"))
    }
    env["PYTHONPATH"] = str(repo_root)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def readalong(
    args: list[str], cwd: Path, repo_root: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = console_env(repo_root)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )


def without_database_line(transcript: str) -> list[str]:
    return [line for line in transcript.splitlines() if "Database:" not in line]


def test_demo_plays_the_tour_and_exits_0(tmp_path: Path, repo_root: Path) -> None:
    done = readalong(["demo"], tmp_path, repo_root)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "alice @ #book-club> /book add The Left Hand of Darkness" in out  # commands echoed
    assert "· prompt p1" in out and "The Left Hand of Darkness: step 1 of 3" in out  # a prompt
    assert "@bob reflected on chapters 1–2:" in out  # a reflection, through the Reflect modal
    assert "#book-club › thread p1 · carol" in out  # a threaded reply
    assert "(direct message to you)" in out and "A gentle nudge" in out  # the reminder
    assert "📚 The Left Hand of Darkness: Step 1" in out  # the digest
    assert "📎 " in out and "┊ # Reflections on *The Left Hand of Darkness*" in out  # the export
    assert "🏠 App Home of bob" in out
    assert "⚠" not in out, out
    assert not list(tmp_path.iterdir()), "the demo leaves no database behind"


def test_a_script_piped_into_the_console_reproduces_the_demo(
    tmp_path: Path, repo_root: Path
) -> None:
    demo = readalong(["demo"], tmp_path, repo_root)
    console = readalong(
        ["console", "--db", str(tmp_path / "club.db")], tmp_path, repo_root, DEMO_SCRIPT
    )
    assert console.returncode == 0, console.stdout + console.stderr
    assert without_database_line(console.stdout) == without_database_line(demo.stdout)
    assert (tmp_path / "club.db").is_file()
    state = json.loads((tmp_path / "club.db.console.json").read_text(encoding="utf-8"))
    assert state["now"].startswith("2027-01-11T10:00:00")  # where the demo (pair too) ends


def test_start_without_slack_tokens_opens_the_console(tmp_path: Path, repo_root: Path) -> None:
    done = readalong(["start"], tmp_path, repo_root, "/book list\n:quit\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "starting the console" in done.stdout
    assert "alice @ #book-club> /book list" in done.stdout and "Bye." in done.stdout
    assert (tmp_path / "readalong.db").is_file()


def test_a_pipe_gets_each_answer_as_its_line_runs_not_when_input_ends(
    tmp_path: Path, repo_root: Path
) -> None:
    """Someone (or a script) driving the console through a pipe reads an answer (a
    secret calendar link, say) before sending the next line."""
    env = console_env(repo_root)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--db", str(tmp_path / "pipe.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    watchdog = threading.Timer(TIMEOUT, process.kill)  # no answer: killed, and the test fails
    watchdog.start()
    try:
        process.stdin.write("/book list\n")
        process.stdin.flush()  # and the pipe stays open: no end of input yet
        seen = []
        for line in process.stdout:  # blocks until the console writes: no sleeping
            seen.append(line)
            if "The shelf is empty" in line:
                break
        assert any("The shelf is empty" in line for line in seen), "".join(seen)
        assert process.poll() is None  # still running, still reading
        process.stdin.write(":quit\n")
        process.stdin.close()
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
        process.stdout.close()
