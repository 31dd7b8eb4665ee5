"""Multi-workspace mode: bolt's OAuth flow with the SQLAlchemy installation and state stores."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from bot.bootstrap import build_runtime
from bot.config import Settings
from bot.emulator.client import SlackAppClient
from bot.emulator.server import SlackEmulator
from bot.services.ports import FakeClock
from bot.serving import HttpServer
from tests.harness import ALICE, CLUB, SECRET, block_text

CLIENT_ID, CLIENT_SECRET = "1111.2222", "oauth-client-secret"


@pytest.fixture
def installable(
    emulator: SlackEmulator, database_url: str, clean_engine: object, clock: FakeClock
) -> Iterator[tuple[str, SlackEmulator]]:
    emulator.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    settings = Settings(
        slack_signing_secret=SECRET,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_api_url=emulator.api_url,
        database_url=database_url,
        channel_post_interval_seconds=0,
    )
    runtime = build_runtime(settings, clock=clock)
    server = HttpServer(runtime.wsgi, "127.0.0.1", 0).start()
    try:
        yield server.url, emulator
    finally:
        server.stop()
        runtime.close()
        with runtime.engine.begin() as conn:  # slack_sdk's own tables are not in our schema
            for table in ("slack_bots", "slack_installations", "slack_oauth_states"):
                conn.exec_driver_sql(f"DELETE FROM {table}")


def test_install_then_commands_use_the_stored_token(installable: tuple[str, SlackEmulator]) -> None:
    url, emulator = installable
    slack = SlackAppClient(emulator, f"{url}/slack/events", SECRET)
    with urllib.request.urlopen(f"{url}/slack/install") as page:
        state = re.search(r"state=([0-9a-f-]+)", page.read().decode())
        cookie = page.headers["Set-Cookie"].split(";")[0]  # a Secure cookie: the browser's part
    assert state and cookie.endswith(state.group(1))
    code = emulator.issue_oauth_code(ALICE)
    query = urllib.parse.urlencode({"code": code, "state": state.group(1)})
    callback = urllib.request.Request(
        f"{url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(callback) as done:
        assert done.status == 200
    assert [c.response["ok"] for c in emulator.calls_to("oauth.v2.access")] == [True]

    response = slack.slash_command(
        "/book", "add Dune | Frank Herbert | 4", user_id=ALICE, channel_id=CLUB
    )
    assert response.status == 200
    import time

    deadline = time.monotonic() + 10
    while not emulator.response_url_posts() and time.monotonic() < deadline:
        time.sleep(0.01)  # the lazy reply of another thread, not time passing
    assert "Added to the shelf" in block_text(
        emulator.response_url_posts()[-1]["payload"]["blocks"]
    )


def test_a_forged_state_is_refused(installable: tuple[str, SlackEmulator]) -> None:
    url, emulator = installable
    query = urllib.parse.urlencode(
        {"code": emulator.issue_oauth_code(ALICE), "state": "not-issued"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/slack/oauth_redirect?{query}")
    assert refused.value.code == 400
    assert emulator.calls_to("oauth.v2.access") == []


def _install(url: str, emulator: SlackEmulator, user: str, team_id: str | None = None) -> None:
    """Through Slack's OAuth flow, as a member of ``team_id`` approving the install."""
    with urllib.request.urlopen(f"{url}/slack/install") as page:
        state = re.search(r"state=([0-9a-f-]+)", page.read().decode())
        cookie = page.headers["Set-Cookie"].split(";")[0]
    assert state
    code = emulator.issue_oauth_code(user, team_id=team_id)
    query = urllib.parse.urlencode({"code": code, "state": state.group(1)})
    request = urllib.request.Request(
        f"{url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(request) as done:
        assert done.status == 200


def test_scheduled_prompts_go_out_with_each_workspaces_own_token(
    emulator: SlackEmulator, database_url: str, clean_engine: object, clock: FakeClock
) -> None:
    """Issue 14: installed in two workspaces through OAuth (no single token configured),
    the scheduler posts each workspace's prompts, and nudges, with that workspace's token;
    none goes out with the other's."""
    from datetime import time as clock_time
    from datetime import timedelta

    from bot.domain.model import Cadence, Caller

    second = "T0SECONDWS"
    emulator.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    emulator.add_workspace(second, name="Second Workspace")
    emulator.add_user("U0SECONDAA", "sana", real_name="Sana Second")
    emulator.add_channel("C0SECONDCH", "club-two", team_id=second)
    for channel, user in ((CLUB, ALICE), ("C0SECONDCH", "U0SECONDAA")):
        emulator.join(channel, user)
        emulator.join(channel, emulator.bot_user_id)
    settings = Settings(
        slack_signing_secret=SECRET,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_api_url=emulator.api_url,
        database_url=database_url,
        channel_post_interval_seconds=0,
        reminder_lead_hours=20,
    )
    runtime = build_runtime(settings, clock=clock)
    server = HttpServer(runtime.wsgi, "127.0.0.1", 0).start()
    try:
        _install(server.url, emulator, ALICE)
        _install(server.url, emulator, "U0SECONDAA", team_id=second)
        services = runtime.services
        tomorrow = clock.now().date() + timedelta(days=1)
        teams = {CLUB: emulator.team_id, "C0SECONDCH": second}
        for channel, user in ((CLUB, ALICE), ("C0SECONDCH", "U0SECONDAA")):
            team = teams[channel]
            services.books.add(team, user, "Dune", "Frank Herbert", "3")
            view = services.plans.start(
                Caller(team, user),
                channel,
                "Dune",
                Cadence.every(1, clock_time(9)),
                1,
                tomorrow,
                "UTC",
            )
        clock.set(view.plan.steps[0].due_at)
        report = services.run_due()
        assert len(report.posted) == 2, report
        posts = [c for c in emulator.calls_to("chat.postMessage") if c.status == 200]
        assert {(c.params["channel"], c.team_id) for c in posts} == set(teams.items())
        # Later that day, each member is nudged in a DM, through their own workspace too.
        # (each at a waking hour in their own time zone: tick through the day)
        reminded = 0
        for _ in range(23):
            clock.advance(timedelta(hours=1))
            reminded += services.run_due().reminded
        club = {m for m in emulator.workspace.channel(CLUB).members if m != emulator.bot_user_id}
        dms = [c for c in emulator.calls_to("chat.postMessage")[2:] if c.status == 200]
        assert reminded == len(club) + 1
        assert {(c.params["channel"], c.team_id) for c in dms} == {
            *((member, emulator.team_id) for member in club),
            ("U0SECONDAA", second),
        }
        assert all(c.response.get("ok") for c in emulator.calls if c.team_id)
    finally:
        server.stop()
        runtime.close()
        with runtime.engine.begin() as conn:
            for table in ("slack_bots", "slack_installations", "slack_oauth_states"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
