"""The prompt fan-out benchmark's pure parts: counting a call log, the due minute, the chart."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import prompt_fanout
from bench.prompt_fanout import (
    Config,
    fanout_stats,
    lag_quantiles,
    next_due,
    prompt_posts,
    scaling,
    write_chart,
)
from bot.emulator.models import ApiCall
from bot.slack.blocks import PROMPT_EVENT

DUE = 1_800_000_000.0  # a whole minute


def post(step: int, at: float, *, status: int = 200, event: str = PROMPT_EVENT) -> ApiCall:
    ok = status == 200
    return ApiCall(
        method="chat.postMessage",
        params={
            "channel": f"C{step}",
            "metadata": {"event_type": event, "event_payload": {"step_id": step}},
        },
        status=status,
        response={"ok": ok} if ok else {"ok": False, "error": "ratelimited"},
        at=at,
    )


def test_prompt_posts_keeps_accepted_prompts_only() -> None:
    calls = [
        post(1, DUE + 1),
        post(2, DUE + 1.5, status=429),
        post(3, DUE + 2, event="something_else"),
        ApiCall("conversations.info", {}, 200, {"ok": True}, DUE + 2),
        post(2, DUE + 3),
    ]
    assert prompt_posts(calls) == [(1, DUE + 1), (2, DUE + 3)]


def test_stats_count_duplicates_misses_and_lag() -> None:
    posts = [(1, DUE + 1.0), (2, DUE + 2.0), (3, DUE + 3.0), (2, DUE + 4.0), (4, DUE + 5.0)]
    stats = fanout_stats(posts, seeded=5, due=DUE)
    assert stats["posted"] == 4
    assert stats["duplicates"] == 1
    assert stats["missed"] == 1
    assert stats["due_to_first_s"] == 1.0
    assert stats["due_to_last_s"] == 5.0
    assert stats["posts_per_s"] == 1.0  # 4 steps between the first and the last post, 4 s
    # Lags are the first accepted post's: 1, 2, 3, 5.
    assert stats["lag_p50_s"] == 2.5
    assert stats["lag_max_s"] == 5.0
    assert stats["lag_p99_s"] == round(3 + 0.97 * 2, 3)


def test_stats_of_nothing_posted() -> None:
    stats = fanout_stats([], seeded=3, due=DUE)
    assert stats["posted"] == 0 and stats["missed"] == 3 and stats["duplicates"] == 0
    assert stats["due_to_last_s"] is None and stats["posts_per_s"] is None
    assert stats["lag_p50_s"] is None


def test_quantiles_span_min_to_max() -> None:
    quantiles = lag_quantiles([3.0, 1.0, 2.0], points=3)
    assert quantiles == [1.0, 2.0, 3.0]
    assert lag_quantiles([]) == []


def test_due_is_a_whole_minute_at_least_the_lead_ahead() -> None:
    assert next_due(DUE - 10, 5) == DUE
    assert next_due(DUE - 4, 5) == DUE + 60
    assert next_due(DUE, 0) == DUE


def test_scaling_compares_postgres_runs_without_a_kill() -> None:
    def result(processes: int, rate: float, killed: Any = None) -> dict[str, Any]:
        return {
            "database": "postgresql",
            "processes": processes,
            "posts_per_s": rate,
            "killed": killed,
        }

    rows = [result(1, 100.0), result(2, 180.0), result(4, 250.0), result(2, 10.0, {"x": 1})]
    rows.append({"database": "sqlite", "processes": 1, "posts_per_s": 1.0, "killed": None})
    assert scaling(rows) == {
        "2": {"ratio": 1.8, "target": 1.7, "ok": True},
        "4": {"ratio": 2.5, "target": 3.0, "ok": False},
    }


def test_chart_is_written_for_tiny_data(tmp_path: Path) -> None:
    path = write_chart(
        [("sqlite ×1", [0.5, 1.2, 2.0]), ("empty", [])], tmp_path / "chart.png", target_s=60
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_config_defaults_and_sqlite_only_without_a_postgres_url(monkeypatch: Any) -> None:
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    parser = argparse.ArgumentParser()
    prompt_fanout.add_arguments(parser)
    config = Config.from_args(parser.parse_args(["--processes", "1,2,4"]))
    assert config.databases == ["sqlite"]
    assert config.processes == [1, 2, 4]
    assert config.workspace_rate == 600 and config.workspace_burst == 100
    assert config.channel_rate == 1 and config.channel_burst == 1


def test_cpu_busy_is_the_share_of_jiffies_not_idle() -> None:
    assert prompt_fanout.cpu_busy_pct((100.0, 400.0), (250.0, 600.0)) == 75.0
    assert prompt_fanout.cpu_busy_pct(None, (1.0, 2.0)) is None
    assert prompt_fanout.cpu_busy_pct((5.0, 10.0), (5.0, 10.0)) is None
    busy, total = prompt_fanout.cpu_times()
    assert 0 <= busy <= total
