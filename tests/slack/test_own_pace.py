"""Issue 12, each member at their own pace, over real HTTP against the emulator.

A member away gets no nudge and keeps their streak; a member a week behind is nudged a
week later while the group's prompts do not move; a member in Asia/Tokyo is nudged at a
Tokyo daytime hour for a plan in Europe/London; a member at chapter 2 sees no link to the
step-3 thread; the calendar feed parses with a standard parser, its events fall on the
right UTC instants across a DST change, and a revoked link answers 404. Dates come from
the test clock.
"""

from __future__ import annotations

import html
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from bot.domain import timeline
from bot.domain.model import StepState
from bot.slack.blocks import pace as pace_blocks
from tests.harness import ALICE, BOB, CAROL, CLUB, DAVE, OTHER, Harness, block_text
from tests.slack.test_reflection_loop import buttons

TEAM = "T0EMULATOR1"
TOKYO = "U0TOKYO0001"


def start(harness: Harness, *, chapters: int = 6, tz: str = "Europe/London") -> None:
    harness.say(ALICE, "/book", f"add Dune | Frank Herbert | {chapters}")
    today = harness.clock.now().astimezone(ZoneInfo(tz)).date()
    out = harness.say(ALICE, "/book", f"start Dune every monday at 09:00 from {today} tz {tz}")
    assert "started a reading plan" in out, out


def plan(harness: Harness):  # type: ignore[no-untyped-def]
    return harness.runtime.services.plans.current(TEAM, CLUB).plan


def run_until(harness: Harness, moment: datetime) -> None:
    """Move the clock to ``moment``, stopping wherever the scheduler has work (a prompt,
    a step's reminder time, a member's nudge) and at least daily, running what it would."""
    services = harness.runtime.services
    lead = services.prompts.policy.reminder_lead
    services.run_due()
    while harness.clock.now() < moment:
        now = harness.clock.now()
        with services.plans.uow() as uow:
            nudges = [n.due_at for n in uow.readers.due_nudges(moment)]
            plans = uow.plans.running_all()
        steps = [s.due_at for p in plans for s in p.open_steps]
        reminders = [timeline.reminder_at(p, s, lead) for p in plans for s in p.steps]
        later = [t for t in [*nudges, *steps, *reminders] if t > now]
        harness.clock.set(min([moment, now + timedelta(days=1), *later]))
        services.run_due()
    harness.drain()


def nudges(harness: Harness, user: str) -> list[tuple[datetime, str]]:
    """(when, text) of every nudge DM'd to ``user``."""
    dm = harness.emulator.dm_channel(user)
    return [
        (datetime.fromtimestamp(float(m.ts), UTC), block_text(m.blocks))
        for m in harness.emulator.messages(dm)
        if "gentle nudge" in block_text(m.blocks)
    ]


def test_a_member_away_gets_no_nudge_and_keeps_their_streak(harness: Harness) -> None:
    start(harness)
    run_until(harness, plan(harness).step(1).due_at)
    harness.say(BOB, "/reflect", "Step one thoughts")
    run_until(harness, plan(harness).step(2).due_at)
    harness.say(BOB, "/reflect", "Step two thoughts")
    back = (harness.clock.now() + timedelta(days=16)).date().isoformat()
    out = harness.say(BOB, "/reflect", f"away until {back}")
    assert "away until" in out and "frozen" in out
    run_until(harness, plan(harness).step(4).due_at + timedelta(hours=1))
    assert nudges(harness, BOB) == []  # steps 2 and 3 came and went: not a nudge
    assert nudges(harness, CAROL)  # (others were nudged, so nudges did run)
    status = harness.say(BOB, "/reflect", "progress")
    assert "streak 2" in status  # frozen, not broken by the steps read while away
    assert "back" in harness.say(BOB, "/reflect", "back").lower()


def test_a_member_a_week_behind_is_nudged_a_week_later_and_the_group_does_not_move(
    harness: Harness,
) -> None:
    start(harness)
    due_before = [s.due_at for s in plan(harness).steps]
    run_until(harness, plan(harness).step(1).due_at)
    out = harness.say(BOB, "/reflect", "behind 1 week")
    assert "7 days behind" in out and "prompts do not move" in out
    harness.runtime.services.readers.set_quiet_hours(TEAM, CAROL, False)
    run_until(harness, plan(harness).step(2).due_at - timedelta(minutes=1))
    assert nudges(harness, BOB) == [] and len(nudges(harness, CAROL)) == 1
    run_until(harness, plan(harness).step(2).due_at + timedelta(days=7))
    (carol_first, _), *_ = nudges(harness, CAROL)
    bobs = nudges(harness, BOB)
    assert bobs and abs(bobs[0][0] - (carol_first + timedelta(days=7))) < timedelta(hours=12)
    assert [s.due_at for s in plan(harness).steps] == due_before  # the plan did not move
    assert "back at the group's pace" in harness.say(BOB, "/reflect", "catch up")
    assert "already at the group's pace" in harness.say(BOB, "/reflect", "catch up")


def test_a_member_in_tokyo_is_nudged_in_tokyo_daytime_for_a_london_plan(
    harness: Harness,
) -> None:
    harness.emulator.add_user(TOKYO, "kenji", real_name="Kenji", tz="Asia/Tokyo")
    harness.emulator.workspace.join(CLUB, TOKYO)
    start(harness, tz="Europe/London")
    run_until(harness, plan(harness).step(2).due_at)
    (when, text), *_ = nudges(harness, TOKYO)
    local = when.astimezone(ZoneInfo("Asia/Tokyo"))
    assert 8 <= local.hour < 21, local
    assert "JST" in text  # the deadline in his own time
    # The group's prompts stayed at 09:00 London.
    assert plan(harness).step(1).due_at.astimezone(ZoneInfo("Europe/London")).hour == 9


def test_a_member_at_chapter_2_sees_no_link_to_the_step_3_thread_until_they_ask(
    harness: Harness,
) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    today = harness.clock.now().date()
    harness.say(ALICE, "/book", f"start Dune every monday at 09:00 2 chapters from {today}")
    run_until(harness, plan(harness).step(3).due_at)
    assert "chapter 2" in harness.say(BOB, "/reflect", "progress ch 2")
    harness.slack.app_home_opened(BOB)
    harness.drain()
    home = html.unescape(json.dumps(harness.emulator.home_view(BOB), ensure_ascii=False))
    thread3 = plan(harness).step(3).message_ts or ""
    assert "Step 1 (chapters 1–2)" in home and "discussion" in home
    assert "🔒 Step 3" in home and thread3.replace(".", "") not in home.replace(".", "")
    view = harness.emulator.home_view(BOB) or {}
    show = next(b for b in buttons(view) if b[0] == "Show anyway" and b[2].endswith(":2"))
    response = harness.slack.view_block_action(
        user_id=BOB, view_id=view["id"], action_id=show[1], value=show[2]
    )
    assert response.status == 200
    harness.drain()
    again = html.unescape(json.dumps(harness.emulator.home_view(BOB), ensure_ascii=False))
    assert "🔒 Step 2" not in again and "🔒 Step 3" in again


def test_the_calendar_feed_parses_falls_on_the_right_instants_and_a_revoked_link_is_404(
    harness: Harness,
) -> None:
    # Eight weekly steps from late February cross the start of British Summer Time (the
    # last Sunday of March): the feed's 09:00 London is 09:00 UTC, then 08:00 UTC.
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 8")
    now = harness.clock.now()
    start_day = datetime(now.year + 1, 2, 23, tzinfo=UTC).date()
    while start_day.weekday() != 0:
        start_day -= timedelta(days=1)
    out = harness.say(
        ALICE, "/book", f"start Dune every monday at 09:00 from {start_day} tz Europe/London"
    )
    assert "started a reading plan" in out, out
    assert "privately" in harness.say(BOB, "/book", "calendar")
    dm = harness.emulator.dm_channel(BOB)
    link_text = next(
        block_text(m.blocks)
        for m in reversed(harness.emulator.messages(dm))
        if ".ics" in block_text(m.blocks)
    )
    url = next(
        w
        for w in link_text.replace("<", " ").replace(">", " ").replace("|", " ").split()
        if w.endswith(".ics")
    )
    with urllib.request.urlopen(url) as answer:
        assert answer.status == 200 and "text/calendar" in answer.headers["Content-Type"]
        feed = icalendar.Calendar.from_ical(answer.read())
    events = sorted(feed.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    steps = sorted(plan(harness).steps, key=lambda s: s.number)
    assert len(events) == len(steps)
    for event, step in zip(events, steps, strict=True):
        start = event.decoded("dtstart")
        assert start.astimezone(UTC) == step.due_at  # the right instant
        assert start.astimezone(ZoneInfo("Europe/London")).hour == 9  # 09:00 London, DST or not
    assert feed.walk("VTIMEZONE"), "the feed carries its time zone"
    offsets = {e.decoded("dtstart").utcoffset() for e in events}
    assert offsets == {timedelta(0), timedelta(hours=1)}  # GMT, then BST: across the change
    # A reset revokes the old link: 404, like any guess.
    harness.say(BOB, "/book", "calendar reset")
    for wrong in (url, url[:-8] + "AAAA.ics", url.rsplit("/", 1)[0] + "/not-a-secret.ics"):
        try:
            urllib.request.urlopen(wrong)
            raise AssertionError(f"{wrong} answered")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404 and exc.read() == b"Not Found"


def test_a_member_who_joins_mid_book_gets_a_private_welcome_once(harness: Harness) -> None:
    start(harness)
    run_until(harness, plan(harness).step(2).due_at)
    harness.slack.member_joins(DAVE, CLUB, inviter=ALICE)
    harness.drain()
    harness.slack.member_joins(DAVE, CLUB, inviter=ALICE)  # already in: nothing
    harness.drain()
    dm = harness.emulator.dm_channel(DAVE)
    welcomes = [
        block_text(m.blocks)
        for m in harness.emulator.messages(dm)
        if "Welcome" in block_text(m.blocks)
    ]
    assert len(welcomes) == 1 and "step 2 of" in welcomes[0] and "own pace" in welcomes[0]
    assert not any("Welcome" in t for t in harness.channel_texts(CLUB))


def test_status_shows_the_spread_as_counts_and_never_names_who_is_behind(
    harness: Harness,
) -> None:
    start(harness)
    run_until(harness, plan(harness).step(3).due_at)
    harness.say(BOB, "/reflect", "ch 5 Racing ahead")  # ahead
    harness.say(CAROL, "/reflect", "progress ch 3")  # on schedule (step 3 is chapter 3)
    harness.say(CAROL, "/reflect", "ch 3 Right on time")
    harness.say(ALICE, "/reflect", "progress ch 1")  # behind: the group reads chapter 3
    status = harness.say(ALICE, "/book", "status")
    assert "1 on schedule, 1 ahead, 1 behind" in status
    assert f"<@{ALICE}>" not in status and "@alice" not in status
    assert "You: behind" in status
    harness.emulator.workspace.join(CLUB, DAVE)  # says nothing: not counted as behind
    assert "1 hasn't said where they are yet" in harness.say(CAROL, "/book", "status")


def test_own_pace_bad_input_gets_a_clear_answer_and_changes_nothing(harness: Harness) -> None:
    start(harness, chapters=3)
    run_until(harness, plan(harness).step(1).due_at)
    yesterday = (harness.clock.now() - timedelta(days=1)).date().isoformat()
    far = (harness.clock.now() + timedelta(days=800)).date().isoformat()
    assert "not ahead" in harness.say(BOB, "/reflect", f"away until {yesterday}")
    assert "more than a year" in harness.say(BOB, "/reflect", f"away until {far}")
    assert "Chapters start at 1" in harness.say(BOB, "/reflect", "progress ch 0")
    assert "chapters 1–3" in harness.say(BOB, "/reflect", "progress ch 9")
    assert "past the end of the book" in harness.say(BOB, "/reflect", "behind 20 weeks")
    assert "no reading plan" in harness.say(DAVE, "/book", "calendar", channel=OTHER).lower()
    position = harness.runtime.services.readers.position(TEAM, BOB, CLUB)
    assert (position.read_to, position.reader.pace_days, position.away_until) == (0, 0, None)
    assert plan(harness).steps[0].state is StepState.POSTED
    assert pace_blocks.READ_STEP_ACTION in json.dumps(harness.emulator.messages(CLUB)[-1].blocks)


def test_a_member_behind_gets_a_digest_of_only_the_chapters_they_have_read(
    harness: Harness,
) -> None:
    start(harness)
    run_until(harness, plan(harness).step(3).due_at)
    harness.say(CAROL, "/reflect", "quotable on")
    harness.say(CAROL, "/reflect", "ch 1 The opening gambit")
    harness.say(CAROL, "/reflect", "ch 3 The betrayal at the dinner")
    harness.say(BOB, "/reflect", "progress ch 1")  # Bob is behind: he has read chapter 1
    digest = harness.say(BOB, "/book", "summary book")
    assert "Only you can see this" in digest and "opening gambit" in digest
    assert "betrayal" not in digest  # chapter 3: not read yet, not spoiled
    harness.say(CAROL, "/book", "summary book")  # Carol (an admin) posts it for everyone
    assert "betrayal" in html.unescape(harness.channel_texts(CLUB)[-1])
    assert "won't spoil" in harness.say(BOB, "/book", "summary step 3")
