"""/reflect, the Reflect modal, App Home and the safety of echoed text, over real HTTP."""

from __future__ import annotations

import re

from bot.domain.model import StepState
from tests.checks import present
from tests.harness import ALICE, BOB, CAROL, CLUB, DAVE, Harness, block_text


def _start(harness: Harness, chapters: int = 6) -> None:
    harness.say(ALICE, "/book", f"add Dune | Frank Herbert | {chapters}")
    harness.command(ALICE, "/book", "start Dune every monday at 09:00 2 chapters from 2026-11-30")


def _post_prompt_for_step(harness: Harness, number: int) -> str:
    """Stand in for the scheduler: post a thread parent and record it on the step."""
    services = harness.runtime.services
    view = services.plans.current("T0EMULATOR1", CLUB)
    from slack_sdk import WebClient

    client = WebClient(token=harness.emulator.bot_token, base_url=harness.emulator.api_url)
    from bot.slack.blocks import reflect_button, section

    step_id = view.plan.step(number).id
    prompt_blocks = [section(f"Prompt for step {number}"), reflect_button(step_id)]
    ts = client.chat_postMessage(
        channel=CLUB, text=f"Prompt for step {number}", blocks=prompt_blocks
    )["ts"]
    with services.plans.uow() as uow:
        plan = uow.plans.get(present(view.plan.id))
        assert plan is not None
        step = plan.step(number)
        step.state, step.message_ts, step.posted_at = StepState.POSTED, str(ts), harness.clock.now()
        uow.plans.save(plan)
        uow.commit()
    return str(ts)


def test_inline_reflection_shared_is_echoed_escaped_in_thread(harness: Harness) -> None:
    _start(harness)
    thread_ts = _post_prompt_for_step(harness, 1)
    out = harness.say(
        BOB, "/reflect", "Loved it <!channel> & <@U0ALICE0001> <https://evil.example|click>"
    )
    assert "Saved your shared reflection" in out and "shared in the step's thread" in out
    replies = [m for m in harness.emulator.thread(CLUB, thread_ts) if m.ts != thread_ts]
    assert len(replies) == 1
    raw = block_text(replies[0].blocks) + replies[0].text
    assert "<!channel>" not in raw and "<@U0ALICE0001>" not in raw and "<https://" not in raw
    assert "&lt;!channel&gt;" in raw and "&amp;" in raw
    assert f"<@{BOB}>" in raw  # the author named by the bot itself


def test_private_reflection_is_never_posted(harness: Harness) -> None:
    _start(harness)
    thread_ts = _post_prompt_for_step(harness, 1)
    before = len(harness.emulator.calls_to("chat.postMessage"))
    out = harness.say(BOB, "/reflect", "ch 2 private my secret thought")
    assert "private reflection" in out and "Only you can see it" in out
    assert len(harness.emulator.calls_to("chat.postMessage")) == before
    assert all(
        "secret" not in (m.text + block_text(m.blocks))
        for m in harness.emulator.thread(CLUB, thread_ts)
    )


def test_list_edit_delete_and_ownership(harness: Harness) -> None:
    _start(harness)
    thread_ts = _post_prompt_for_step(harness, 1)
    harness.say(BOB, "/reflect", "first thought")
    match = re.search(r"#(\d+)", harness.say(BOB, "/reflect", "list"))
    assert match
    rid = match.group(1)
    assert "first thought" in harness.say(BOB, "/reflect", "list")
    assert f"no reflection #{rid}" in harness.say(ALICE, "/reflect", f"edit {rid} hijacked")
    assert "Saved" in harness.say(BOB, "/reflect", f"edit {rid} second thought")
    echoes = [m for m in harness.emulator.thread(CLUB, thread_ts) if m.ts != thread_ts]
    assert "second thought" in block_text(echoes[0].blocks)
    assert f"Deleted reflection #{rid}" in harness.say(BOB, "/reflect", f"delete {rid}")
    assert "no reflections yet" in harness.say(BOB, "/reflect", "list")
    assert all(m.deleted or m.ts == thread_ts for m in harness.emulator.thread(CLUB, thread_ts))


def test_reflect_bad_input(harness: Harness) -> None:
    assert "no reading plan" in harness.say(BOB, "/reflect", "hello").lower()
    _start(harness)
    cases = {
        "ch 99 beyond": "there is no chapter 99",
        "ch x text": "give a chapter number",
        "ch 2": "add your reflection",
        "x" * 3001: "the limit is 3,000",
        "delete": "say which one",
        "delete abc": "needs a reflection id",
        "quotable maybe": "quotable on",
    }
    for text, expected in cases.items():
        assert expected.lower() in harness.say(BOB, "/reflect", text).lower(), text
    assert "no reflections yet" in harness.say(BOB, "/reflect", "list")


def test_reflect_modal_and_button(harness: Harness) -> None:
    _start(harness)
    thread_ts = _post_prompt_for_step(harness, 2)
    harness.command(BOB, "/reflect", "")
    view = harness.last_view(BOB)
    assert view["callback_id"] == "reflect_submit"
    empty = harness.submit(
        view["id"],
        {
            "chapter": {"value": "current"},
            "text": {"value": "  "},
            "visibility": {"value": "shared"},
        },
        BOB,
    )
    assert empty.json()["errors"]["text"]
    ok = harness.submit(
        view["id"],
        {
            "chapter": {"value": "3"},
            "text": {"value": "Modal <!here> words"},
            "visibility": {"value": "shared"},
        },
        BOB,
    )
    assert ok.status == 200
    assert "Modal" in harness.say(BOB, "/reflect", "list")
    echoes = [m for m in harness.emulator.thread(CLUB, thread_ts) if m.ts != thread_ts]
    assert echoes and "&lt;!here&gt;" in block_text(echoes[0].blocks)
    # The prompt's Reflect button opens the same modal.
    response = harness.slack.block_action(
        user_id=CAROL, channel_id=CLUB, message_ts=thread_ts, action_id="reflect_open"
    )
    assert response.status == 200
    harness.drain()
    assert harness.last_view(CAROL)["callback_id"] == "reflect_submit"


def test_progress_mute_quotable(harness: Harness) -> None:
    _start(harness)
    _post_prompt_for_step(harness, 1)
    harness.say(BOB, "/reflect", "one")
    assert "2 of 6 chapters" in harness.say(BOB, "/reflect", "progress")
    assert "Reminders are off" in harness.say(BOB, "/reflect", "mute")
    assert "on again" in harness.say(BOB, "/reflect", "unmute")
    assert "may now quote" in harness.say(BOB, "/reflect", "quotable on")


def test_app_home_shows_groups_in_users_time_zone(harness: Harness) -> None:
    _start(harness)
    harness.say(BOB, "/reflect", "home thought")
    assert harness.slack.app_home_opened(BOB).status == 200
    harness.drain()
    home = harness.emulator.home_view(BOB)
    assert home is not None
    text = block_text(home["blocks"])
    assert "Dune" in text and "EST" in text and "home thought" in text
    harness.slack.app_home_opened(DAVE)
    harness.drain()
    dave_home = harness.emulator.home_view(DAVE)
    assert dave_home is not None and "not in a reading group" in block_text(dave_home["blocks"])


def test_signatures_forged_and_stale_are_refused(harness: Harness) -> None:
    body = b"token=x&team_id=T0EMULATOR1&user_id=U0BOB000001&command=%2Fbook&text=list&channel_id=C0BOOKCLUB1"
    import time

    now = str(int(time.time()))
    forged = harness.slack.send_raw(
        body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64, timestamp=now
    )
    stale = harness.slack.send_raw(
        body, "application/x-www-form-urlencoded", timestamp=str(int(time.time()) - 600)
    )
    assert forged.status == 401 and stale.status == 401
    harness.drain()
    assert harness.emulator.response_url_posts() == []


def test_health_endpoint(harness: Harness) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{harness.server.url}/healthz") as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{harness.server.url}/readyz") as response:
        assert b'"database": "ok"' in response.read()


def test_metrics_endpoint_counts_commands_and_slack_calls(harness: Harness) -> None:
    import urllib.request

    harness.say(ALICE, "/book", "list")
    with urllib.request.urlopen(f"{harness.server.url}/metrics") as response:
        text = response.read().decode()
    assert 'readalong_commands_total{command="/book"}' in text
    assert "readalong_slack_api_seconds" in text


def test_reflect_button_in_a_dm_reminder_opens_the_modal_for_that_step(harness: Harness) -> None:
    _start(harness)
    _post_prompt_for_step(harness, 1)
    services = harness.runtime.services
    from datetime import UTC, datetime

    harness.say(BOB, "/reflect", "quiet hours off")  # 07:00 in New York: nudge him anyway
    harness.clock.set(datetime(2026, 12, 6, 12, tzinfo=UTC))  # under a day before step 2
    assert services.run_due().reminded >= 1
    dm = harness.emulator.dm_channel(BOB)
    reminder = [m for m in harness.emulator.messages(dm) if "nudge" in block_text(m.blocks)][-1]
    response = harness.slack.block_action(
        user_id=BOB, channel_id=dm, message_ts=reminder.ts, action_id="reflect_open"
    )
    assert response.status == 200
    harness.drain()
    view = harness.last_view(BOB)
    assert view["callback_id"] == "reflect_submit" and "Dune" in block_text(view["blocks"])


def test_help_placeholders_are_text_not_links(harness: Harness) -> None:
    posts = harness.command(BOB, "/book", "help")
    raw = block_text(posts[0]["blocks"])
    assert "&lt;title&gt;" in raw and "<title>" not in raw
