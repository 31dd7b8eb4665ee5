"""Scheduled prompts against the emulator: on time across DST, exactly once, retried, caught up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, cast
from zoneinfo import ZoneInfo

from bot.domain.model import Cadence, Caller, StepState, Visibility
from bot.domain.prompts import PromptContent
from bot.services.ports import Notifier
from bot.services.prompts import PromptService, TickReport
from tests.harness import ALICE, BOB, CAROL, CLUB, Harness, block_text

TEAM = "T0EMULATOR1"
BERLIN = ZoneInfo("Europe/Berlin")


def start_plan(
    harness: Harness, *, chapters: int = 6, start: date = date(2026, 12, 7), per_step: int = 1
) -> int:
    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", str(chapters))
    view = services.plans.start(
        Caller(TEAM, ALICE),
        CLUB,
        "Dune",
        Cadence.weekly(0, time(9)),
        per_step,
        start,
        "Europe/Berlin",
    )
    assert view.plan.id is not None
    return view.plan.id


def prompts_in(harness: Harness, channel: str = CLUB) -> list[dict[str, Any]]:
    return [
        c.params
        for c in harness.emulator.calls_to("chat.postMessage")
        if c.status == 200
        and c.response.get("ok")
        and c.params.get("channel") == channel
        and (c.params.get("metadata") or {}).get("event_type") == "readalong_prompt"
    ]


def run(harness: Harness) -> TickReport:
    return harness.runtime.services.prompts.run_due()


def steps(harness: Harness, plan_id: int) -> dict[int, StepState]:
    with harness.runtime.services.plans.uow() as uow:
        plan = uow.plans.get(plan_id)
        assert plan is not None
        return {s.number: s.state for s in plan.steps}


def test_six_steps_across_dst_post_at_local_nine(harness: Harness) -> None:
    plan_id = start_plan(
        harness, start=date(2027, 3, 8)
    )  # Mondays 8 Mar … 12 Apr; DST starts 28 Mar
    with harness.runtime.services.plans.uow() as uow:
        plan = uow.plans.get(plan_id)
        assert plan is not None
        dues = [s.due_at for s in plan.steps]
    posted_at: list[datetime] = []
    for due in dues:
        harness.clock.set(due - timedelta(seconds=1))
        run(harness)
        assert len(prompts_in(harness)) == len(posted_at), "posted before it was due"
        harness.clock.set(due)
        run(harness)
        posted_at.append(harness.clock.now())
        assert len(prompts_in(harness)) == len(posted_at)
    assert [p.astimezone(BERLIN).time() for p in posted_at] == [time(9)] * 6
    assert {p.astimezone(BERLIN).utcoffset() for p in posted_at} == {
        timedelta(hours=1),
        timedelta(hours=2),
    }
    run(harness)
    assert len(prompts_in(harness)) == 6
    texts = [block_text(p["blocks"]) for p in prompts_in(harness)]
    assert all("To talk about" in t and "Reflect" in t for t in texts)
    assert "step 1 of 6" in texts[0] and "step 6 of 6" in texts[5]
    assert all(state is StepState.POSTED for state in steps(harness, plan_id).values())


def test_consecutive_prompts_do_not_repeat_questions_and_host_questions_win(
    harness: Harness,
) -> None:
    plan_id = start_plan(harness)
    harness.runtime.services.plans.set_questions(
        Caller(TEAM, ALICE), CLUB, 3, ["Why the spice?", "Who is Kynes?"]
    )
    for week in range(3):
        harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC) + timedelta(weeks=week))
        run(harness)
    first, second, third = (block_text(p["blocks"]) for p in prompts_in(harness))
    q1 = {line for line in first.splitlines() if line[:2] in ("1.", "2.", "3.")}
    q2 = {line.split(". ", 1)[1] for line in second.splitlines() if line[:2] in ("1.", "2.", "3.")}
    assert q1 and q2 and not ({q.split(". ", 1)[1] for q in q1} & q2)
    assert "Why the spice?" in third and "Who is Kynes?" in third
    assert steps(harness, plan_id)[3] is StepState.POSTED


def test_pause_resume_skip_finish_move_or_cancel_prompts(harness: Harness) -> None:
    plan_id = start_plan(harness)
    plans = harness.runtime.services.plans
    plans.pause(Caller(TEAM, ALICE), CLUB)
    harness.clock.set(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    run(harness)
    assert prompts_in(harness) == []
    harness.clock.set(datetime(2026, 12, 9, 12, tzinfo=UTC))
    plans.resume(Caller(TEAM, ALICE), CLUB)  # step 1 moves to Monday 14 Dec
    run(harness)
    assert prompts_in(harness) == []
    plans.skip(Caller(TEAM, ALICE), CLUB)  # step 1 skipped; step 2 stays on 21 Dec
    harness.clock.set(datetime(2026, 12, 14, 8, tzinfo=UTC))
    run(harness)
    assert prompts_in(harness) == []
    harness.clock.set(datetime(2026, 12, 21, 8, tzinfo=UTC))
    run(harness)
    assert len(prompts_in(harness)) == 1 and "chapter 2" in block_text(
        prompts_in(harness)[0]["blocks"]
    )
    plans.finish(Caller(TEAM, ALICE), CLUB)
    harness.clock.set(datetime(2027, 6, 1, tzinfo=UTC))
    run(harness)
    assert len(prompts_in(harness)) == 1
    assert steps(harness, plan_id) == {
        1: StepState.SKIPPED,
        2: StepState.POSTED,
        **{n: StepState.CANCELLED for n in range(3, 7)},
    }


def test_reminders_only_privately_to_those_who_have_not_reflected_or_muted(
    harness: Harness,
) -> None:
    start_plan(harness)
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    run(harness)
    harness.runtime.services.reflections.write(TEAM, CLUB, ALICE, "done already")
    harness.runtime.services.reflections.set_member_flags(TEAM, CAROL, muted=True)
    harness.runtime.services.readers.set_quiet_hours(TEAM, BOB, False)  # 04:00 in New York
    harness.clock.set(datetime(2026, 12, 13, 7, tzinfo=UTC))  # 25 h before the next step
    assert harness.runtime.services.prompts.run_due().reminded == 0
    harness.clock.set(datetime(2026, 12, 13, 9, tzinfo=UTC))  # 23 h before
    assert harness.runtime.services.prompts.run_due().reminded == 1
    assert harness.runtime.services.prompts.run_due().reminded == 0  # once only
    dms = [
        c.params
        for c in harness.emulator.calls_to("chat.postMessage")
        if c.params.get("channel") in (BOB, harness.emulator.dm_channel(BOB))
    ]
    assert len(dms) == 1 and "gentle nudge" in block_text(dms[0]["blocks"])
    channel_texts = " ".join(harness.channel_texts(CLUB))
    assert "nudge" not in channel_texts and f"<@{BOB}>" not in channel_texts
    recipients = {
        c.params.get("channel") for c in harness.emulator.calls_to("chat.postMessage")
    } - {CLUB}
    assert recipients == {BOB}


def test_restart_while_a_post_may_be_in_flight_waits_for_it_then_posts_once(
    harness: Harness,
) -> None:
    """A process claimed step 1 and was about to post it (its claim renewed and marked in
    flight), then died. Nobody takes the claim over while that post may still land; the
    lease takes it back at the latest, whatever is known about the process."""
    plan_id = start_plan(harness)
    services = harness.runtime.services
    policy = services.prompts.policy
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    now = harness.clock.now()
    with services.plans.uow() as uow:  # a process claims step 1, then dies
        due = uow.prompts.candidates(now, now - policy.lease, 10)
        (step_id,) = uow.prompts.claim(
            [d.step_id for d in due], "dead-process:1", now, now - policy.lease
        )
        assert uow.prompts.renew(step_id, "dead-process:1", now, now + policy.flight)
        uow.commit()
    run(harness)
    assert prompts_in(harness) == []  # its post may be in flight
    harness.clock.advance(policy.flight - timedelta(seconds=1))
    run(harness)
    assert prompts_in(harness) == []
    harness.clock.set(now + policy.lease + timedelta(seconds=1))
    report = run(harness)
    assert len(prompts_in(harness)) == 1 and steps(harness, plan_id)[1] is StepState.POSTED
    assert report.posted


def test_crash_after_slack_accepted_is_recovered_not_reposted(harness: Harness) -> None:
    start_plan(harness)
    services = harness.runtime.services
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    now = harness.clock.now()
    with services.plans.uow() as uow:
        due = uow.prompts.candidates(now, now - timedelta(minutes=5), 10)
        uow.prompts.claim([d.step_id for d in due], "dead-process", now, now - timedelta(minutes=5))
        uow.commit()
    plan = services.plans.current(TEAM, CLUB).plan
    book = services.books.find(TEAM, "Dune")
    from bot.domain.prompts import prompt_content

    services.prompts.notifier.post_prompt(
        CLUB, prompt_content(plan, book, plan.step(1))
    )  # Slack took it; then SIGKILL
    harness.clock.advance(timedelta(minutes=6))
    report = run(harness)
    assert len(prompts_in(harness)) == 1
    assert report.recovered == [plan.step(1).id]


def test_429_then_success_honours_retry_after(harness: Harness) -> None:
    plan_id = start_plan(harness)
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    harness.emulator.fail_next(1, status=429, retry_after=30, method="chat.postMessage")
    report = run(harness)
    assert report.retrying and not prompts_in(harness)
    harness.clock.advance(timedelta(seconds=29))
    run(harness)
    assert not prompts_in(harness)
    harness.clock.advance(timedelta(seconds=1))
    run(harness)
    assert len(prompts_in(harness)) == 1 and steps(harness, plan_id)[1] is StepState.POSTED


def test_5xx_storm_then_success_posts_once(harness: Harness) -> None:
    start_plan(harness)
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    harness.emulator.fail_next(6, status=503, method="chat.postMessage")
    for _ in range(12):
        run(harness)
        harness.clock.advance(timedelta(minutes=10))
    assert len(prompts_in(harness)) == 1
    failures = [c for c in harness.emulator.calls_to("chat.postMessage") if c.status >= 500]
    assert len(failures) == 6


def test_missed_by_two_hours_posts_late_once(harness: Harness) -> None:
    plan_id = start_plan(harness)
    harness.clock.set(datetime(2026, 12, 7, 10, tzinfo=UTC))  # due 08:00 UTC
    run(harness)
    run(harness)
    posts = prompts_in(harness)
    assert len(posts) == 1 and "Posted late" in block_text(posts[0]["blocks"])
    assert steps(harness, plan_id)[1] is StepState.POSTED


def test_missed_by_three_days_is_summarised_once(harness: Harness) -> None:
    plan_id = start_plan(harness)
    harness.clock.set(
        datetime(2026, 12, 17, 8, tzinfo=UTC)
    )  # step 1 missed by 10 days, step 2 by 3
    run(harness)
    run(harness)
    assert prompts_in(harness) == []
    catch_ups = [t for t in harness.channel_texts(CLUB) if "missed 2 prompts" in t]
    assert len(catch_ups) == 1 and "Step 1" in catch_ups[0] and "Step 2" in catch_ups[0]
    assert (
        steps(harness, plan_id)[1] is StepState.MISSED
        and steps(harness, plan_id)[3] is StepState.PENDING
    )


def test_two_services_racing_post_each_step_once(harness: Harness) -> None:
    start_plan(harness, chapters=3)
    services = harness.runtime.services
    other = PromptService(
        services.prompts.uow, services.clock, services.prompts.notifier, services.prompts.policy
    )
    harness.clock.set(datetime(2026, 12, 21, 8, 5, tzinfo=UTC))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda s: s.run_due(), [services.prompts, other, services.prompts, other]))
    # Steps 1 and 2 are too old (one catch-up message), step 3 is on time (one prompt).
    assert len(prompts_in(harness)) == 1
    assert sum("missed 2 prompts" in t for t in harness.channel_texts(CLUB)) == 1


class _FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0
        self.posts: list[tuple[str, float]] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_storms_then_every_post_delivered_in_order_per_channel_at_slack_pace(
    harness: Harness,
) -> None:
    from bot.services.prompts import PromptPolicy
    from bot.slack.app import notifier_client
    from bot.slack.notifier import ChannelPacer, SlackNotifier
    from tests.harness import OTHER

    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", "4")
    for channel in (CLUB, OTHER):
        services.plans.start(
            Caller(TEAM, ALICE),
            channel,
            "Dune",
            Cadence.every(1, time(9)),
            1,
            date(2026, 12, 7),
            "UTC",
        )
    fake = _FakeMonotonic()

    class RecordingPacer(ChannelPacer):
        def wait(self, channel_id: str) -> None:
            super().wait(channel_id)
            fake.posts.append((channel_id, fake.now))

    pacer = RecordingPacer(1.0, fake.monotonic, fake.sleep)
    notifier = SlackNotifier(notifier_client(harness.runtime.settings), pacer)
    prompts = PromptService(
        services.prompts.uow, harness.clock, notifier, PromptPolicy(grace=timedelta(days=5))
    )
    harness.clock.set(datetime(2026, 12, 10, 9, 30, tzinfo=UTC))  # steps 1-4 of both plans are due
    harness.emulator.fail_next(3, status=429, retry_after=20, method="chat.postMessage")
    harness.emulator.fail_next(4, status=502, method="chat.postMessage")
    for _ in range(30):
        prompts.run_due()
        harness.clock.advance(timedelta(minutes=2))
    for channel in (CLUB, OTHER):
        posted = [block_text(p["blocks"]) for p in prompts_in(harness, channel)]
        assert [f"step {n} of 4" in text for n, text in enumerate(posted, start=1)] == [True] * 4, (
            posted
        )
        times = [t for c, t in fake.posts if c == channel]
        assert all(b - a >= 1.0 for a, b in pairwise(times)), times


def test_recovery_finds_the_prompt_behind_many_newer_messages(harness: Harness) -> None:
    start_plan(harness)
    services = harness.runtime.services
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    now = harness.clock.now()
    with services.plans.uow() as uow:
        due = uow.prompts.candidates(now, now - timedelta(minutes=5), 10)
        uow.prompts.claim([d.step_id for d in due], "dead-process", now, now - timedelta(minutes=5))
        uow.commit()
    plan = services.plans.current(TEAM, CLUB).plan
    from slack_sdk import WebClient

    from bot.domain.prompts import prompt_content

    services.prompts.notifier.post_prompt(
        CLUB, prompt_content(plan, services.books.find(TEAM, "Dune"), plan.step(1))
    )
    chatter = WebClient(token=harness.emulator.bot_token, base_url=harness.emulator.api_url)
    for i in range(230):  # more than one page of history after the prompt
        chatter.chat_postMessage(channel=CLUB, text=f"chatter {i}")
    harness.clock.advance(timedelta(minutes=6))
    report = run(harness)
    assert len(prompts_in(harness)) == 1
    assert report.recovered == [plan.step(1).id]


def test_shared_reflections_written_before_the_prompt_join_its_thread(harness: Harness) -> None:
    start_plan(harness)
    services = harness.runtime.services
    early = harness.say(BOB, "/reflect", "Read ahead <!here>, loved it")
    assert "once the prompt is posted" in early
    services.reflections.write(TEAM, CLUB, CAROL, "kept to myself", visibility=Visibility.PRIVATE)
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    run(harness)
    thread_ts = services.plans.current(TEAM, CLUB).plan.step(1).message_ts
    assert thread_ts
    replies = [m for m in harness.emulator.thread(CLUB, thread_ts) if m.ts != thread_ts]
    assert len(replies) == 1
    text = block_text(replies[0].blocks)
    assert "Read ahead" in text and "&lt;!here&gt;" in text
    run(harness)
    assert len([m for m in harness.emulator.thread(CLUB, thread_ts) if m.ts != thread_ts]) == 1
    mine = services.reflections.list_own(TEAM, BOB)
    assert mine[0].message_ts == replies[0].ts


def test_a_reflection_shared_while_its_prompt_is_being_posted_joins_the_thread(
    harness: Harness,
) -> None:
    """Issue 14: prompts are marked posted after their post, a batch at a time; a member
    who reflects in between (the step not yet marked) still gets the thread copy."""
    start_plan(harness)
    services = harness.runtime.services
    inner = services.prompts.notifier

    class _MemberReflectsMeanwhile:
        def post_prompt(self, channel_id: str, content: PromptContent) -> str:
            ts = inner.post_prompt(channel_id, content)
            services.reflections.write(TEAM, CLUB, BOB, "Written as the prompt appeared")
            return ts

        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

    prompts = PromptService(
        services.prompts.uow,
        harness.clock,
        cast(Notifier, _MemberReflectsMeanwhile()),
        services.prompts.policy,
    )
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    assert len(prompts.run_due().posted) == 1
    thread_ts = services.plans.current(TEAM, CLUB).plan.step(1).message_ts
    assert thread_ts
    replies = [m for m in harness.emulator.thread(CLUB, thread_ts) if m.ts != thread_ts]
    assert ["Written as the prompt appeared" in block_text(m.blocks) for m in replies] == [True]


def test_daily_plan_nudge_comes_half_a_day_after_the_prompt_not_with_it(
    harness: Harness,
) -> None:
    """Issue 10 #11: a daily plan's nudge arrived at the same moment as its prompt."""
    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", "4")
    first_day = harness.clock.now().date() + timedelta(days=1)
    view = services.plans.start(
        Caller(TEAM, ALICE), CLUB, "Dune", Cadence.every(1, time(9)), 1, first_day, "Europe/Berlin"
    )
    due = view.plan.steps[0].due_at
    for member in (ALICE, BOB, CAROL):  # 21:00 in Berlin: quiet hours would wait for 08:00
        services.readers.set_quiet_hours(TEAM, member, False)
    harness.clock.set(due)
    report = services.prompts.run_due()
    assert len(report.posted) == 1 and report.reminded == 0, "nudged with the prompt"
    harness.clock.set(due + timedelta(hours=11, minutes=59))
    assert services.prompts.run_due().reminded == 0
    harness.clock.set(due + timedelta(hours=12))
    assert services.prompts.run_due().reminded == 3  # nobody has reflected yet
