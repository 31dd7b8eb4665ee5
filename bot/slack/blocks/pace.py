"""Messages about a member's own pace: where they are, away, behind, quiet hours, the
late joiner's welcome, their calendar link, and the group's spread (counts only)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block, ButtonElement

from bot.domain.notes import CalendarLink, Welcome
from bot.domain.pace import Standing
from bot.domain.text import plural
from bot.services.readers import GroupStatus, Position
from bot.slack.blocks.base import (
    HEADER_LIMIT,
    MAX_MESSAGE_BLOCKS,
    Message,
    actions,
    button,
    context,
    header,
    notice,
    section,
    text_sections,
)
from bot.slack.text import channel_link, escape, local_time, truncate

READ_STEP_ACTION = "pace_read_step"  # value: step id ("I've read these" on a prompt)
AWAY_ACTION = "pace_away"  # on a nudge: opens the away form
REVEAL_ACTION = "pace_reveal"  # App Home: "<plan id>:<step number>", show a thread anyway


def standing_words(standing: Standing) -> str:
    return {
        Standing.AHEAD: "ahead of the group",
        Standing.ON_SCHEDULE: "on schedule",
        Standing.BEHIND: "behind the group (that's fine: read at your own pace)",
    }[standing]


def position_message(position: Position, timezone: str) -> Message:
    """`/reflect progress`: where the member is, only to them."""
    view, own = position.view, position.progress
    where = (
        f"you have read to chapter {position.read_to} of {view.book.chapter_count}: "
        f"{standing_words(position.standing)}."
        if position.read_to
        else "you haven't said where you are yet: `/reflect progress ch <n>`, or “I've read "
        "these” on a prompt."
    )
    lines = [
        f"*{escape(view.book.title)}*: {where}",
        f"{own.chapters_reflected} of {plural(own.chapter_count, 'chapter')} reflected on "
        f"({own.percent}%) · {own.steps_reflected} of {plural(own.steps_posted, 'prompt')} "
        f"answered · streak {own.streak}",
    ]
    if position.reader.pace_days:
        lines.append(
            f"You read {plural(position.reader.pace_days, 'day')} behind the group"
            + (
                f"; your next step is due {local_time(position.next_due, timezone)}."
                if position.next_due
                else "."
            )
        )
    if position.away_until:
        lines.append(
            f"You are away until {local_time(position.away_until, timezone)}: no nudges, "
            "streak frozen."
        )
    return Message(
        "Your progress",
        [
            section("\n".join(lines)),
            context(
                "Only you can see this. `/reflect progress ch <n>` says where you are; "
                "`/reflect behind 1 week` reads at your own pace."
            ),
        ],
    )


def away_set(back: datetime, timezone: str) -> Message:
    return notice(
        f"You're away until {local_time(back, timezone)}: no nudges until then, and your "
        "streaks are frozen, not broken. The group sees nothing of it. `/reflect back` "
        "ends it early."
    )


def back_again(was_away: bool) -> Message:
    if was_away:
        return notice("Welcome back: nudges are on again.")
    return notice("You weren't away. `/reflect away until YYYY-MM-DD` pauses nudges.")


def pace_set(position: Position, timezone: str) -> Message:
    days = position.reader.pace_days
    if not days:
        return notice(
            "You're back at the group's pace: your nudges and App Home follow its prompts."
        )
    due = (
        f" Your next step is due {local_time(position.next_due, timezone)}."
        if position.next_due
        else ""
    )
    return notice(
        f"You read {plural(days, 'day')} behind the group now: your nudges, App Home and "
        f"calendar follow your pace; the group's prompts do not move.{due} `/reflect catch "
        "up` returns to the group's pace."
    )


def quiet_hours_set(on: bool) -> Message:
    return notice(
        "No nudges between 21:00 and 08:00 in your own time zone."
        if on
        else "Nudges may come at any hour now. `/reflect quiet hours on` brings quiet hours back."
    )


def read_noted(position: Position) -> Message:
    return notice(
        f"Noted: you've read to chapter {position.read_to} of {position.view.book.title}, "
        f"{standing_words(position.standing)}."
    )


def group_status(status: GroupStatus, now: datetime) -> Message:
    """`/book status`: the plan, the group's spread as counts, those on schedule or
    ahead by name (never who is behind), and the caller's own standing."""
    from bot.slack.blocks.plans import plan_status

    message = plan_status(status.view, now, status.shown, viewer_timezone=status.viewer_timezone)
    counts = status.spread
    unsaid = plural(status.unsaid, "hasn't", "haven't")
    spread = (
        f"*The group*: {counts[Standing.ON_SCHEDULE]} on schedule, "
        f"{counts[Standing.AHEAD]} ahead, {counts[Standing.BEHIND]} behind"
        + (f" · {unsaid} said where they are yet" if status.unsaid else "")
    )
    extra: list[Block] = [section(spread)]
    if status.mine is not None:
        extra.append(
            context(
                f"You: {standing_words(status.mine.standing)}."
                if status.mine.read_to or status.mine.reader.pace_days
                else "You haven't said where you are yet: `/reflect progress ch <n>`."
            )
        )
    blocks = message.blocks[:2] + extra + message.blocks[2:]
    return Message(message.text, blocks[:MAX_MESSAGE_BLOCKS])


def welcome(note: Welcome) -> Message:
    following = (
        f" The next prompt comes {local_time(note.next_due, note.timezone)}."
        if note.next_due
        else ""
    )
    return Message(
        f"Welcome to {note.book_title}",
        [
            header(truncate(f"👋 Welcome to {note.book_title}", HEADER_LIMIT)),
            section(
                f"{channel_link(note.channel_id)} is reading *{escape(note.book_title)}* by "
                f"{escape(note.book_author)}: step {note.group_step} of {note.step_count} "
                f"({note.group_chapters}).{following}"
            ),
            section(
                "*Catch up at your own pace*\n"
                "• `/reflect progress ch <n>` tells me where you are.\n"
                "• `/reflect behind 2 weeks` sets your own pace: your nudges follow it, the "
                "group's prompts don't move. `/reflect catch up` rejoins the group's pace.\n"
                "• Your App Home shows the discussions of the chapters you've read, and keeps "
                "later ones closed so nothing is spoiled."
            ),
            context("Only you can see this."),
        ],
    )


def calendar_link(note: CalendarLink) -> Message:
    whose = "the group's steps" if note.whole_group else "your steps, at your own pace"
    replaced = " The link I sent before no longer works." if note.replaced else ""
    return Message(
        f"Your calendar for {note.book_title}",
        [
            section(
                f":calendar: Your private calendar of *{escape(note.book_title)}*: {whose}. "
                f"Subscribe to it in your calendar app:\n<{note.url}|{escape(note.url)}>"
            ),
            context(
                "Keep this link to yourself: anyone with it can read the schedule. "
                f"`/book calendar reset` makes a new one and stops this one.{replaced}"
            ),
        ],
    )


def calendar_sent() -> Message:
    return notice("I've sent you the calendar link privately, in a DM.")


def thread_lines(
    open_steps: list[tuple[int, str, str | None]], locked: list[tuple[int, str]], plan_id: int
) -> list[Block]:
    """App Home: the threads of the steps the member has read, with links; later ones
    shown as locked, with "Show anyway"."""
    lines = [
        f"• Step {n} ({escape(chapters)})" + (f" · <{link}|discussion>" if link else "")
        for n, chapters, link in open_steps
    ]
    blocks: list[Block] = []
    if lines:
        blocks += text_sections(["*Discussions open to you*", *lines], max_blocks=3)
    for number, chapters in locked[:3]:
        blocks.append(
            section(f"🔒 Step {number} ({escape(chapters)}): not read yet, so no spoilers.")
        )
        blocks.append(actions(button("Show anyway", REVEAL_ACTION, f"{plan_id}:{number}")))
    if len(locked) > 3:
        blocks.append(context(f"…and {plural(len(locked) - 3, 'more step')} locked."))
    return blocks


def read_button(step_id: int | None) -> ButtonElement:
    return button("I've read these", READ_STEP_ACTION, str(step_id or ""))


def away_button() -> ButtonElement:
    return button("I'm away…", AWAY_ACTION, "away")
