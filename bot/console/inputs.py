"""Where the console's lines come from: a terminal (readline) or a script (a pipe, a test)."""

from __future__ import annotations

import atexit
import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol


class LineSource(Protocol):
    """Where the person's lines come from."""

    @property
    def interactive(self) -> bool: ...

    def read(self, prompt: str) -> str | None:
        """The next line (without its newline), or ``None`` at the end of input."""


class TerminalInput:
    """Lines typed at a terminal, with readline editing and history (kept between runs)."""

    interactive = True

    def __init__(self, history: Path | None = None) -> None:
        self.history = history
        try:
            import readline
        except ImportError:  # Windows without pyreadline: plain input()
            return
        if history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(history)
            readline.set_history_length(1000)
            atexit.register(self._save, readline)

    def _save(self, readline: Any) -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(self.history)

    def read(self, prompt: str) -> str | None:
        try:
            return input(prompt)
        except EOFError:
            return None


class ScriptInput:
    """Lines from a script, a pipe or a test; more can be fed while the shell runs."""

    interactive = False

    def __init__(self, lines: Iterable[str] = ()) -> None:
        self._lines: deque[str] = deque()
        # Read one line at a time: a pipe's answers show as each line is run, not at its end.
        self._rest: Iterator[str] = iter(lines)

    def feed(self, text: str) -> None:
        """Queue every line of ``text``, to be read before what is left of the script."""
        self._lines.extend(text.split("\n"))

    @property
    def pending(self) -> int:
        """Lines fed and not yet read."""
        return len(self._lines)

    def read(self, prompt: str) -> str | None:
        if self._lines:
            return self._lines.popleft()
        line = next(self._rest, None)
        return None if line is None else line.rstrip("\r\n")
