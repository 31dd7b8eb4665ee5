"""Issue 10 #21: a plan's prompts reach the channel in chapter order, whatever fails.

Order is a database fact: a step can be claimed only when every earlier step of its
plan is closed (posted, skipped, missed or cancelled), or is claimed in the same
statement (one process posts them one after another). It holds across processes.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta

import pytest

from bot.config import Settings
from bot.domain.model import Cadence, Caller, StepState
from bot.services.ports import DueStep
from tests.harness import ALICE, CLUB, Harness

TEAM = "T0EMULATOR1"
LEASE = timedelta(minutes=5)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A host who lets late prompts go out up to three days late (not listed as missed)."""
    return dataclasses.replace(settings, misfire_grace_hours=72.0)


def start_daily_plan(harness: Harness, chapters: int = 8, per_step: int = 2) -> int:
    """Every day at 09:00 UTC from tomorrow (by the clock), ``per_step`` chapters a step."""
    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", str(chapters))
    tomorrow = harness.clock.now().date() + timedelta(days=1)
    view = services.plans.start(
        Caller(TEAM, ALICE), CLUB, "Dune", Cadence.every(1, time(9)), per_step, tomorrow, "UTC"
    )
    assert view.plan.id is not None
    return view.plan.id


def due_times(harness: Harness, plan_id: int) -> dict[int, datetime]:
    with harness.runtime.services.plans.uow() as uow:
        plan = uow.plans.get(plan_id)
        assert plan is not None
        return {s.number: s.due_at for s in plan.steps}


def states(harness: Harness, plan_id: int) -> dict[int, StepState]:
    with harness.runtime.services.plans.uow() as uow:
        plan = uow.plans.get(plan_id)
        assert plan is not None
        return {s.number: s.state for s in plan.steps}


def prompted_steps(harness: Harness) -> list[int]:
    """The step number of every prompt Slack accepted in the club, in the order it did."""
    return [
        int(c.params["metadata"]["event_payload"]["step"])
        for c in harness.emulator.calls_to("chat.postMessage")
        if c.status == 200
        and c.response.get("ok")
        and c.params.get("channel") == CLUB
        and (c.params.get("metadata") or {}).get("event_type") == "readalong_prompt"
    ]


def test_failed_step_retried_after_pause_and_resume_still_posts_in_chapter_order(
    harness: Harness,
) -> None:
    """As seen in the field: step 2's post failed (500) and waited for its retry; step 3
    fell due meanwhile; the host paused, and resumed two days later. Every prompt must
    still reach the channel in chapter order, each once."""
    plan_id = start_daily_plan(harness)  # steps 1-4: chapters 1-2, 3-4, 5-6, 7-8
    due = due_times(harness, plan_id)
    services = harness.runtime.services
    caller = Caller(TEAM, ALICE)

    harness.clock.set(due[1])
    assert services.prompts.run_due().posted  # chapters 1-2

    # The bot was down for a day; it comes back seconds before step 3 falls due, and
    # Slack answers step 2's (late) post with a 500: it goes back to pending, to retry.
    harness.clock.set(due[3] - timedelta(seconds=2))
    harness.emulator.fail_next(1, status=500, method="chat.postMessage")
    first = services.prompts.run_due()
    assert first.retrying and not first.posted
    assert states(harness, plan_id)[2] is StepState.PENDING

    harness.clock.set(due[3])  # step 3 falls due while step 2 waits for its retry
    services.prompts.run_due()
    harness.clock.advance(timedelta(seconds=1))
    services.plans.pause(caller, CLUB)
    harness.clock.advance(timedelta(days=2))
    services.plans.resume(caller, CLUB)

    for _ in range(24 * 8):  # the scheduler ticks on through the next eight days
        harness.clock.advance(timedelta(hours=1))
        services.prompts.run_due()

    assert prompted_steps(harness) == [1, 2, 3, 4]
    assert set(states(harness, plan_id).values()) == {StepState.POSTED}


def test_a_step_is_claimable_only_once_every_earlier_step_of_its_plan_is_closed(
    harness: Harness,
) -> None:
    """The rule is in the claim itself, so a second process obeys it too: while another
    process holds step 1 (or step 1 waits for a retry), step 2 cannot be claimed, even
    on its own; claimed together with step 1 (one process, posting them in order) it can."""
    plan_id = start_daily_plan(harness, chapters=3, per_step=1)
    due = due_times(harness, plan_id)
    queue_uow = harness.runtime.services.prompts.uow
    now = due[2]  # steps 1 and 2 are due
    stale_before = now - LEASE

    def candidates() -> list[DueStep]:
        with queue_uow() as uow:
            return uow.prompts.candidates(now, stale_before, 10)

    def claim(ids: list[int], token: str) -> list[int]:
        with queue_uow() as uow:
            won = uow.prompts.claim(ids, token, now, stale_before)
            uow.commit()
            return won

    listed = candidates()
    assert [c.number for c in listed] == [1, 2]
    step1, step2 = (c.step_id for c in listed)

    assert claim([step2], "process-b:1") == []  # step 1 is still open
    assert claim([step1], "process-a:1") == [step1]  # process A posts step 1...
    assert [c.number for c in candidates()] == []  # ...so nobody may take step 2
    assert claim([step2], "process-b:2") == []

    with queue_uow() as uow:  # Slack failed: step 1 waits for its retry
        uow.prompts.release(step1, "process-a:1", now + timedelta(minutes=1))
        uow.commit()
    assert candidates() == []
    assert claim([step2], "process-b:3") == []

    with queue_uow() as uow:  # the retry time has come: both may go, together, in order
        later = now + timedelta(minutes=1)
        both = uow.prompts.claim([step1, step2], "process-b:4", later, later - LEASE)
        uow.commit()
    assert both == [step1, step2]


def test_one_process_claiming_two_due_steps_posts_them_in_order_and_waits_after_a_failure(
    harness: Harness,
) -> None:
    """Two steps due at once (the bot was down): posted in order; when the first fails,
    the second is not posted before it, however the retries fall."""
    plan_id = start_daily_plan(harness, chapters=3, per_step=1)
    due = due_times(harness, plan_id)
    services = harness.runtime.services
    harness.clock.set(due[2] + timedelta(minutes=1))
    harness.emulator.fail_next(2, status=503, method="chat.postMessage")
    for _ in range(60):
        services.prompts.run_due()
        harness.clock.advance(timedelta(seconds=5))
    assert prompted_steps(harness) == [1, 2]
    harness.clock.set(due[3])
    services.prompts.run_due()
    assert prompted_steps(harness) == [1, 2, 3]
    assert states(harness, plan_id) == {n: StepState.POSTED for n in (1, 2, 3)}
