"""Each member at their own pace, the parts not covered elsewhere, over real HTTP against
the emulator: "I've read these" on a prompt records the clicker's progress (`/book
status` counts it, App Home unlocks the step's thread, the answer is private and nothing
reaches the channel); the calendar feed names each step's chapters and links the threads
already prompted; the host gets the group's feed, an admin too, any other member a
refusal; and a member a week behind sees their own dates move a week in their feed and
App Home while the group's feed stays where it was. Dates come from the test clock.
"""

from __future__ import annotations

import html
import json
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from bot.domain.model import Plan
from bot.slack.blocks import pace as pace_blocks
from bot.slack.text import local_time
from tests.harness import ALICE, BOB, CAROL, CLUB, Harness, block_text
from tests.slack.test_own_pace import TEAM, run_until
from tests.slack.test_reflection_loop import buttons

TITLES = ["Desert", "Spice", "Sietch", "Worm", "Water", "Storm"]
LONDON = "Europe/London"


def start(harness: Harness, *, per_step: int) -> None:
    """Dune, six titled chapters, ``per_step`` a week, Mondays 09:00 London from today."""
    harness.say(ALICE, "/book", f"add Dune | Frank Herbert | {'; '.join(TITLES)}")
    today = harness.clock.now().astimezone(ZoneInfo(LONDON)).date()
    out = harness.say(
        ALICE,
        "/book",
        f"start Dune every monday at 09:00 {per_step} chapters from {today} tz {LONDON}",
    )
    assert "started a reading plan" in out, out


def plan(harness: Harness) -> Plan:
    return harness.runtime.services.plans.current(TEAM, CLUB).plan


def present(value: str | None) -> str:
    assert value, "expected a value"
    return value


def permalink_path(ts: str) -> str:
    """How a Slack permalink to a message of CLUB ends."""
    return f"/archives/{CLUB}/p{ts.replace('.', '')}"


def click_read(harness: Harness, user: str, step: int) -> list[dict[str, Any]]:
    """Click "I've read these" on step ``step``'s prompt in the channel; returns what the
    bot answered through the click's response_url."""
    prompt = plan(harness).step(step)
    message = next(m for m in harness.emulator.messages(CLUB) if m.ts == present(prompt.message_ts))
    shown = buttons({"blocks": message.blocks})
    assert ("I've read these", pace_blocks.READ_STEP_ACTION, str(prompt.id)) in shown
    before = len(harness.emulator.response_url_posts())
    response = harness.slack.block_action(
        user_id=user,
        channel_id=CLUB,
        message_ts=message.ts,
        action_id=pace_blocks.READ_STEP_ACTION,
        value=str(prompt.id),
    )
    assert response.status == 200, response.text
    harness.drain()
    return [p["payload"] for p in harness.emulator.response_url_posts()[before:]]


def home(harness: Harness, user: str) -> str:
    """App Home as ``user`` reads it after opening it (links and all, entities decoded)."""
    harness.slack.app_home_opened(user)
    harness.drain()
    return html.unescape(json.dumps(harness.emulator.home_view(user), ensure_ascii=False))


def home_text(harness: Harness, user: str) -> str:
    harness.slack.app_home_opened(user)
    harness.drain()
    view = harness.emulator.home_view(user) or {}
    return html.unescape(block_text(view.get("blocks") or []))


def calendar_urls(harness: Harness, user: str) -> list[str]:
    """Every calendar link DM'd to ``user``, oldest first."""
    found: list[str] = []
    for m in harness.emulator.messages(harness.emulator.dm_channel(user)):
        text = block_text(m.blocks)
        for word in text.replace("<", " ").replace(">", " ").replace("|", " ").split():
            if word.endswith(".ics") and word not in found:
                found.append(word)
    return found


def ask_calendar(harness: Harness, user: str, text: str = "") -> tuple[str, str]:
    """`/book calendar <text>`: (the private answer, the newest link in the DM)."""
    answer = harness.say(user, "/book", f"calendar {text}".strip())
    urls = calendar_urls(harness, user)
    assert urls, f"no calendar link reached {user}: {answer}"
    return answer, urls[-1]


def fetch(url: str) -> icalendar.Calendar:
    with urllib.request.urlopen(url) as answer:
        assert answer.status == 200 and "text/calendar" in answer.headers["Content-Type"]
        return icalendar.Calendar.from_ical(answer.read())


def events(feed: icalendar.Calendar) -> list[icalendar.cal.Component]:
    return sorted(feed.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))


def starts(feed: icalendar.Calendar) -> list[datetime]:
    return [e.decoded("dtstart").astimezone(UTC) for e in events(feed)]


# --- "I've read these" ------------------------------------------------------------------


def test_ive_read_these_moves_a_member_from_behind_to_on_schedule_privately(
    harness: Harness,
) -> None:
    start(harness, per_step=1)
    run_until(harness, plan(harness).step(3).due_at)  # steps 1–3 out: the group reads ch 3
    harness.say(ALICE, "/reflect", "progress ch 3")  # on schedule
    harness.say(CAROL, "/reflect", "progress ch 5")  # ahead
    harness.say(BOB, "/reflect", "progress ch 1")  # behind
    assert "1 on schedule, 1 ahead, 1 behind" in harness.say(ALICE, "/book", "status")
    before = home(harness, BOB)
    thread2 = present(plan(harness).step(2).message_ts)
    assert "🔒 Step 2" in before and permalink_path(thread2) not in before

    channel_before = harness.channel_texts(CLUB)
    posts_before = len(harness.emulator.calls_to("chat.postMessage"))
    updates_before = len(harness.emulator.calls_to("chat.update"))
    answers = click_read(harness, BOB, 2)

    # The clicker, and only the clicker, is told; the channel gets nothing.
    assert len(answers) == 1 and answers[0].get("response_type") == "ephemeral"
    noted = html.unescape(block_text(answers[0].get("blocks") or []) or answers[0]["text"])
    assert "read to chapter 2 of Dune" in noted and "on schedule" in noted, noted
    assert any("Noted: you've read to chapter 2" in t for t in harness.ephemeral_texts(BOB))
    assert not any("Noted:" in t for t in harness.ephemeral_texts(CAROL))
    assert not any("Noted:" in t for t in harness.ephemeral_texts(ALICE))
    assert harness.channel_texts(CLUB) == channel_before
    assert len(harness.emulator.calls_to("chat.postMessage")) == posts_before
    assert len(harness.emulator.calls_to("chat.update")) == updates_before

    # `/book status` counts him on schedule now, and tells him so.
    status = harness.say(BOB, "/book", "status")
    assert "2 on schedule, 1 ahead, 0 behind" in status, status
    assert "You: on schedule" in status
    position = harness.runtime.services.readers.position(TEAM, BOB, CLUB)
    assert position.read_to == 2

    # App Home opens step 2's thread, with its link; step 3 stays locked.
    after = home(harness, BOB)
    assert "🔒 Step 2" not in after and "Step 2 (chapter 2)" in after
    assert permalink_path(thread2) in after
    thread3 = present(plan(harness).step(3).message_ts)
    assert "🔒 Step 3" in after and permalink_path(thread3) not in after

    # The current step's button: still on schedule, and step 3's thread opens too.
    answers = click_read(harness, BOB, 3)
    assert "read to chapter 3 of Dune" in html.unescape(block_text(answers[0]["blocks"]))
    again = home(harness, BOB)
    assert "🔒 Step 3" not in again and permalink_path(thread3) in again
    assert "2 on schedule, 1 ahead, 0 behind" in harness.say(ALICE, "/book", "status")


def test_ive_read_these_on_an_earlier_step_never_moves_a_member_back(
    harness: Harness,
) -> None:
    start(harness, per_step=1)
    run_until(harness, plan(harness).step(3).due_at)
    harness.say(CAROL, "/reflect", "progress ch 5")  # ahead of the group (chapter 3)
    answers = click_read(harness, CAROL, 1)
    noted = html.unescape(block_text(answers[0]["blocks"]))
    assert "read to chapter 5 of Dune" in noted and "ahead of the group" in noted, noted
    status = harness.say(CAROL, "/book", "status")
    assert "0 on schedule, 1 ahead, 0 behind" in status and "You: ahead" in status
    assert harness.runtime.services.readers.position(TEAM, CAROL, CLUB).read_to == 5


def test_ive_read_these_counts_a_member_who_had_said_nothing(harness: Harness) -> None:
    start(harness, per_step=1)
    run_until(harness, plan(harness).step(3).due_at)
    before = harness.say(ALICE, "/book", "status")
    assert "0 on schedule, 0 ahead, 0 behind" in before and "3 haven't said" in before
    click_read(harness, BOB, 3)
    after = harness.say(ALICE, "/book", "status")
    assert "1 on schedule, 0 ahead, 0 behind" in after and "2 haven't said" in after, after
    assert "You: on schedule" in harness.say(BOB, "/book", "status")


# --- the calendar feed's content --------------------------------------------------------


def test_the_member_feed_names_each_steps_chapters_and_links_the_prompted_threads(
    harness: Harness,
) -> None:
    start(harness, per_step=2)  # three steps: ch 1–2, 3–4, 5–6
    run_until(harness, plan(harness).step(1).due_at)  # only step 1 is prompted
    dm = harness.emulator.dm_channel(BOB)
    answer, url = ask_calendar(harness, BOB)
    assert "privately" in answer and ".ics" not in answer  # the link is not in the answer
    assert url.startswith(f"{harness.server.url}/calendar/")
    assert not any(".ics" in t for t in harness.channel_texts(CLUB))
    assert any(".ics" in block_text(m.blocks) for m in harness.emulator.messages(dm))

    feed = fetch(url)
    assert str(feed.get("x-wr-calname")) == "Dune (Readalong), your pace"
    steps = sorted(plan(harness).steps, key=lambda s: s.number)
    found = events(feed)
    assert len(found) == len(steps) == 3
    for event, step in zip(found, steps, strict=True):
        summary, description = str(event.get("summary")), str(event.get("description"))
        assert summary == f"Dune: {step.describe_chapters()}"
        assert f"Step {step.number} of 3" in description
        for n, title in enumerate(TITLES, start=1):
            named = f"Chapter {n}: {title}" in description
            assert named == (step.first_chapter <= n <= step.last_chapter), (n, description)
        assert event.decoded("dtstart").astimezone(UTC) == step.due_at
    first, *later = found
    link = str(first.get("url"))
    assert link.endswith(permalink_path(present(steps[0].message_ts))), link
    assert f"Discussion: {link}" in str(first.get("description"))
    for event in later:  # not prompted yet: no thread to link
        assert event.get("url") is None and "Discussion" not in str(event.get("description"))

    # Once step 2 is prompted, the same link's feed links its thread too.
    run_until(harness, plan(harness).step(2).due_at)
    second = events(fetch(url))[1]
    thread2 = present(plan(harness).step(2).message_ts)
    assert str(second.get("url")).endswith(permalink_path(thread2))
    assert "Discussion: " in str(second.get("description"))


def test_the_group_feed_is_the_hosts_and_an_admins_and_refused_to_other_members(
    harness: Harness,
) -> None:
    start(harness, per_step=2)
    run_until(harness, plan(harness).step(1).due_at)
    due = sorted(s.due_at for s in plan(harness).steps)

    answer, url = ask_calendar(harness, ALICE, "group")  # Alice is the plan's host
    assert "privately" in answer
    link_text = block_text(harness.emulator.messages(harness.emulator.dm_channel(ALICE))[-1].blocks)
    assert "the group's steps" in link_text
    feed = fetch(url)
    assert str(feed.get("x-wr-calname")) == "Dune (Readalong)"
    assert starts(feed) == due
    assert all(
        str(e.get("uid")).endswith(f"-step{n}@readalong")
        for n, e in enumerate(events(feed), start=1)
    )

    # Carol is no host but a workspace admin: the code lets her have it too.
    _, carols = ask_calendar(harness, CAROL, "group")
    assert starts(fetch(carols)) == due
    assert str(fetch(carols).get("x-wr-calname")) == "Dune (Readalong)"

    # Bob is neither: refused, no link sent, and his own link keeps working.
    _, own = ask_calendar(harness, BOB)
    sent = len(harness.emulator.messages(harness.emulator.dm_channel(BOB)))
    refusal = harness.say(BOB, "/book", "calendar group")
    assert "The group's calendar is for the plan's host" in refusal, refusal
    assert len(harness.emulator.messages(harness.emulator.dm_channel(BOB))) == sent
    assert calendar_urls(harness, BOB) == [own]
    assert str(fetch(own).get("x-wr-calname")) == "Dune (Readalong), your pace"
    assert starts(fetch(url)) == due  # the host's group link is untouched


# --- a member a week behind -------------------------------------------------------------


def test_a_week_behind_moves_the_members_feed_and_app_home_but_not_the_group_feed(
    harness: Harness,
) -> None:
    start(harness, per_step=2)  # step 1 is due later today; nothing prompted yet
    week = timedelta(days=7)
    steps = sorted(plan(harness).steps, key=lambda s: s.number)
    due = [s.due_at for s in steps]
    assert harness.clock.now() < due[0] < harness.clock.now() + timedelta(days=1)
    _, group_url = ask_calendar(harness, ALICE, "group")
    group_before = fetch(group_url)
    assert starts(group_before) == due
    _, bobs_url = ask_calendar(harness, BOB)
    assert starts(fetch(bobs_url)) == due  # at the group's pace so far
    home_before = home_text(harness, BOB)
    assert f"Next prompt: chapters 1–2, {local_time(due[0], 'America/New_York')}" in home_before

    out = harness.say(BOB, "/reflect", "behind 1 week")
    assert "7 days behind" in out, out

    # His feed (the same link) moves every step a week, deadlines with it.
    mine = events(fetch(bobs_url))
    assert [e.decoded("dtstart").astimezone(UTC) for e in mine] == [d + week for d in due]
    ends = [*due[1:], due[-1] + week]  # each step's period ends when the next is due
    assert [e.decoded("dtend").astimezone(UTC) for e in mine] == [d + week for d in ends]
    assert all(
        e.decoded("dtstart").astimezone(ZoneInfo(LONDON)).hour == 9 for e in mine
    )  # still 09:00 London, a week on

    # His App Home gives his own next due date, a week after the group's.
    bobs_home = home_text(harness, BOB)
    assert "At your own pace (7 days behind the group)" in bobs_home, bobs_home
    assert f"your next step is due {local_time(due[0] + week, 'America/New_York')}" in bobs_home
    assert "Next prompt:" not in bobs_home

    # The group's feed (and Carol's App Home) did not move.
    assert starts(fetch(group_url)) == due
    group_after = events(fetch(group_url))
    assert [e.decoded("dtend") for e in group_after] == [
        e.decoded("dtend") for e in events(group_before)
    ]
    carols_home = home_text(harness, CAROL)
    assert f"Next prompt: chapters 1–2, {local_time(due[0], 'Europe/Berlin')}" in carols_home
    assert "At your own pace" not in carols_home
    assert [s.due_at for s in sorted(plan(harness).steps, key=lambda s: s.number)] == due


def test_a_members_events_keep_their_ids_when_their_pace_changes_and_never_clash_with_the_group(
    harness: Harness,
) -> None:
    """A calendar app matches events by UID: a member's own feed has its own ids from the
    first fetch on (never the group feed's, which the host may have subscribed to as well),
    and moving their pace moves those events instead of replacing them."""
    start(harness, per_step=2)
    _, group_url = ask_calendar(harness, ALICE, "group")
    _, alices_url = ask_calendar(harness, ALICE)  # the host: both feeds in one calendar app
    _, bobs_url = ask_calendar(harness, BOB)  # has said nothing about his pace yet

    def uids(url: str) -> list[str]:
        return [str(e["uid"]) for e in events(fetch(url))]

    group, alices, bobs = uids(group_url), uids(alices_url), uids(bobs_url)
    assert len(group) == len(alices) == len(bobs) == len(plan(harness).steps)
    assert not set(group) & set(alices) and not set(group) & set(bobs)
    assert not set(alices) & set(bobs)
    harness.say(BOB, "/reflect", "behind 1 week")
    assert uids(bobs_url) == bobs  # the same events, a week later
    assert starts(fetch(bobs_url)) == [s.due_at + timedelta(days=7) for s in plan(harness).steps]
