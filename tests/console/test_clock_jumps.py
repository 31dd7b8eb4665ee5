"""The console's clock may jump: one ``:advance 8d`` must show what eight ``:advance 1d``
or hours of ``:advance 1h`` show, each message at the same virtual time, as the real
scheduler (a tick every 30 s) would have sent it. The console ticks only at the moments
something falls due, so every kind of due moment is here: a member's own nudge (planned
at the reminder time for their waking hours), pairs' messages that wait for their
recipients' waking hours, weekly digests, and work left due by what a member just did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.console.render import moment
from bot.console.world import ConsoleWorld
from bot.domain.schedule import WEEKDAY_NAMES
from tests.console.conftest import Conversation, console_settings
from tests.harness import block_text

TOKYO = ZoneInfo("Asia/Tokyo")
TUESDAY = 1
NUDGE = "A gentle nudge"
EXPIRED = "expired: nobody answered it within a week"
LOOK_BACK = "Time to look back at the goals you agreed"
QUIET = "has been quiet for"


@dataclass(frozen=True, slots=True)
class Sent:
    """A message as it stands in the workspace: where, when (to the second), what (its
    blocks' text)."""

    where: str
    at: datetime
    text: str
    edited_at: datetime | None


@dataclass(frozen=True, slots=True)
class Played:
    start: datetime  # the virtual time when the moves began
    transcript: str  # what the console showed during the moves
    sent: list[Sent]
    zone: ZoneInfo  # the console's own time zone (its stamps)

    def find(self, where: str, fragment: str) -> list[Sent]:
        return [s for s in self.sent if s.where == where and fragment in s.text]


def _at(ts: str) -> datetime:
    return datetime.fromtimestamp(int(float(ts)), UTC)


def _where(world: ConsoleWorld, channel_id: str) -> str:
    channel = world.channel(channel_id)
    if channel.im_user is not None:
        return f"dm:{world.user(channel.im_user).name}"
    return world.label(channel_id, "")


def _everything_sent(world: ConsoleWorld) -> list[Sent]:
    """Every message in every conversation (the bot's DMs too), in a stable order; ids
    (new channels' differ from run to run) as names."""
    names = world.names()

    def named(text: str) -> str:
        for some_id, name in names.items():
            text = text.replace(some_id, name)
        return text

    sent = [
        Sent(
            _where(world, channel.id),
            _at(message.ts),
            named(block_text(message.blocks) or message.text),
            _at(message.edited_ts) if message.edited_ts else None,
        )
        for channel in world.channels()
        for message in world.emulator.messages(channel.id)
    ]
    return sorted(sent, key=lambda s: (s.at, s.where, s.text))


def play(
    db: Path, setup: Sequence[str], moves: Sequence[str], settings: Settings | None = None
) -> Played:
    """A fresh console on ``db``: type ``setup``, then each of ``moves`` (clock moves)."""
    with Conversation.start(db, settings) as talk:
        for line in setup:
            talk.say(line)
        start = talk.world.clock.now()
        shown = "".join(talk.say(line) for line in moves)
        return Played(start, shown, _everything_sent(talk.world), talk.world.zone)


def _next(after: datetime, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    """The first ``weekday`` at ``at`` in ``tz`` after ``after``."""
    day = after.astimezone(tz).date()
    while True:
        candidate = datetime.combine(day, at, tzinfo=tz)
        if day.weekday() == weekday and candidate > after:
            return candidate
        day += timedelta(days=1)


def _hours(count: int) -> list[str]:
    return [":advance 1h"] * count


# ---------------------------------------------------------------- a member's own nudge

#: Dave lives in Tokyo; the plan's prompts come every Tuesday at 19:00 UTC.
TOKYO_MEMBER_READS = [
    ":as dave tz Asia/Tokyo",
    ":channel book-club",
    "/book add Dune | Frank Herbert | 6",
    "/book start 1 every tuesday at 19:00 tz UTC 2 chapters",
]
EIGHT_DAYS = {
    "in one jump": [":advance 8d"],
    "a day at a time": [":advance 1d"] * 8,
    "an hour at a time on the last day": [":advance 7d", *_hours(24)],
}


def _step_one_in_tokyo(start: datetime) -> tuple[datetime, datetime]:
    """(when dave is nudged about step 1, its deadline): the reminder, a day before step
    2's prompt, is in his night (04:00 in Tokyo), so it waits for 08:00 there."""
    first_prompt = _next(start, TUESDAY, time(19, 0), ZoneInfo("UTC"))
    deadline = first_prompt + timedelta(days=7)
    reminder = deadline - timedelta(hours=console_settings().reminder_lead_hours)
    assert reminder.astimezone(TOKYO).time() < time(8, 0)  # the premise: he is asleep
    morning = datetime.combine(reminder.astimezone(TOKYO).date(), time(8, 0), tzinfo=TOKYO)
    return morning, deadline.astimezone(TOKYO)


@pytest.mark.parametrize("moves", EIGHT_DAYS.values(), ids=EIGHT_DAYS.keys())
def test_a_members_nudge_comes_at_their_own_morning_however_far_the_clock_jumps(
    tmp_path: Path, moves: list[str]
) -> None:
    played = play(tmp_path / "console.db", TOKYO_MEMBER_READS, moves)
    expected, deadline = _step_one_in_tokyo(played.start)
    nudges = played.find("dm:dave", NUDGE)
    assert [n.at for n in nudges] == [expected.astimezone(UTC)]
    assert nudges[0].at.astimezone(TOKYO).time() == time(8, 0)
    # The console shows it (to dave, in its own zone's time) when it came, not later.
    stamp = moment(expected, played.zone)
    assert f"DM · readalong · {stamp}  (direct message to you)" in played.transcript
    assert f"before {deadline:%a} {deadline.day} {deadline:%b %Y, %H:%M} JST" in nudges[0].text


def test_one_jump_shows_every_message_when_small_steps_show_it(tmp_path: Path) -> None:
    """The members in Berlin are nudged at the reminder time itself, dave at his own
    morning; the prompt on its time: the same in every way of moving the clock."""
    runs = {
        name: play(tmp_path / f"{index}.db", TOKYO_MEMBER_READS, moves)
        for index, (name, moves) in enumerate(EIGHT_DAYS.items())
    }
    stepped = runs["an hour at a time on the last day"].sent
    assert len([s for s in stepped if NUDGE in s.text]) == 4  # alice, bob, carol, dave
    for name, run in runs.items():
        assert run.sent == stepped, name


# ---------------------------------------------------------------- pairs' messages


def test_an_unanswered_invitation_is_told_at_the_askers_morning_in_one_jump(
    tmp_path: Path,
) -> None:
    """Asked at midnight in Tokyo, the invitation expires a week later at midnight
    there: dave hears of it at 08:00 his time, whichever way the clock moves."""
    setup = [":as dave tz Asia/Tokyo", ":advance 8h", "/mentor @alice"]
    runs = [
        play(tmp_path / "jump.db", setup, [":advance 8d"]),
        play(tmp_path / "steps.db", setup, [":advance 7d", *_hours(24)]),
    ]
    for run in runs:
        asked = run.start
        assert asked.astimezone(TOKYO).time() == time(0, 0)  # the premise
        expires = asked + timedelta(days=7)
        morning = datetime.combine(expires.astimezone(TOKYO).date(), time(8, 0), tzinfo=TOKYO)
        assert [s.at for s in run.find("dm:dave", EXPIRED)] == [morning.astimezone(UTC)]
        assert f"DM · readalong · {moment(morning, run.zone)}" in run.transcript
    assert runs[0].sent == runs[1].sent


#: Dave (Tokyo) and alice (Berlin) pair up and read a one-chapter book, a day per step:
#: it ends at 16:00 in Berlin, midnight in Tokyo.
PAIR_READS = [
    ":as dave tz Asia/Tokyo",
    "/mentor @alice",
    ":as alice",
    ":click 1 Accept",
    ":go 2",
    "/mentor goals\nRead closely\\nAsk one question a day",
    "/book add Tiny | Ann Author | 1",
    "/book start 1 every 1 days at 16:00",
]


def test_the_look_back_waits_until_both_are_awake_in_one_jump(tmp_path: Path) -> None:
    """Their waking hours overlap from 08:00 in Berlin (16:00 in Tokyo) to 13:00: the
    look-back comes at 08:00 Berlin the morning after the book ends."""
    runs = [
        play(tmp_path / "jump.db", PAIR_READS, [":advance 3d"]),
        play(tmp_path / "steps.db", PAIR_READS, [":advance 1d 20h", *_hours(12)]),
    ]
    berlin = ZoneInfo(console_settings().default_timezone)
    for run in runs:
        ends = datetime.combine(
            run.start.astimezone(berlin).date() + timedelta(days=1), time(16, 0), tzinfo=berlin
        )
        assert ends.astimezone(TOKYO).time() == time(0, 0)  # the premise: dave is asleep
        both_awake = datetime.combine(ends.date() + timedelta(days=1), time(8, 0), tzinfo=berlin)
        for person in ("dave", "alice"):
            asked = run.find(f"dm:{person}", LOOK_BACK)
            assert [s.at for s in asked] == [both_awake.astimezone(UTC)], person
    assert runs[0].sent == runs[1].sent


def test_a_quiet_pair_is_flagged_at_the_admins_morning_in_one_jump(tmp_path: Path) -> None:
    """Alice runs the programme (in Berlin); bob accepts dave at 22:00 her time, so the
    pair is a day quiet at 22:00 the next evening: she hears of it at 08:00."""
    settings = dataclasses.replace(
        console_settings(), mentoring_admins=["U0ALICE0001"], pair_quiet_days=1
    )
    setup = [":advance 14h", ":as dave", "/mentor @bob", ":as bob", ":click 1 Accept"]
    runs = [
        play(tmp_path / "jump.db", setup, [":advance 2d"], settings),
        play(tmp_path / "steps.db", setup, [":advance 1d 6h", *_hours(18)], settings),
    ]
    for run in runs:
        accepted = run.start.astimezone(run.zone)
        assert accepted.time() == time(22, 0)  # the premise: alice is asleep a day later
        morning = datetime.combine(accepted.date() + timedelta(days=2), time(8, 0), tzinfo=run.zone)
        assert [s.at for s in run.find("dm:alice", QUIET)] == [morning.astimezone(UTC)]
    assert runs[0].sent == runs[1].sent


# ---------------------------------------------------------------- digests


def test_a_weekly_digest_comes_at_its_hour_in_one_jump(tmp_path: Path) -> None:
    settings = dataclasses.replace(console_settings(), digest_schedule="weekly")
    setup = [
        "/book add Dune | Frank Herbert | 6",
        "/book start 1 every monday at 09:00 2 chapters",
        ":advance 1h",
        ":as bob",
        "/reflect The desert is a character.",
    ]
    runs = [
        play(tmp_path / "jump.db", setup, [":advance 4d 12h"], settings),
        play(tmp_path / "steps.db", setup, [":advance 4d", *_hours(12)], settings),
    ]
    for run in runs:
        weekday = WEEKDAY_NAMES.index(settings.digest_weekday)
        friday = _next(run.start, weekday, settings.digest_time, run.zone)
        digests = run.find("#book-club", "Dune: This week")
        assert [d.at for d in digests] == [friday.astimezone(UTC)]
        assert f"#book-club · readalong · {moment(friday, run.zone)}" in run.transcript
    assert runs[0].sent == runs[1].sent


def test_a_digest_is_brought_up_to_date_at_the_next_tick_however_far_the_clock_moves(
    tmp_path: Path,
) -> None:
    """Carol edits a reflection the step's digest quotes: the scheduler's next tick (30 s
    on) re-renders the digest, before the clock goes on, in a jump as in a short step."""
    setup = [
        "/book add Dune | Frank Herbert | 6",
        "/book start 1 every monday at 09:00 2 chapters",
        ":advance 1h",
        ":as carol",
        "/reflect quotable on",
        "/reflect The spice must flow.",
        ":advance 7d",
        "/reflect edit 1 The spice must flow, and so must the water.",
    ]
    runs = [
        play(tmp_path / "jump.db", setup, [":advance 1d"]),
        play(tmp_path / "step.db", setup, [":advance 1h"]),
    ]
    interval = timedelta(seconds=console_settings().scheduler_interval_seconds)
    for run in runs:
        digests = run.find("#book-club", "Dune: Step 1")
        assert [d.edited_at for d in digests] == [run.start + interval]
        assert "The spice must flow, and so must the water." in digests[0].text
    assert runs[0].sent == runs[1].sent
