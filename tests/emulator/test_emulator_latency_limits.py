"""Slack's latency, chat.postMessage rate limits and several workspaces, over real HTTP."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import ConfigError
from bot.console.world import ConsoleWorld
from bot.emulator import FakeClock, SlackEmulator
from bot.emulator.limits import (
    LatencyModel,
    RateLimits,
    parse_latency,
    parse_rate_limits,
    sample_latency,
)
from tests.console.conftest import console_settings
from tests.emulator.conftest import ALICE, BOB, GENERAL, PRIVATE

OTHER = "C0OTHER0001"
T2 = "T0SECOND002"
T2_CHANNEL = "C0T2CHAN001"
T2_OTHER = "C0T2CHAN002"


def _client(emulator: SlackEmulator, token: str | None = None) -> WebClient:
    """No retry handlers: a 429 reaches the test as SlackApiError."""
    return WebClient(
        token=token or emulator.bot_token, base_url=emulator.api_url, retry_handlers=[]
    )


def _limited(client: WebClient, channel: str) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel=channel, text="too soon")
    return info.value


@pytest.fixture
def ticks() -> FakeClock:
    """The monotonic clock the rate limits refill by, moved by the tests."""
    return FakeClock(1000.0)


@pytest.fixture
def limited(clock: FakeClock, ticks: FakeClock) -> Iterator[SlackEmulator]:
    """Two workspaces: the primary with #general and #other, T2 with two channels."""
    emu = SlackEmulator(clock=clock, monotonic=ticks)
    emu.add_user(ALICE, "alice")
    emu.add_user(BOB, "bob")
    emu.add_channel(GENERAL, "general", members=[ALICE, emu.bot_user_id])
    emu.add_channel(OTHER, "other", members=[ALICE, emu.bot_user_id])
    emu.add_workspace(T2, "Second Club", "second-club")
    emu.add_channel(T2_CHANNEL, "general", members=[BOB, emu.bot_user_id], team_id=T2)
    emu.add_channel(T2_OTHER, "random", members=[BOB, emu.bot_user_id], team_id=T2)
    with emu:
        yield emu


# ---------------------------------------------------------------------- latency


def test_sampled_latency_has_the_asked_median_and_p99() -> None:
    rng = random.Random(7)
    draws = sorted(sample_latency(rng, 150.0, 400.0) for _ in range(20_000))
    median = statistics.median(draws)
    p99 = draws[int(0.99 * len(draws))]
    assert abs(median - 150.0) / 150.0 < 0.05
    assert abs(p99 - 400.0) / 400.0 < 0.10
    assert min(draws) > 0


def test_equal_p50_and_p99_is_a_constant_delay() -> None:
    rng = random.Random(1)
    assert {sample_latency(rng, 40.0, 40.0) for _ in range(100)} == {40.0}


def test_one_seed_gives_one_sequence_of_delays() -> None:
    first, second, other = (
        LatencyModel({"chat.postMessage": (150, 400)}, seed=s) for s in (3, 3, 4)
    )
    a = [first.delay("chat.postMessage") for _ in range(10)]
    assert a == [second.delay("chat.postMessage") for _ in range(10)]
    assert a != [other.delay("chat.postMessage") for _ in range(10)]
    assert len(set(a)) == 10


def test_a_methods_own_latency_wins_and_zero_removes_it() -> None:
    model = LatencyModel({None: (20, 20), "chat.postMessage": (150, 150)})
    assert model.delay("chat.postMessage") == pytest.approx(0.150)
    assert model.delay("auth.test") == pytest.approx(0.020)
    model.set("chat.postMessage", 0, 0)
    assert model.delay("chat.postMessage") == pytest.approx(0.020)
    model.set(None, 0, 0)
    assert model.delay("auth.test") == 0.0


def test_bad_latency_is_refused() -> None:
    model = LatencyModel()
    with pytest.raises(ValueError, match="p99"):
        model.set("auth.test", 100, 50)
    with pytest.raises(ValueError, match="p50"):
        model.set("auth.test", -5, 50)


def test_a_call_with_latency_takes_at_least_about_its_median(emulator: SlackEmulator) -> None:
    emulator.set_latency("auth.test", 30, 30)
    client = _client(emulator)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.025


def test_latency_from_the_constructor(clock: FakeClock) -> None:
    with SlackEmulator(clock=clock, latency={None: (30, 30)}, seed=1) as emu:
        started = time.monotonic()
        _client(emu).auth_test()
        assert time.monotonic() - started >= 0.025


# ---------------------------------------------------------------------- rate limits


def test_nothing_is_limited_by_default(limited: SlackEmulator) -> None:
    client = _client(limited)
    for n in range(5):
        client.chat_postMessage(channel=GENERAL, text=f"{n}")
    assert limited.rate_limited == 0


def test_per_channel_limit_answers_429_with_retry_after(
    limited: SlackEmulator, ticks: FakeClock
) -> None:
    limited.set_rate_limits(per_channel_per_second=1.0, channel_burst=2)
    client = _client(limited)
    client.chat_postMessage(channel=GENERAL, text="one")
    client.chat_postMessage(channel=GENERAL, text="two")
    exc = _limited(client, GENERAL)
    assert exc.response.status_code == 429
    assert exc.response.headers["Retry-After"] == "1"
    assert exc.response.data == {"ok": False, "error": "ratelimited"}
    assert [m.text for m in limited.messages(GENERAL)] == ["one", "two"]
    assert limited.rate_limited == 1
    posts = limited.calls_to("chat.postMessage")
    assert [c.status for c in posts] == [200, 200, 429]
    assert posts[-1].response == {"ok": False, "error": "ratelimited"}

    ticks.advance(1.0)  # one token back
    client.chat_postMessage(channel=GENERAL, text="three")
    assert _limited(client, GENERAL).response.status_code == 429
    assert limited.rate_limited == 2


def test_retry_after_is_rounded_up_to_when_a_token_is_free(
    limited: SlackEmulator, ticks: FakeClock
) -> None:
    limited.set_rate_limits(per_channel_per_second=0.2)  # one message per 5 s
    client = _client(limited)
    client.chat_postMessage(channel=GENERAL, text="one")
    assert _limited(client, GENERAL).response.headers["Retry-After"] == "5"
    ticks.advance(2.5)
    assert _limited(client, GENERAL).response.headers["Retry-After"] == "3"
    ticks.advance(2.5)
    client.chat_postMessage(channel=GENERAL, text="two")


def test_a_second_channel_is_not_limited_by_the_first(limited: SlackEmulator) -> None:
    limited.set_rate_limits()
    client = _client(limited)
    client.chat_postMessage(channel=GENERAL, text="one")
    _limited(client, GENERAL)
    client.chat_postMessage(channel=OTHER, text="elsewhere")
    assert [m.text for m in limited.messages(OTHER)] == ["elsewhere"]
    assert limited.rate_limited == 1


def test_workspace_limit_spans_channels_of_one_team_not_another(
    limited: SlackEmulator, ticks: FakeClock
) -> None:
    limited.set_rate_limits(
        per_channel_per_second=None, per_workspace_per_minute=60, workspace_burst=2
    )
    first, second = _client(limited), _client(limited, limited.token_for(T2))
    first.chat_postMessage(channel=GENERAL, text="one")
    first.chat_postMessage(channel=OTHER, text="two")
    exc = _limited(first, GENERAL)
    assert exc.response.status_code == 429
    assert exc.response.headers["Retry-After"] == "1"
    # The other workspace has a bucket of its own.
    second.chat_postMessage(channel=T2_CHANNEL, text="t2 one")
    second.chat_postMessage(channel=T2_OTHER, text="t2 two")
    _limited(second, T2_CHANNEL)
    assert limited.rate_limited == 2
    ticks.advance(1.0)
    first.chat_postMessage(channel=OTHER, text="three")
    per_team = [c.team_id for c in limited.calls_to("chat.postMessage") if c.status == 200]
    assert per_team == [limited.team_id, limited.team_id, T2, T2, limited.team_id]


def test_both_limits_must_have_a_token(limited: SlackEmulator, ticks: FakeClock) -> None:
    limited.set_rate_limits(per_channel_per_second=1.0, per_workspace_per_minute=6)
    client = _client(limited)
    client.chat_postMessage(channel=GENERAL, text="one")
    # #other's channel bucket is full, but the workspace's refills one per 10 s.
    assert _limited(client, OTHER).response.headers["Retry-After"] == "10"
    ticks.advance(10.0)
    client.chat_postMessage(channel=OTHER, text="two")


def test_dm_by_user_id_and_by_its_id_is_one_channel(limited: SlackEmulator) -> None:
    limited.set_rate_limits()
    client = _client(limited)
    dm = limited.dm_channel(ALICE)
    client.chat_postMessage(channel=ALICE, text="hi")
    _limited(client, dm)


def test_other_methods_are_not_limited(limited: SlackEmulator) -> None:
    limited.set_rate_limits(per_channel_per_second=1.0, per_workspace_per_minute=1)
    client = _client(limited)
    posted = client.chat_postMessage(channel=GENERAL, text="one")
    for n in range(3):
        client.chat_update(channel=GENERAL, ts=str(posted["ts"]), text=f"edit {n}")
        client.conversations_history(channel=GENERAL)
    assert limited.rate_limited == 0


def test_bad_rate_limits_are_refused(limited: SlackEmulator) -> None:
    with pytest.raises(ValueError, match="per_channel_per_second"):
        limited.set_rate_limits(per_channel_per_second=0)
    with pytest.raises(ValueError, match="channel_burst"):
        limited.set_rate_limits(channel_burst=0)


# ---------------------------------------------------------------------- configure


def test_configure_reads_latency_seed_and_limits(limited: SlackEmulator) -> None:
    limited.configure(
        {
            "SLACK_EMULATOR_LATENCY": "chat.postMessage=150/400, *=20/60",
            "SLACK_EMULATOR_SEED": "42",
            "SLACK_EMULATOR_RATE_LIMITS": "channel=2/s,channel_burst=1",
            "UNRELATED": "x",
        }
    )
    twin = LatencyModel({"chat.postMessage": (150, 400), None: (20, 60)}, seed=42)
    assert [limited.latency.delay("chat.postMessage") for _ in range(3)] == [
        twin.delay("chat.postMessage") for _ in range(3)
    ]
    limited.set_latency(None, 0, 0)
    limited.set_latency("chat.postMessage", 0, 0)
    client = _client(limited)
    client.chat_postMessage(channel=GENERAL, text="one")
    assert _limited(client, GENERAL).response.headers["Retry-After"] == "1"


def test_configure_without_the_variables_changes_nothing(limited: SlackEmulator) -> None:
    limited.configure({"SLACK_EMULATOR_LATENCY": "", "PATH": "/bin"})
    assert limited.latency.delay("chat.postMessage") == 0.0
    client = _client(limited)
    for n in range(3):
        client.chat_postMessage(channel=GENERAL, text=f"{n}")


def test_parse_latency() -> None:
    assert parse_latency("chat.postMessage=150/400,*=20/60") == {
        "chat.postMessage": (150.0, 400.0),
        None: (20.0, 60.0),
    }
    assert parse_latency("auth.test=25") == {"auth.test": (25.0, 25.0)}


def test_parse_rate_limits() -> None:
    assert parse_rate_limits(
        "channel=1/s,channel_burst=3,workspace=600/min,workspace_burst=50"
    ) == RateLimits(1.0, 3, 600.0, 50)
    assert parse_rate_limits("workspace=10/s") == RateLimits(1.0, 1, 600.0, None)
    assert parse_rate_limits("channel=off,workspace=120/min") == RateLimits(None, 1, 120.0)
    assert parse_rate_limits("off") == RateLimits(None, 1, None, None)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLACK_EMULATOR_LATENCY", "chat.postMessage", "METHOD=P50/P99"),
        ("SLACK_EMULATOR_LATENCY", "chat.postMessage=fast/400", "'fast' is not a number"),
        ("SLACK_EMULATOR_LATENCY", "*=400/150", r"p99 \(150.0 ms\) must be >= p50"),
        ("SLACK_EMULATOR_LATENCY", "*=0/10", "p50 must be > 0"),
        ("SLACK_EMULATOR_SEED", "abc", "SLACK_EMULATOR_SEED: 'abc' is not an integer"),
        ("SLACK_EMULATOR_RATE_LIMITS", "channel=1", "is not N/s, N/min or off"),
        ("SLACK_EMULATOR_RATE_LIMITS", "channel=1/hour", "is not N/s, N/min or off"),
        ("SLACK_EMULATOR_RATE_LIMITS", "channel=0/s", "channel must be > 0"),
        ("SLACK_EMULATOR_RATE_LIMITS", "channel_burst=0", "at least 1"),
        ("SLACK_EMULATOR_RATE_LIMITS", "channel_burst=x", "is not an integer"),
        ("SLACK_EMULATOR_RATE_LIMITS", "team=5/s", "unknown key 'team'"),
    ],
)
def test_configure_refuses_bad_values(
    limited: SlackEmulator, name: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        limited.configure({name: value})
    assert str(info.value).startswith(name)


def test_a_bad_variable_applies_none_of_them(limited: SlackEmulator) -> None:
    with pytest.raises(ValueError):
        limited.configure(
            {"SLACK_EMULATOR_LATENCY": "*=20/60", "SLACK_EMULATOR_RATE_LIMITS": "channel=x"}
        )
    assert limited.latency.delay("auth.test") == 0.0


# ---------------------------------------------------------------------- workspaces


def test_auth_test_answers_each_tokens_team(limited: SlackEmulator) -> None:
    token = limited.token_for(T2)
    assert token == f"xoxb-{T2}-emulator" != limited.bot_token
    primary = _client(limited).auth_test()
    second = _client(limited, token).auth_test()
    assert (primary["team_id"], primary["team"]) == (limited.team_id, "Readalong Emulator")
    assert primary["url"] == f"https://{limited.team_domain}.slack.com/"
    assert (second["team_id"], second["team"], second["url"]) == (
        T2,
        "Second Club",
        "https://second-club.slack.com/",
    )
    assert [c.team_id for c in limited.calls_to("auth.test")] == [limited.team_id, T2]


def test_unknown_tokens_stay_invalid(limited: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as info:
        _client(limited, "xoxb-T0NOBODY00-emulator").auth_test()
    assert info.value.response["error"] == "invalid_auth"
    assert limited.calls_to("auth.test")[0].team_id is None


def test_a_workspace_cannot_be_added_twice(limited: SlackEmulator) -> None:
    with pytest.raises(ValueError, match="already exists"):
        limited.add_workspace(T2)
    with pytest.raises(ValueError, match="already exists"):
        limited.add_workspace(limited.team_id)


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("chat_postMessage", {"text": "hello"}),
        ("chat_update", {"ts": "1700000000.000001", "text": "edit"}),
        ("conversations_history", {}),
        ("conversations_members", {}),
        ("conversations_info", {}),
    ],
)
def test_another_teams_channel_is_not_found(
    limited: SlackEmulator, method: str, args: dict[str, str]
) -> None:
    second = _client(limited, limited.token_for(T2))
    with pytest.raises(SlackApiError) as info:
        getattr(second, method)(channel=GENERAL, **args)
    assert info.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as info:
        getattr(_client(limited), method)(channel=T2_CHANNEL, **args)
    assert info.value.response["error"] == "channel_not_found"
    assert limited.messages(GENERAL) == limited.messages(T2_CHANNEL) == []


def test_each_team_posts_to_its_own_channels(limited: SlackEmulator) -> None:
    second = _client(limited, limited.token_for(T2))
    posted = second.chat_postMessage(channel=T2_CHANNEL, text="hello")
    assert posted["message"]["team"] == T2
    info = second.conversations_info(channel=T2_CHANNEL)["channel"]
    assert info["context_team_id"] == T2
    # Channel names are per workspace: both have a #general.
    by_name = second.chat_postMessage(channel="#general", text="by name")
    assert by_name["channel"] == T2_CHANNEL
    assert [m.text for m in limited.messages(T2_CHANNEL)] == ["hello", "by name"]
    assert limited.messages(GENERAL) == []


def test_a_dm_opened_by_a_team_is_that_teams(limited: SlackEmulator) -> None:
    second = _client(limited, limited.token_for(T2))
    dm = str(second.conversations_open(users=BOB)["channel"]["id"])
    second.chat_postMessage(channel=dm, text="hi bob")
    with pytest.raises(SlackApiError) as info:
        _client(limited).chat_postMessage(channel=dm, text="not mine")
    assert info.value.response["error"] == "channel_not_found"


def test_primary_channels_and_fixtures_are_unchanged(emulator: SlackEmulator) -> None:
    client = _client(emulator)
    assert client.conversations_info(channel=PRIVATE)["channel"]["context_team_id"] == (
        emulator.team_id
    )
    assert client.chat_postMessage(channel=GENERAL, text="x")["message"]["team"] == (
        emulator.team_id
    )


def test_oauth_install_into_a_second_workspace(limited: SlackEmulator) -> None:
    limited.enable_oauth("cid", "csecret")
    client = WebClient(base_url=limited.api_url, retry_handlers=[])
    code = limited.issue_oauth_code(BOB, team_id=T2)
    install = client.oauth_v2_access(client_id="cid", client_secret="csecret", code=code)
    assert install["access_token"] == limited.token_for(T2)
    assert install["team"] == {"id": T2, "name": "Second Club"}
    assert install["authed_user"] == {"id": BOB}
    assert _client(limited, str(install["access_token"])).auth_test()["team_id"] == T2
    assert limited.calls_to("oauth.v2.access")[0].team_id == T2

    primary = client.oauth_v2_access(
        client_id="cid", client_secret="csecret", code=limited.issue_oauth_code(ALICE)
    )
    assert primary["access_token"] == limited.bot_token
    assert primary["team"]["id"] == limited.team_id


def test_an_oauth_code_for_an_unknown_workspace_is_refused(limited: SlackEmulator) -> None:
    with pytest.raises(KeyError):
        limited.issue_oauth_code(BOB, team_id="T0NOBODY00")


# ---------------------------------------------------------------------- the console


def test_the_console_emulator_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_EMULATOR_LATENCY", "users.info=5/5")
    monkeypatch.setenv("SLACK_EMULATOR_RATE_LIMITS", "channel=off,workspace=600/min")
    with ConsoleWorld(console_settings(), tmp_path / "console.db") as world:
        assert world.emulator.latency.delay("users.info") == pytest.approx(0.005)
        assert world.emulator.latency.delay("auth.test") == 0.0


def test_a_bad_variable_stops_the_console_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_EMULATOR_SEED", "soon")
    with (
        pytest.raises(ConfigError, match=r"^config error: SLACK_EMULATOR_SEED: 'soon'"),
        ConsoleWorld(console_settings(), tmp_path / "console.db"),
    ):
        pass
