"""`readalong tick --now …` posts what is due at that moment, once."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.cli import main
from bot.domain.model import Cadence, Caller
from tests.harness import ALICE, CLUB, SECRET, Harness

TEAM = "T0EMULATOR1"


def test_tick_posts_due_prompts_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", "3")
    services.plans.start(
        Caller(TEAM, ALICE),
        CLUB,
        "Dune",
        Cadence.weekly(0, time(9)),
        1,
        date(2026, 12, 7),
        "Europe/Berlin",
    )
    for key, value in {
        "DATABASE_URL": harness.runtime.settings.database_url,
        "SLACK_API_URL": harness.emulator.api_url,
        "SLACK_BOT_TOKEN": harness.emulator.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "CHANNEL_POST_INTERVAL_SECONDS": "0",
    }.items():
        monkeypatch.setenv(key, value)
    assert main(["tick", "--now", "2026-12-07T07:59:00+00:00"]) == 0
    assert "posted 0" in capsys.readouterr().out
    assert main(["tick", "--now", "2026-12-07T09:00:00+01:00"]) == 0
    assert "posted 1" in capsys.readouterr().out
    assert main(["tick", "--now", "2026-12-07T09:05:00+01:00"]) == 0
    assert "posted 0" in capsys.readouterr().out
    prompts = [
        c
        for c in harness.emulator.calls_to("chat.postMessage")
        if (c.params.get("metadata") or {}).get("event_type") == "readalong_prompt"
    ]
    assert len(prompts) == 1
    assert main(["tick", "--now", "next tuesday"]) == 2
    assert "--now" in capsys.readouterr().err
