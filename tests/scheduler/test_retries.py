"""Issue 10 #25: retries honour Retry-After, a crash is not a failed attempt, and a claim
left by a process that is gone is taken over without waiting for the lease.

Time is the harness's FakeClock throughout; "Slack took 0.4 s to answer" is the clock
moved inside the call, and "a process died" is a service whose every later call raises.
"""

from __future__ import annotations

import email.utils
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse, WebClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import sessionmaker

from bot.domain.model import Cadence, Caller, StepState
from bot.domain.prompts import PromptContent, retry_delay
from bot.services.ports import DeliveryFailed, Notifier, Unit, UnitOfWork
from bot.services.prompts import PromptPolicy, PromptService, TickReport
from bot.slack.notifier import SlackNotifier
from bot.storage.db import make_engine
from bot.storage.leadership import WORKER_LOCK_CLASS, worker_lock_key
from bot.storage.models import StepRow
from bot.storage.uow import SqlAlchemyUnitOfWork
from tests.harness import ALICE, CLUB, OTHER, Harness
from tests.process_helpers import posted_step_ids

TEAM = "T0EMULATOR1"


def start_plans(harness: Harness, channels: tuple[str, ...] = (CLUB,)) -> dict[str, int]:
    """A daily three-chapter plan in each channel, from tomorrow (by the clock); the clock
    is then at step 1's due time. Returns step 1's id per channel."""
    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", "3")
    tomorrow = harness.clock.now().date() + timedelta(days=1)
    first: dict[str, int] = {}
    for channel in channels:
        view = services.plans.start(
            Caller(TEAM, ALICE), channel, "Dune", Cadence.every(1, time(9)), 1, tomorrow, "UTC"
        )
        step = view.plan.steps[0]
        assert step.id is not None
        first[channel] = step.id
        harness.clock.set(step.due_at)
    return first


def step_row(harness: Harness, step_id: int) -> StepRow:
    with harness.runtime.session_factory() as session:
        row = session.scalars(select(StepRow).where(StepRow.id == step_id)).one()
        session.expunge(row)
        return row


def post_attempts(harness: Harness) -> int:
    return len(harness.emulator.calls_to("chat.postMessage"))


# ---------------------------------------------------------------------- Retry-After


class _SlackTakesItsTime:
    """Slack answers each post ``latency`` after it was sent (moves the fake clock)."""

    def __init__(self, inner: Notifier, harness: Harness, latency: timedelta) -> None:
        self.inner = inner
        self.clock = harness.clock
        self.latency = latency
        self.sent: list[datetime] = []
        self.answered: list[datetime] = []

    def post_prompt(self, channel_id: str, content: PromptContent) -> str:
        self.sent.append(self.clock.now())
        try:
            return self.inner.post_prompt(channel_id, content)
        finally:
            self.clock.advance(self.latency)
            self.answered.append(self.clock.now())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_429_retry_after_one_second_is_counted_from_slacks_answer(harness: Harness) -> None:
    """Seen: after a 429 with Retry-After: 1, the next attempt came 0.92-0.99 s later,
    because the retry time was counted from the tick's start, not from Slack's answer."""
    start_plans(harness)
    services = harness.runtime.services
    slack = _SlackTakesItsTime(services.prompts.notifier, harness, timedelta(seconds=0.4))
    # Not waited out in the call (inline_retries=0): a retry time is stored for later ticks.
    policy = replace(services.prompts.policy, inline_retries=0)
    prompts = PromptService(services.prompts.uow, harness.clock, slack, policy)
    harness.emulator.fail_next(1, status=429, retry_after=1, method="chat.postMessage")
    for _ in range(40):  # a scheduler ticking every 0.1 s, for four seconds
        prompts.run_due()
        harness.clock.advance(timedelta(seconds=0.1))
    assert [c.status for c in harness.emulator.calls_to("chat.postMessage")] == [429, 200]
    waited = slack.sent[1] - slack.answered[0]
    assert timedelta(seconds=1) <= waited < timedelta(seconds=1.2), waited


def test_a_short_retry_after_is_waited_out_in_the_same_tick(harness: Harness) -> None:
    """Issue 14: a 429 under load (Retry-After: 2) costs that post 2 s, not a tick: the
    post is sent again right after the wait (its claim renewed first), in the same run."""
    first = start_plans(harness)
    services = harness.runtime.services
    slack = _SlackTakesItsTime(services.prompts.notifier, harness, timedelta(seconds=0.2))
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        harness.clock.advance(timedelta(seconds=seconds))

    prompts = PromptService(
        services.prompts.uow, harness.clock, slack, services.prompts.policy, wait=wait
    )
    harness.emulator.fail_next(2, status=429, retry_after=2, method="chat.postMessage")
    report = prompts.run_due()
    assert report.posted == [first[CLUB]] and not report.retrying
    assert [c.status for c in harness.emulator.calls_to("chat.postMessage")] == [429, 429, 200]
    assert waits == [2.0, 2.0]
    assert slack.sent[2] - slack.answered[1] == timedelta(seconds=2)
    assert step_row(harness, first[CLUB]).failures == 0  # Slack took it; nothing to back off


def test_a_long_retry_after_is_stored_not_slept(harness: Harness) -> None:
    first = start_plans(harness)
    services = harness.runtime.services
    waits: list[float] = []
    prompts = PromptService(
        services.prompts.uow,
        harness.clock,
        services.prompts.notifier,
        services.prompts.policy,
        wait=waits.append,
    )
    harness.emulator.fail_next(1, status=429, retry_after=30, method="chat.postMessage")
    report = prompts.run_due()
    assert report.retrying == [first[CLUB]] and waits == []
    row = step_row(harness, first[CLUB])
    assert row.state == StepState.PENDING.value
    assert row.next_attempt_at is not None


def test_retry_after_rounds_up_and_is_never_cut_short() -> None:
    assert retry_delay(1, 1.2) == timedelta(seconds=2)
    assert retry_delay(1, 0.3) == timedelta(seconds=1)
    assert retry_delay(4, 1) == timedelta(seconds=1)  # Slack's word wins over the backoff
    assert retry_delay(1, 7200) == timedelta(hours=2)  # even beyond the backoff's cap
    assert retry_delay(1, None) == timedelta(seconds=5)
    assert retry_delay(3, None) == timedelta(seconds=20)
    assert retry_delay(30, None) == timedelta(minutes=10)  # the backoff's cap


class _RateLimited(WebClient):
    """A WebClient whose every call answers 429 with these headers (it sends nothing)."""

    def __init__(self, headers: dict[str, Any]) -> None:
        super().__init__(token="xoxb-rate-limited")
        self.answer_headers = headers

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        response = SlackResponse(
            client=self,
            http_verb="POST",
            api_url="https://slack.com/api/" + api_method,
            req_args={},
            data={"ok": False, "error": "ratelimited"},
            headers=self.answer_headers,
            status_code=429,
        )
        raise SlackApiError("ratelimited", response)


def _retry_after_for(headers: dict[str, Any]) -> float | None:
    notifier = SlackNotifier(_RateLimited(headers))
    with pytest.raises(DeliveryFailed) as failed:
        notifier.find_prompt("C0BOOKCLUB1", 1, datetime.now(UTC))
    assert failed.value.reason == "ratelimited"
    return failed.value.retry_after


def test_notifier_reads_every_form_of_retry_after_and_never_crashes_on_one() -> None:
    assert _retry_after_for({"Retry-After": "1.5"}) == 1.5
    assert _retry_after_for({"retry-after": ["3"]}) == 3.0  # lists, any case
    assert _retry_after_for({"Retry-After": " 2 "}) == 2.0
    in_30_s = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    from_date = _retry_after_for({"Retry-After": in_30_s})  # an HTTP date
    assert from_date is not None and 28 <= from_date <= 31
    # Nonsense is no number at all: the service falls back to its own backoff.
    nonsense: str | list[str]
    for nonsense in ("soon", "", "-4", "nan", "inf", "1e400", []):
        assert _retry_after_for({"Retry-After": nonsense}) is None, nonsense
    assert _retry_after_for({}) is None


# ---------------------------------------------------------------------- a crash is not a failure


def test_two_crashed_claims_then_one_500_back_off_like_a_first_failure(harness: Harness) -> None:
    """Seen: after two restarts, one 500 delayed a prompt by 20-40 s: the backoff counted
    the claims of the crashed processes as failed attempts."""
    step_id = start_plans(harness)[CLUB]
    services = harness.runtime.services
    lease = services.prompts.policy.lease
    for crashed in ("crashed0001:a", "crashed0002:b"):  # each claims, then dies
        now = harness.clock.now()
        with services.prompts.uow() as uow:
            assert uow.prompts.claim([step_id], crashed, now, now - lease) == [step_id]
            uow.commit()
        harness.clock.advance(lease + timedelta(seconds=1))
    harness.emulator.fail_next(1, status=500, method="chat.postMessage")
    failed_at = harness.clock.now()
    assert services.prompts.run_due().retrying == [step_id]
    row = step_row(harness, step_id)
    assert (row.attempts, row.failures) == (3, 1)
    assert row.next_attempt_at is not None
    assert row.next_attempt_at.replace(tzinfo=UTC) - failed_at == timedelta(seconds=5)

    harness.clock.set(failed_at + timedelta(seconds=4.9))
    assert not services.prompts.run_due().posted
    harness.clock.set(failed_at + timedelta(seconds=5))
    assert services.prompts.run_due().posted == [step_id]
    assert posted_step_ids(harness.emulator) == [step_id]


def test_failures_grow_the_backoff_and_a_later_success_needs_no_more(harness: Harness) -> None:
    step_id = start_plans(harness)[CLUB]
    services = harness.runtime.services
    harness.emulator.fail_next(3, status=503, method="chat.postMessage")
    waits = []
    for _ in range(3):
        failed_at = harness.clock.now()
        assert services.prompts.run_due().retrying == [step_id]
        retry_at = step_row(harness, step_id).next_attempt_at
        assert retry_at is not None
        waits.append((retry_at.replace(tzinfo=UTC) - failed_at).total_seconds())
        harness.clock.set(retry_at.replace(tzinfo=UTC))
    assert waits == [5, 10, 20]
    assert services.prompts.run_due().posted == [step_id]
    assert step_row(harness, step_id).failures == 3


# ---------------------------------------------------------------------- dead claims


class _Killed(BaseException):
    """SIGKILL, as far as the process's own code can tell: nothing after it runs."""


class _Dying:
    """The notifier and unit of work of a process that dies right after its first post
    landed in Slack: every later call raises."""

    def __init__(self, notifier: Notifier, uow: UnitOfWork) -> None:
        self.notifier = notifier
        self.real_uow = uow
        self.dead = False

    def post_prompt(self, channel_id: str, content: PromptContent) -> str:
        if self.dead:
            raise _Killed
        self.notifier.post_prompt(channel_id, content)
        self.dead = True
        raise _Killed

    def uow(self) -> Unit:
        if self.dead:
            raise _Killed
        return self.real_uow()

    def __getattr__(self, name: str) -> Any:
        if self.dead:
            raise _Killed
        return getattr(self.notifier, name)


@pytest.fixture
def other_engine(harness: Harness) -> Iterator[Engine]:
    """A second "process"'s own connections to the same database."""
    engine = make_engine(harness.runtime.settings.database_url)
    yield engine
    engine.dispose()


def test_restart_takes_over_a_dead_process_claims_without_waiting_for_the_lease(
    harness: Harness, other_engine: Engine
) -> None:
    """A process claims two steps, posts one (Slack took it) and dies before marking it or
    posting the other. The next process takes the untouched claim over at once, and the
    one whose post may have been in flight once that post must have landed (long before
    the lease): it finds that prompt in the channel instead of posting it again."""
    first = start_plans(harness, (CLUB, OTHER))
    services = harness.runtime.services
    policy = PromptPolicy(lease=timedelta(minutes=5), flight=timedelta(seconds=60), workers=1)
    dying = _Dying(
        services.prompts.notifier,
        SqlAlchemyUnitOfWork(sessionmaker(other_engine, expire_on_commit=False)),
    )
    crashed = PromptService(dying.uow, harness.clock, dying, policy)
    with pytest.raises(_Killed):
        crashed.run_due()
    other_engine.dispose()  # the process is gone, and its connections with it
    assert posted_step_ids(harness.emulator) == [first[CLUB]]

    harness.clock.advance(timedelta(seconds=2))
    restarted = PromptService(
        services.prompts.uow, harness.clock, services.prompts.notifier, policy
    )
    report = restarted.run_due()
    assert report.posted == [first[OTHER]], "the untouched claim waited for the lease"
    assert not report.recovered  # the post that was in flight may not have landed yet

    harness.clock.advance(policy.flight)
    report = restarted.run_due()
    assert report.recovered == [first[CLUB]]
    assert Counter(posted_step_ids(harness.emulator)) == {first[CLUB]: 1, first[OTHER]: 1}
    assert step_row(harness, first[CLUB]).state == StepState.POSTED.value
    assert step_row(harness, first[OTHER]).state == StepState.POSTED.value


class _OtherProcessTicksMidPost:
    """A notifier whose first post is held while another process ticks, a flight later."""

    def __init__(self, inner: Notifier, harness: Harness, other: PromptService) -> None:
        self.inner = inner
        self.harness = harness
        self.other = other
        self.reports: list[TickReport] = []

    def post_prompt(self, channel_id: str, content: PromptContent) -> str:
        if not self.reports:
            self.harness.clock.advance(self.other.policy.flight + timedelta(seconds=1))
            self.reports.append(self.other.run_due())
        return self.inner.post_prompt(channel_id, content)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_live_process_claims_are_left_to_it_until_the_lease(
    harness: Harness, other_engine: Engine
) -> None:
    """The other side of the takeover: a process that is alive keeps its claims (queued
    and in flight) however long its posts take, up to the lease."""
    first = start_plans(harness, (CLUB, OTHER))
    services = harness.runtime.services
    policy = PromptPolicy(lease=timedelta(minutes=5), flight=timedelta(seconds=60), workers=1)
    other = PromptService(services.prompts.uow, harness.clock, services.prompts.notifier, policy)
    slow = _OtherProcessTicksMidPost(services.prompts.notifier, harness, other)
    mine = PromptService(
        SqlAlchemyUnitOfWork(sessionmaker(other_engine, expire_on_commit=False)),
        harness.clock,
        slow,
        policy,
    )
    report = mine.run_due()
    (theirs,) = slow.reports
    assert not (theirs.posted or theirs.recovered or theirs.missed or theirs.retrying)
    assert sorted(report.posted) == sorted(first.values())
    assert Counter(posted_step_ids(harness.emulator)) == {first[CLUB]: 1, first[OTHER]: 1}


def test_who_counts_as_gone_on_each_backend(harness: Harness, other_engine: Engine) -> None:
    """PostgreSQL: a worker whose lock is free (its session ended: killed, or the
    connection lost) is gone, until it announces itself again. SQLite (one posting
    process): another worker whose claim is older than the asking process's start."""
    first = start_plans(harness)
    step_id = first[CLUB]
    uow = harness.runtime.services.prompts.uow
    lease = timedelta(minutes=5)
    claimed_at = harness.clock.now()
    alive, asking = "aaaaaaaa0001", "bbbbbbbb0002"
    with uow() as unit:
        unit.prompts.announce(alive)
        assert unit.prompts.claim([step_id], f"{alive}:1", claimed_at, claimed_at - lease)
        unit.commit()
    later = claimed_at + timedelta(seconds=1)

    def takeable(worker: str = asking, started: datetime = later) -> bool:
        with uow() as unit:
            due = unit.prompts.candidates(
                later, later - lease, 10, worker_id=worker, started=started
            )
            return step_id in {d.step_id for d in due}

    if harness.runtime.engine.dialect.name != "postgresql":
        assert takeable()  # claimed before the asking process started
        assert not takeable(started=claimed_at - timedelta(seconds=1))  # after: alive
        assert not takeable(worker=alive)  # its own claims are never gone
        return
    assert not takeable()  # its lock is held
    key = worker_lock_key(alive)
    assert key is not None
    lock = {"cls": WORKER_LOCK_CLASS, "key": key - (1 << 32) if key >= 1 << 31 else key}

    def until_its_session_has_ended() -> None:
        """A session's locks are freed when its backend exits, a moment after it was told
        to: wait on the server for the lock itself (take it, blocking, then give it back)."""
        with other_engine.connect() as admin, admin.begin():
            admin.execute(text("SET LOCAL statement_timeout = '20s'"))
            admin.execute(text("SELECT pg_advisory_lock(:cls, :key)"), lock)
            admin.execute(text("SELECT pg_advisory_unlock(:cls, :key)"), lock)

    with other_engine.connect() as admin:  # the server ends that lock's session
        ended = admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND objsubid = 2 AND classid::bigint = :cls AND objid::bigint = :key"
                " AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
            ),
            {"cls": WORKER_LOCK_CLASS, "key": key},
        ).scalars()
        assert list(ended) == [True]
    until_its_session_has_ended()
    assert takeable()  # gone, as far as anyone can tell
    with uow() as unit:
        unit.prompts.announce(alive)  # the same process, on a new connection
    assert not takeable()
    harness.runtime.engine.dispose()  # the process ends: its lock goes with its engine
    until_its_session_has_ended()
    assert takeable()
