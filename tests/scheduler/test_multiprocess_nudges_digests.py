"""Two real ``readalong serve`` processes share nudges and step digests (issue 14).

Prompts are proven exactly-once across processes in ``test_multiprocess`` and
``test_crash_safety``; this proves the rest of what the scheduler fans out: every member
who has not reflected on a step gets one nudge DM for it (``chat.postMessage`` to the
member), and every group gets one digest of each step once the step has closed, none
duplicated, none missing, counted on Slack's side (the emulator's call log) and in the
database (nudge and summary rows).

Both processes start before anything is due and tick every second (ticks fall on whole
seconds, so theirs coincide). The test then brings work due by the clock they use, the
real one, by moving steps' due times in the database (never by sleeping):

A. step 1 is due and so, at once, is its reminder (half its period has passed): prompt
   and nudges.
B. step 2 is due: its prompt and nudges, and step 1's digest (step 1 has closed).
C. step 3 is due: its prompt, and step 2's digest. Step 3's own nudges and digest are
   not due by then (its period has only just begun): none may come.

Members live in a time zone where it is about noon now, so no nudge waits for their
waking hours. A member who reflected (privately) before a step's reminder is not
nudged for it; the host shares a reflection once a step's nudges are out, so that its
digest has something in it (an empty digest is never posted).

On PostgreSQL (``TEST_DATABASE_URL``; this test uses that database itself, through the
``clean_engine`` fixture) one process leads and the other follows: the leader does
everything, the follower shares prompts and reminders, so both send nudges and only the
leader posts digests. On SQLite, as in ``test_crash_safety``'s two schedulers, both
processes schedule everything (there is no election) and only the claims in the
database keep each message single.

Posts are slowed down (the emulator holds each ``chat.postMessage``) and each process
has two posting threads, so neither can send a step's nudges alone before the other's
next tick: both get some of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update

from bot.bootstrap import build_services
from bot.domain import pace
from bot.domain.digests import DigestKind, SummaryState
from bot.domain.model import Cadence, Caller, StepState, Visibility
from bot.emulator.server import SlackEmulator
from bot.scheduler import FIRST_TICK
from bot.services.container import Services
from bot.slack.blocks.reflections import REFLECT_ACTION
from bot.storage.models import NudgeRow, StepRow, SummaryRow
from tests import process_helpers
from tests.process_helpers import ServerProcess, emulator_settings, posted_step_ids, wait_for

SECRET = "nudges-digests-signing-secret"
LEASE_SECONDS = 30
BOOK = "The Dispossessed"
GROUPS = 6
READERS = 4  # per group, besides the host
STEPS = 3
POST_LATENCY = 0.2  # seconds the emulator holds each chat.postMessage
PHASE_TIMEOUT = 20.0
HOST = "U0NDHOST001"
TICK_LINE = re.compile(r"tick: .*?, (\d+) reminders, (\d+) digests")


# ---------------------------------------------------------------------- the groups


@dataclass(frozen=True)
class Group:
    channel: str
    plan_id: int
    readers: tuple[str, ...]
    step_ids: dict[int, int]  # step number → step id

    @property
    def members(self) -> tuple[str, ...]:
        return (HOST, *self.readers)

    def reflected_before_reminder(self, number: int) -> str | None:
        """The reader who wrote a (private) reflection on step ``number`` before it was
        due: reader 0 on step 1, reader 1 on step 2."""
        return self.readers[number - 1] if number <= 2 else None


def midday_zone(now: datetime) -> str:
    """A fixed-offset IANA zone where ``now`` is between 12:00 and 13:00 (awake)."""
    offset = 12 - now.hour  # hours east of UTC: -11 … +12, all of them real zones
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-5 is UTC+5


def seed(emulator: SlackEmulator, services: Services, engine: Engine, zone: str) -> list[Group]:
    """``GROUPS`` channels, each with the host and ``READERS`` readers, reading a
    three-chapter book a chapter a day; every step falls due hours from now."""
    team = emulator.team_id
    emulator.add_user(HOST, "host", real_name="Nudge Host", tz=zone)
    services.books.add(team, HOST, BOOK, "Ursula K. Le Guin", str(STEPS))
    now = datetime.now(UTC)
    groups = []
    for g in range(GROUPS):
        channel = f"C0ND{g:07d}"
        readers = tuple(f"U0ND{g:03d}R{r:02d}" for r in range(READERS))
        for reader in readers:
            emulator.add_user(reader, reader.lower(), real_name=f"Reader {reader}", tz=zone)
        emulator.add_channel(
            channel, f"nudge-club-{g}", members=[HOST, *readers, emulator.bot_user_id]
        )
        view = services.plans.start(
            Caller(team, HOST),
            channel,
            BOOK,
            Cadence.every(1, clock_time(9)),
            1,
            now.date(),
            "UTC",
        )
        step_ids = {step.number: step.id for step in view.plan.steps if step.id is not None}
        assert view.plan.id is not None and len(step_ids) == STEPS
        groups.append(Group(channel, view.plan.id, readers, step_ids))
    with engine.begin() as conn:  # nothing is due before the test says so
        for number in range(1, STEPS + 1):
            conn.execute(
                update(StepRow)
                .where(StepRow.number == number)
                .values(due_at=now + timedelta(hours=number))
            )
    for group in groups:
        for number in (1, 2):
            author = group.reflected_before_reminder(number)
            assert author is not None
            services.reflections.write(
                team,
                group.channel,
                author,
                f"{author} has read step {number}, and keeps it to themselves.",
                step_number=number,
                visibility=Visibility.PRIVATE,
            )
    return groups


def share(emulator: SlackEmulator, services: Services, groups: list[Group], number: int) -> None:
    """The host shares a reflection on step ``number`` in every group (not echoed: the
    digest counts it all the same)."""
    for group in groups:
        services.reflections.write(
            emulator.team_id,
            group.channel,
            HOST,
            f"Shevek's walls, step {number}.",
            step_number=number,
            visibility=Visibility.SHARED,
        )


def bring_due(engine: Engine, **due: datetime) -> None:
    """Set the due time of every plan's step ``step<n>=…``, in one transaction."""
    with engine.begin() as conn:
        for name, at in due.items():
            number = int(name.removeprefix("step"))
            conn.execute(update(StepRow).where(StepRow.number == number).values(due_at=at))


# ---------------------------------------------------------------------- what happened


def _reflect_step(blocks: Any) -> int | None:
    """The step id on a message's Reflect button (a nudge has one)."""
    for block in blocks if isinstance(blocks, list) else []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == REFLECT_ACTION:
                return int(element["value"])
    return None


def _accepted_posts(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return [
        call.params
        for call in emulator.calls_to("chat.postMessage")
        if call.status == 200 and call.response.get("ok")
    ]


def nudges_on_slack(emulator: SlackEmulator) -> Counter[tuple[str, int | None]]:
    """(member, step id) of every nudge DM Slack accepted, with how many times."""
    return Counter(
        (str(params["channel"]), _reflect_step(params.get("blocks")))
        for params in _accepted_posts(emulator)
        if str(params.get("text", "")).startswith("A nudge:")
    )


def _header(blocks: Any) -> str:
    first = blocks[0] if isinstance(blocks, list) and blocks else {}
    return str((first.get("text") or {}).get("text", "")) if first.get("type") == "header" else ""


def digests_on_slack(emulator: SlackEmulator) -> Counter[tuple[str, str]]:
    """(channel, title) of every digest message Slack accepted (``Step 1``, …): those
    headed "📚 <book>: <title>"."""
    prefix = f"📚 {BOOK}: "
    return Counter(
        (str(params["channel"]), _header(params.get("blocks")).removeprefix(prefix))
        for params in _accepted_posts(emulator)
        if _header(params.get("blocks")).startswith(prefix)
    )


def step_states(engine: Engine, number: int) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(StepRow.state, func.count())
            .where(StepRow.number == number)
            .group_by(StepRow.state)
        )
        return Counter({state: count for state, count in rows})


def nudge_states(engine: Engine, step_ids: set[int]) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(NudgeRow.state, func.count())
            .where(NudgeRow.step_id.in_(step_ids))
            .group_by(NudgeRow.state)
        )
        return Counter({state: count for state, count in rows})


def summary_states(engine: Engine) -> Counter[tuple[str, str, str]]:
    """(kind, period, state) of every digest row, with how many plans have it."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(SummaryRow.kind, SummaryRow.period_key, SummaryRow.state, func.count()).group_by(
                SummaryRow.kind, SummaryRow.period_key, SummaryRow.state
            )
        )
        return Counter({(kind, period, state): count for kind, period, state, count in rows})


def ticks_reported(serve: ServerProcess) -> tuple[int, int]:
    """(nudges, digests) a process's tick lines say it sent."""
    reminders = digests = 0
    for match in TICK_LINE.finditer(serve.log_text()):
        reminders += int(match.group(1))
        digests += int(match.group(2))
    return reminders, digests


# ---------------------------------------------------------------------- the test


def test_two_processes_send_every_nudge_and_step_digest_exactly_once(
    clean_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    engine = clean_engine
    postgres = engine.dialect.name == "postgresql"
    emulator = SlackEmulator().start()
    processes: list[ServerProcess] = []
    services, close_services = build_services(
        emulator_settings(emulator, database_url, secret=SECRET)
    )
    try:
        zone = midday_zone(datetime.now(UTC))
        assert pace.awake(datetime.now(UTC), zone)
        groups = seed(emulator, services, engine, zone)
        expected_nudges = {
            number: {
                (member, group.step_ids[number])
                for group in groups
                for member in group.members
                if member != group.reflected_before_reminder(number)
            }
            for number in (1, 2)
        }
        assert all(len(n) == GROUPS * READERS for n in expected_nudges.values())
        expected_digests = {
            (group.channel, f"Step {number}") for group in groups for number in (1, 2)
        }
        emulator.slow_down(POST_LATENCY, method="chat.postMessage")

        for name in ("A", "B"):
            processes.append(
                process_helpers.start_serve(
                    name,
                    database_url,
                    emulator,
                    tmp_path,
                    secret=SECRET,
                    lease_seconds=LEASE_SECONDS,
                    REMINDER_LEAD_HOURS="24",  # a daily step's nudge: halfway through it
                    DIGEST_SCHEDULE="step",
                    POSTING_WORKERS="2",
                    CHANNEL_POST_INTERVAL_SECONDS="0",
                )
            )
        for serve in processes:
            serve.wait_listening()
            serve.wait_logged(FIRST_TICK)
        assert not nudges_on_slack(emulator) and not digests_on_slack(emulator)

        def alive() -> bool:
            return all(serve.check_alive() for serve in processes)

        def phase(done: Callable[[], bool], what: str) -> None:
            try:
                wait_for(lambda: alive() and done(), PHASE_TIMEOUT, what)
            except AssertionError as exc:
                step_ids = {s for g in groups for s in g.step_ids.values()}
                logs = "\n".join(f"--- {s.name}:\n{s.log_tail(15)}" for s in processes)
                raise AssertionError(
                    f"{exc}: steps {[dict(step_states(engine, n)) for n in (1, 2, 3)]}, "
                    f"nudge rows {dict(nudge_states(engine, step_ids))}, "
                    f"digest rows {dict(summary_states(engine))}; "
                    f"on Slack {sum(nudges_on_slack(emulator).values())} nudges, "
                    f"digests {sorted(digests_on_slack(emulator))}\n{logs}"
                ) from None

        def nudges_out(number: int) -> bool:
            step_ids = {step for _, step in expected_nudges[number]}
            return nudge_states(engine, step_ids) == {
                "sent": len(expected_nudges[number])
            } and expected_nudges[number] <= set(nudges_on_slack(emulator))

        def digests_out(number: int) -> bool:
            posted = (DigestKind.STEP.value, f"step-{number}", SummaryState.POSTED.value)
            return summary_states(engine)[posted] == GROUPS and {
                d for d in expected_digests if d[1] == f"Step {number}"
            } <= set(digests_on_slack(emulator))

        # A: step 1 fell due 9 minutes ago, step 2 is due in 8: half of step 1's
        # period is over, so its reminder is due as soon as its prompt is out.
        now = datetime.now(UTC)
        bring_due(engine, step1=now - timedelta(minutes=9), step2=now + timedelta(minutes=8))
        phase(
            lambda: step_states(engine, 1) == {StepState.POSTED.value: GROUPS} and nudges_out(1),
            "step 1's prompts and nudges",
        )
        share(emulator, services, groups, 1)

        # B: step 2 fell due 6 minutes ago (step 1 has closed: its digest is due), step 3
        # is due in 5: step 2's reminder is due too.
        now = datetime.now(UTC)
        bring_due(engine, step2=now - timedelta(minutes=6), step3=now + timedelta(minutes=5))
        phase(
            lambda: (
                step_states(engine, 2) == {StepState.POSTED.value: GROUPS}
                and nudges_out(2)
                and digests_out(1)
            ),
            "step 2's prompts and nudges, and step 1's digests",
        )
        share(emulator, services, groups, 2)

        # C: step 3 fell due 3 minutes ago: step 2 has closed. Step 3's reminder comes
        # half a day after it, its digest once the plan ends: neither is due.
        bring_due(engine, step3=datetime.now(UTC) - timedelta(minutes=3))
        phase(
            lambda: step_states(engine, 3) == {StepState.POSTED.value: GROUPS} and digests_out(2),
            "step 3's prompts and step 2's digests",
        )

        roles = {serve.name: serve.role() for serve in processes}
        for serve in processes:
            assert serve.stop() == 0, serve.output_tail()  # nothing is in flight after this

        # Slack's side: each member one nudge per step, each group one digest per step.
        nudges = nudges_on_slack(emulator)
        doubled = {key: n for key, n in nudges.items() if n > 1}
        assert not doubled, f"nudged more than once: {doubled}"
        expected_all = expected_nudges[1] | expected_nudges[2]
        assert not expected_all - set(nudges), f"never nudged: {expected_all - set(nudges)}"
        assert set(nudges) == expected_all, f"unexpected nudges: {set(nudges) - expected_all}"
        digests = digests_on_slack(emulator)
        doubled_digests = {key: n for key, n in digests.items() if n > 1}
        assert not doubled_digests, f"digests posted more than once: {doubled_digests}"
        assert set(digests) == expected_digests, (
            f"missing {expected_digests - set(digests)}, unexpected "
            f"{set(digests) - expected_digests}"
        )
        prompts = Counter(posted_step_ids(emulator))
        assert set(prompts.values()) == {1} and len(prompts) == GROUPS * STEPS, prompts

        # The database agrees: every nudge row sent once, every step digest posted.
        all_steps = {s for g in groups for s in g.step_ids.values()}
        assert nudge_states(engine, all_steps) == {"sent": len(expected_all)}
        assert summary_states(engine) == {
            (DigestKind.STEP.value, f"step-{n}", SummaryState.POSTED.value): GROUPS for n in (1, 2)
        }

        # Both processes sent nudges, and between them exactly those Slack has.
        reported = {serve.name: ticks_reported(serve) for serve in processes}
        print("(nudges, digests) sent by each process:", reported, roles)
        assert all(sent > 0 for sent, _ in reported.values()), reported
        assert sum(sent for sent, _ in reported.values()) == len(expected_all), reported
        assert sum(posted for _, posted in reported.values()) == len(expected_digests), reported
        if postgres:
            assert sorted(roles.values()) == ["follower", "leader"], roles
            follower = next(name for name, role in roles.items() if role == "follower")
            assert reported[follower][1] == 0, f"the follower posted digests: {reported}"
        else:
            assert roles == {"A": "leader", "B": "leader"}, roles  # SQLite: no election
    finally:
        for serve in processes:
            serve.kill()
        close_services()
        emulator.stop()
