"""Schedule maths: chapter ranges, cadence slots, DST, and parsing of user input."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.model import Cadence
from bot.domain.schedule import (
    MAX_STEPS,
    build_steps,
    chapter_ranges,
    local_to_utc,
    parse_date,
    parse_time,
    parse_timezone,
    parse_weekday,
    slots,
    slots_after,
    zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def take(n: int, iterator: Iterator[datetime]) -> list[datetime]:
    return [next(iterator) for _ in range(n)]


# --- weekly plans across daylight-saving changes -------------------------------------------


def test_weekly_across_eu_spring_forward_keeps_local_time() -> None:
    # Monday 09:00 Berlin; clocks go forward on Sunday 2026-03-29.
    steps = build_steps(3, 1, Cadence.weekly(0, time(9, 0)), date(2026, 3, 16), "Europe/Berlin")
    assert [s.due_at for s in steps] == [
        utc(2026, 3, 16, 8, 0),  # CET, UTC+1
        utc(2026, 3, 23, 8, 0),
        utc(2026, 3, 30, 7, 0),  # CEST, UTC+2
    ]
    local = [s.due_at.astimezone(BERLIN) for s in steps]
    assert {(d.weekday(), d.time()) for d in local} == {(0, time(9, 0))}
    assert [d.utcoffset() for d in local] == [timedelta(hours=1)] * 2 + [timedelta(hours=2)]


def test_weekly_across_eu_fall_back_keeps_local_time() -> None:
    # Saturday 20:00 Berlin; clocks go back on Sunday 2026-10-25.
    steps = build_steps(3, 1, Cadence.weekly(5, time(20, 0)), date(2026, 10, 17), "Europe/Berlin")
    assert [s.due_at for s in steps] == [
        utc(2026, 10, 17, 18, 0),  # CEST
        utc(2026, 10, 24, 18, 0),
        utc(2026, 10, 31, 19, 0),  # CET
    ]
    assert {s.due_at.astimezone(BERLIN).time() for s in steps} == {time(20, 0)}


def test_weekly_across_us_change_keeps_local_time() -> None:
    # Sunday 10:00 New York; US clocks go forward on 2026-03-08 and back on 2026-11-01.
    spring = build_steps(2, 1, Cadence.weekly(6, time(10, 0)), date(2026, 3, 1), "America/New_York")
    assert [s.due_at for s in spring] == [utc(2026, 3, 1, 15, 0), utc(2026, 3, 8, 14, 0)]
    fall = build_steps(2, 1, Cadence.weekly(6, time(10, 0)), date(2026, 10, 25), "America/New_York")
    assert [s.due_at for s in fall] == [utc(2026, 10, 25, 14, 0), utc(2026, 11, 1, 15, 0)]
    for step in spring + fall:
        assert step.due_at.astimezone(NEW_YORK).time() == time(10, 0)


def test_six_step_plan_across_dst_change() -> None:
    cadence = Cadence.weekly(2, time(18, 30))  # Wednesday 18:30
    steps = build_steps(12, 2, cadence, date(2026, 10, 14), "America/New_York")
    assert [(s.number, s.first_chapter, s.last_chapter) for s in steps] == [
        (1, 1, 2),
        (2, 3, 4),
        (3, 5, 6),
        (4, 7, 8),
        (5, 9, 10),
        (6, 11, 12),
    ]
    assert [s.due_at for s in steps] == [
        utc(2026, 10, 14, 22, 30),  # EDT, UTC-4
        utc(2026, 10, 21, 22, 30),
        utc(2026, 10, 28, 22, 30),
        utc(2026, 11, 4, 23, 30),  # EST, UTC-5
        utc(2026, 11, 11, 23, 30),
        utc(2026, 11, 18, 23, 30),
    ]
    local = [s.due_at.astimezone(NEW_YORK) for s in steps]
    assert all(d.weekday() == 2 and d.time() == time(18, 30) for d in local)
    dates = [d.date() for d in local]
    assert [b - a for a, b in itertools.pairwise(dates)] == [timedelta(days=7)] * 5


def test_every_n_days_across_dst() -> None:
    due = take(4, slots(Cadence.every(3, time(7, 15)), date(2026, 3, 26), BERLIN))
    assert due == [
        utc(2026, 3, 26, 6, 15),
        utc(2026, 3, 29, 5, 15),  # the DST day itself, after the change
        utc(2026, 4, 1, 5, 15),
        utc(2026, 4, 4, 5, 15),
    ]
    assert [d.astimezone(BERLIN).date() for d in due] == [
        date(2026, 3, 26),
        date(2026, 3, 29),
        date(2026, 4, 1),
        date(2026, 4, 4),
    ]


def test_every_day_starts_on_the_start_date() -> None:
    due = take(3, slots(Cadence.every(1, time(0, 0)), date(2026, 12, 31), ZoneInfo("UTC")))
    assert due == [utc(2026, 12, 31), utc(2027, 1, 1), utc(2027, 1, 2)]


@pytest.mark.parametrize(
    ("start", "first"),
    [
        (date(2026, 11, 30), date(2026, 11, 30)),  # a Monday: that same day
        (date(2026, 12, 1), date(2026, 12, 7)),  # a Tuesday: the next Monday
        (date(2026, 12, 6), date(2026, 12, 7)),  # a Sunday: the day after
    ],
)
def test_weekly_start_is_on_or_after_the_weekday(start: date, first: date) -> None:
    (due,) = take(1, slots(Cadence.weekly(0, time(9, 0)), start, ZoneInfo("UTC")))
    assert due == datetime.combine(first, time(9, 0), tzinfo=UTC)


def test_gap_time_resolves_forward() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29; it becomes 03:30 CEST (01:30 UTC).
    instant = local_to_utc(date(2026, 3, 29), time(2, 30), BERLIN)
    assert instant == utc(2026, 3, 29, 1, 30)
    assert instant.astimezone(BERLIN).time() == time(3, 30)
    steps = build_steps(2, 1, Cadence.weekly(6, time(2, 30)), date(2026, 3, 22), "Europe/Berlin")
    assert [s.due_at.astimezone(BERLIN).time() for s in steps] == [time(2, 30), time(3, 30)]


def test_ambiguous_fall_back_time_is_the_first_occurrence() -> None:
    instant = local_to_utc(date(2026, 10, 25), time(2, 30), BERLIN)
    assert instant == utc(2026, 10, 25, 0, 30)  # 02:30 CEST


def test_slots_after_is_anchored_at_start_date() -> None:
    cadence = Cadence.every(2, time(9, 0))
    due = take(2, slots_after(cadence, date(2026, 12, 1), ZoneInfo("UTC"), utc(2026, 12, 4, 9)))
    assert due == [utc(2026, 12, 5, 9), utc(2026, 12, 7, 9)]  # 1, 3, 5, 7 …: not the 4th
    assert take(1, slots_after(cadence, date(2026, 12, 1), ZoneInfo("UTC"), utc(2026, 12, 5, 9)))[
        0
    ] == utc(2026, 12, 5, 9)  # a slot exactly at ``after`` counts


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


@settings(deadline=None)  # the first zone load can be slow on a cold CI machine
@given(
    tz=st.sampled_from(ZONES),
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23).filter(lambda h: h not in (2, 3)),  # clear of every gap
    minute=st.integers(0, 59),
    start=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
)
def test_weekly_slots_property(tz: str, weekday: int, hour: int, minute: int, start: date) -> None:
    at = time(hour, minute)
    local = [
        d.astimezone(ZoneInfo(tz))
        for d in take(60, slots(Cadence.weekly(weekday, at), start, zone(tz)))
    ]
    assert local[0].date() >= start
    assert local[0].date() - start < timedelta(days=7)
    assert all(d.weekday() == weekday and d.time() == at for d in local)
    dates = [d.date() for d in local]
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(dates))
    assert all(d.tzinfo is not None for d in local)


# --- chapter ranges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "per", "expected"),
    [
        (10, 3, [(1, 3), (4, 6), (7, 9), (10, 10)]),
        (6, 2, [(1, 2), (3, 4), (5, 6)]),
        (1, 1, [(1, 1)]),
        (3, 10, [(1, 3)]),
        (7, 6, [(1, 6), (7, 7)]),
    ],
)
def test_chapter_ranges(count: int, per: int, expected: list[tuple[int, int]]) -> None:
    assert chapter_ranges(count, per) == expected


@given(count=st.integers(1, 500), per=st.integers(1, 60))
def test_chapter_ranges_property(count: int, per: int) -> None:
    ranges = chapter_ranges(count, per)
    covered = [c for first, last in ranges for c in range(first, last + 1)]
    assert covered == list(range(1, count + 1))  # each chapter once, in order
    assert ranges[0][0] == 1 and ranges[-1][1] == count
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
    assert all(1 <= last - first + 1 <= per for first, last in ranges)
    assert all(last - first + 1 == per for first, last in ranges[:-1])


@pytest.mark.parametrize(
    ("count", "per", "words"), [(0, 1, "at least one chapter"), (5, 0, "at least 1")]
)
def test_chapter_ranges_rejects_zero(count: int, per: int, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        chapter_ranges(count, per)


def test_too_many_steps_refused() -> None:
    assert len(chapter_ranges(MAX_STEPS, 1)) == MAX_STEPS
    with pytest.raises(InvalidInput, match=f"at most {MAX_STEPS}"):
        chapter_ranges(MAX_STEPS + 1, 1)


# --- parsing -------------------------------------------------------------------------------


def test_zone_accepts_iana_names() -> None:
    assert zone("Europe/Berlin") == BERLIN


@pytest.mark.parametrize(
    "name",
    ["", " ", "Mars/Olympus_Mons", " Europe/Berlin", "Europe", "../etc/passwd", "/etc/localtime"],
)
def test_zone_rejects_unknown_names_readably(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        zone(name)
    assert "is not a time zone I know" in caught.value.message
    assert "Europe/Berlin" in caught.value.message


def test_build_steps_rejects_unknown_zone() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        build_steps(3, 1, Cadence.weekly(0, time(9, 0)), date(2026, 12, 7), "Nowhere/City")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon", 0),
        ("Monday", 0),
        (" TUE ", 1),
        ("we", 2),
        ("th", 3),
        ("fri", 4),
        ("sa", 5),
        ("sunday", 6),
    ],
)
def test_parse_weekday(text: str, expected: int) -> None:
    assert parse_weekday(text) == expected


@pytest.mark.parametrize("text", ["", "m", "t", "s", "xyz", "mondays", "8", "funday"])
def test_parse_weekday_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a weekday"):
        parse_weekday(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00", time(9, 0)),
        ("9:05", time(9, 5)),
        (" 18:30 ", time(18, 30)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
    ],
)
def test_parse_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "9", "0900", "24:00", "12:60", "9:5", "ab:cd", "-1:00", "9:00pm", "1:2:3"]
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"is not a time\. Use 24-hour HH:MM"):
        parse_time(text)


def test_parse_date() -> None:
    assert parse_date(" 2026-12-07 ") == date(2026, 12, 7)


@pytest.mark.parametrize("text", ["", "tomorrow", "2026-02-30", "07/12/2026", "2026-13-01"])
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"is not a date\. Use YYYY-MM-DD"):
        parse_date(text)


# --- time zones as people type them (issue 10 #15) ------------------------------------


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("EST", "America/New_York"),
        ("GMT", "Europe/London"),
        ("PST", "America/Los_Angeles"),
        ("London", "Europe/London"),
        ("new york", "America/New_York"),
        ("Londn", "Europe/London"),
        ("Etc/GMT+5", "UTC"),
    ],
)
def test_fixed_offsets_and_city_names_are_refused_with_the_iana_zone_suggested(
    typed: str, suggested: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_timezone(typed)
    assert f"did you mean {suggested}" in caught.value.message
    assert [(s.typed, s.replacement) for s in caught.value.suggestions] == [(typed, suggested)]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("America/New_York", "America/New_York"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
    ],
)
def test_iana_zones_in_any_case_are_accepted_as_their_canonical_name(
    typed: str, canonical: str
) -> None:
    assert parse_timezone(typed) == canonical


def test_a_fixed_offset_zone_says_why() -> None:
    with pytest.raises(InvalidInput, match="daylight saving"):
        parse_timezone("EST")
