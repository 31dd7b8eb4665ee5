"""Messages about a reading plan: started, status, schedule, history, changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.domain.model import Plan, PlanState, Progress, Step, StepState
from bot.domain.text import plural
from bot.services.plans import PlanChange, PlanView
from bot.slack.blocks.base import (
    HEADER_LIMIT,
    MAX_MESSAGE_BLOCKS,
    Message,
    context,
    header,
    notice,
    section,
    text_sections,
)
from bot.slack.text import escape, local_time, local_time_for, mention, truncate


def step_line(step: Step, timezone: str) -> str:
    marks = {
        StepState.POSTED: ":white_check_mark: posted",
        StepState.SKIPPED: ":fast_forward: skipped",
        StepState.CANCELLED: ":x: cancelled",
        StepState.MISSED: ":hourglass: missed",
        StepState.CLAIMED: ":outbox_tray: posting",
        StepState.PENDING: ":calendar: upcoming",
    }
    return f"*Step {step.number}* · {step.describe_chapters()} · {local_time(step.due_at, timezone)} · {marks[step.state]}"


def plan_summary_line(view: PlanView) -> str:
    plan = view.plan
    state = {
        PlanState.ACTIVE: "reading",
        PlanState.PAUSED: "paused",
        PlanState.FINISHED: "finished",
        PlanState.CANCELLED: "cancelled",
    }
    return (
        f"*{escape(view.book.title)}* by {escape(view.book.author)} · {state[plan.state]} · "
        f"{plan.cadence.describe()} ({plan.timezone}) · {plan.chapters_per_step} chapter"
        f"{'s' if plan.chapters_per_step != 1 else ''} per step"
    )


def plan_started(view: PlanView) -> Message:
    plan = view.plan
    first = plan.steps[0]
    return Message(
        f"Started reading {view.book.title}",
        [
            section(
                f":open_book: {mention(plan.host_user_id)} started a reading plan: {plan_summary_line(view)}"
            ),
            section(
                f"{plural(len(plan.steps), 'step')}. The first prompt ({first.describe_chapters()}) "
                f"arrives {local_time(first.due_at, plan.timezone)}."
            ),
            context("Reflect any time with `/reflect <text>`; `/book plan` shows every step."),
        ],
    )


def plan_status(
    view: PlanView,
    now: datetime,
    progress: Sequence[Progress],
    *,
    viewer_timezone: str | None = None,
) -> Message:
    plan = view.plan
    current = plan.current_step(now)
    following = plan.next_step
    lines = [plan_summary_line(view)]
    posted = sum(1 for s in plan.steps if s.state is StepState.POSTED)
    lines.append(
        f"Step {current.number if current else '—'} of {len(plan.steps)} · "
        f"{plural(posted, 'prompt')} posted"
    )
    if plan.state is PlanState.FINISHED:
        ended = local_time(plan.finished_at, plan.timezone) if plan.finished_at else "—"
        lines.append(
            f":checkered_flag: There is no reading plan running here now: this one finished "
            f"({ended}). Late reflections on it are welcome; `/book history` lists past "
            "plans, `/book start <book>` reads the next one."
        )
    elif plan.state is PlanState.PAUSED:
        lines.append(":double_vertical_bar: Paused. The host can `/book resume`.")
    elif following is not None:
        lines.append(
            f"Next prompt: {following.describe_chapters()} · "
            f"{local_time_for(following.due_at, plan.timezone, viewer_timezone)}"
        )
    else:
        lines.append("No prompts left.")
    blocks: list[Block] = [
        header(truncate(f"📖 {view.book.title}", HEADER_LIMIT)),
        section("\n".join(lines)),
    ]
    if progress:
        rows = [
            f"{mention(p.user_id)} · {p.chapters_reflected}/{plural(p.chapter_count, 'chapter')} · "
            f"streak {p.streak}"
            for p in progress
        ]
        blocks.append(section("*Progress*"))
        blocks.extend(text_sections(rows, max_blocks=MAX_MESSAGE_BLOCKS - len(blocks)))
    return Message(
        f"{view.book.title}: step {current.number if current else '—'} of {len(plan.steps)}", blocks
    )


def plan_schedule(view: PlanView) -> Message:
    plan = view.plan
    lines = [step_line(s, plan.timezone) for s in plan.steps]
    return Message(
        f"Reading plan for {view.book.title}",
        [
            section(plan_summary_line(view)),
            *text_sections(lines, max_blocks=MAX_MESSAGE_BLOCKS - 1),
        ],
    )


def plan_history(views: Sequence[PlanView]) -> Message:
    if not views:
        return notice("This channel has not read any book with Readalong yet.")
    lines = []
    for view in views:
        plan = view.plan
        started = plan.steps[0].due_at if plan.steps else plan.created_at
        posted = sum(1 for s in plan.steps if s.state is StepState.POSTED)
        lines.append(
            f"{plan_summary_line(view)} · from {local_time(started, plan.timezone)} · "
            f"{posted}/{plural(len(plan.steps), 'prompt')} posted"
        )
    return Message("Reading history", [header("Reading history"), *text_sections(lines)])


def plan_changed(action: str, change: PlanChange, actor: str) -> Message:
    view = change.view
    plan: Plan = view.plan
    title = escape(view.book.title)
    if action == "pause":
        text = f":double_vertical_bar: {mention(actor)} paused *{title}*. No prompts until `/book resume`."
    elif action == "resume":
        following = plan.next_step
        when = f" Next prompt {local_time(following.due_at, plan.timezone)}." if following else ""
        text = f":arrow_forward: {mention(actor)} resumed *{title}*.{when}"
    elif action == "skip":
        skipped = change.steps[0]
        text = f":fast_forward: {mention(actor)} skipped step {skipped.number} ({skipped.describe_chapters()}) of *{title}*."
    elif action == "cancel":
        text = (
            f":no_entry_sign: {mention(actor)} cancelled the plan for *{title}*. "
            "Nothing more will be posted for it."
        )
    else:
        text = f":checkered_flag: {mention(actor)} finished *{title}*. Thanks for reading together!"
    return Message(f"{view.book.title}: {action}", [section(text)])


def questions_saved(count: int, chapter: int) -> Message:
    return notice(f"Saved {plural(count, 'question')} for chapter {chapter}.")
