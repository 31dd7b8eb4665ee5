"""Fault injection: 429 with Retry-After, 5xx, and slack_sdk's retry handlers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.emulator import SlackEmulator
from tests.emulator.conftest import GENERAL


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the retry handlers' sleeps (they call ``time.sleep``) instead of sleeping."""
    durations: list[float] = []
    monkeypatch.setattr(time, "sleep", durations.append)
    return durations


def test_429_then_success_with_rate_limit_retry_handler(
    emulator: SlackEmulator, slept: list[float]
) -> None:
    emulator.fail_next(2, status=429, retry_after=7, method="chat.postMessage")
    client = WebClient(
        token=emulator.bot_token,
        base_url=emulator.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    response = client.chat_postMessage(channel=GENERAL, text="eventually")
    assert response["ok"] is True
    calls = emulator.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200]
    assert calls[0].response == {"ok": False, "error": "ratelimited"}
    assert len(slept) == 2 and all(7 <= s < 8 for s in slept)  # Retry-After honoured
    # the faulted calls changed nothing: exactly one message exists
    assert [m.text for m in emulator.messages(GENERAL)] == ["eventually"]


def test_429_exhausts_retries(emulator: SlackEmulator, slept: list[float]) -> None:
    emulator.fail_next(3, retry_after=1)
    client = WebClient(
        token=emulator.bot_token,
        base_url=emulator.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=GENERAL, text="never")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "1"
    assert excinfo.value.response["error"] == "ratelimited"
    assert len(emulator.calls_to("chat.postMessage")) == 3
    assert emulator.messages(GENERAL) == []
    assert emulator.faults.pending() == 0


def test_fault_filter_by_method(web: WebClient, emulator: SlackEmulator) -> None:
    emulator.fail_next(1, method="users.info")
    assert web.auth_test()["ok"] is True  # other methods pass untouched
    with pytest.raises(SlackApiError) as excinfo:
        web.users_info(user=emulator.bot_user_id)
    assert excinfo.value.response.status_code == 429
    assert web.users_info(user=emulator.bot_user_id)["ok"] is True


def test_5xx_bodies_and_server_error_retry(emulator: SlackEmulator, slept: list[float]) -> None:
    emulator.fail_next(1, status=503, method="chat.postMessage")
    request = urllib.request.Request(
        emulator.api_url + "chat.postMessage",
        data=json.dumps({"channel": GENERAL, "text": "x"}).encode(),
        headers={
            "Authorization": f"Bearer {emulator.bot_token}",
            "Content-Type": "application/json",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request)
    assert excinfo.value.code == 503
    assert json.loads(excinfo.value.read()) == {"ok": False, "error": "service_unavailable"}
    assert emulator.messages(GENERAL) == []

    emulator.fail_next(1, status=500, error="internal_error")
    client = WebClient(
        token=emulator.bot_token,
        base_url=emulator.api_url,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)],
    )
    assert client.chat_postMessage(channel=GENERAL, text="after 500")["ok"] is True
    statuses = [(c.status, c.response.get("error")) for c in emulator.calls_to("chat.postMessage")]
    assert statuses == [(503, "service_unavailable"), (500, "internal_error"), (200, None)]
    assert [m.text for m in emulator.messages(GENERAL)] == ["after 500"]


def test_fail_next_rejects_nonsense(emulator: SlackEmulator) -> None:
    with pytest.raises(ValueError):
        emulator.fail_next(0)
    with pytest.raises(ValueError):
        emulator.fail_next(1, status=200)


def test_slow_down_holds_matching_calls_only_and_not_one_after_another(
    web: WebClient, emulator: SlackEmulator
) -> None:
    emulator.slow_down(0.3, method="chat.postMessage")
    started = time.perf_counter()
    assert web.auth_test()["ok"] is True
    assert time.perf_counter() - started < 0.3  # other methods are not held
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        replies = list(
            pool.map(lambda i: web.chat_postMessage(channel=GENERAL, text=f"slow {i}"), range(4))
        )
    elapsed = time.perf_counter() - started
    assert all(r["ok"] for r in replies)
    assert 0.3 <= elapsed < 1.2  # each waited 0.3 s, side by side rather than in a queue
    assert len(emulator.messages(GENERAL)) == 4

    emulator.slow_down(0, method="chat.postMessage")
    started = time.perf_counter()
    web.chat_postMessage(channel=GENERAL, text="fast again")
    assert time.perf_counter() - started < 0.3


def test_slow_down_for_every_method_and_per_method_override(emulator: SlackEmulator) -> None:
    emulator.slow_down(0.5)
    emulator.slow_down(0.1, method="auth.test")
    assert emulator.faults.latency("auth.test") == 0.1
    assert emulator.faults.latency("users.info") == 0.5
    with pytest.raises(ValueError):
        emulator.slow_down(-1)
    emulator.faults.clear()
    assert emulator.faults.latency("users.info") == 0.0
