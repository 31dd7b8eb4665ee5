"""Transcript fixtures: the console's own loop, fed lines in memory, its output captured."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from bot.config import Settings
from bot.console.inputs import ScriptInput
from bot.console.shell import Shell
from bot.console.world import ConsoleWorld


@dataclass
class Conversation:
    """A member at the console: :meth:`say` types lines and returns what the console showed."""

    world: ConsoleWorld
    shell: Shell
    source: ScriptInput
    stream: io.StringIO

    def say(self, typed: str) -> str:
        """Type ``typed`` (several lines for a form's answers); the output it produced."""
        start = len(self.stream.getvalue())
        self.source.feed(typed)
        while self.source.pending and self.shell.step():
            pass
        return self.stream.getvalue()[start:]

    def expect(self, exchanges: Sequence[tuple[str, str | Sequence[str]]]) -> str:
        """Each (what the member types, fragment(s) the console must show in answer)."""
        transcript = []
        for typed, wanted in exchanges:
            shown = self.say(typed)
            transcript.append(shown)
            fragments = [wanted] if isinstance(wanted, str) else list(wanted)
            for fragment in fragments:
                assert fragment in shown, (
                    f"after typing {typed!r} expected {fragment!r} in:\n{shown}"
                )
        return "".join(transcript)

    @property
    def transcript(self) -> str:
        return self.stream.getvalue()

    @classmethod
    def start(cls, db: Path, settings: Settings | None = None) -> Conversation:
        """A console on ``db`` (use as a context manager), its banner already shown;
        ``settings`` default to :func:`console_settings`."""
        stream = io.StringIO()
        out = Console(file=stream, width=120, color_system=None, soft_wrap=True)
        source = ScriptInput()
        world = ConsoleWorld(settings or console_settings(), db).__enter__()
        try:
            shell = Shell(world, source, out)
            shell.start()
        except BaseException:
            world.close()
            raise
        return cls(world, shell, source, stream)

    def __enter__(self) -> Conversation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.world.close()


def console_settings() -> Settings:
    return Settings(default_timezone="Europe/Berlin", log_level="WARNING")


@pytest.fixture
def talk(tmp_path: Path) -> Iterator[Conversation]:
    """A fresh console on a temporary database, acting as alice, Mon 7 Dec 2026 08:00."""
    with Conversation.start(tmp_path / "console.db") as conversation:
        yield conversation
