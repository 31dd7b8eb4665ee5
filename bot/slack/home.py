"""The App Home tab: each of the user's groups, the next prompt in their own time zone,
their recent reflections and progress."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain.model import PlanState, Progress, Role
from bot.domain.text import plural
from bot.services.home import Home, HomePair
from bot.slack.blocks import (
    context,
    divider,
    header,
    plan_summary_line,
    reflection_label,
    section,
)
from bot.slack.blocks.pace import thread_lines
from bot.slack.blocks.pairs import feedback_count, read_receipt
from bot.slack.text import channel_link, escape, local_time, mention, quote

MAX_HOME_BLOCKS = 100


@dataclass(frozen=True, slots=True)
class HomeTab:
    """App Home for one member: what they read now, what they read before, their words."""

    home: Home

    def build(self) -> View:
        home = self.home
        blocks: list[Block] = [header("📚 Readalong")]
        if not home.reading and not home.finished and not home.pairs:
            blocks.append(
                section(
                    "You are not in a reading group yet. In a channel, `/book add` a book and "
                    "`/book start` it; then everyone there reads along."
                )
            )
        for group in home.reading[:15]:
            plan = group.view.plan
            following = plan.next_step
            if plan.state is PlanState.PAUSED:
                when = "Paused."
            elif group.pace_days and group.next_due is not None:
                when = (
                    f"At your own pace ({plural(group.pace_days, 'day')} behind the group): "
                    f"your next step is due {local_time(group.next_due, home.timezone)}."
                )
            elif following is None:
                when = "No prompts left: reflect whenever you finish."
            else:
                when = (
                    f"Next prompt: {following.describe_chapters()}, "
                    f"{local_time(following.due_at, home.timezone)}"
                )
            blocks += [
                divider(),
                section(
                    f"{channel_link(group.view.group.channel_id)} · "
                    f"{plan_summary_line(group.view)}\n{when}"
                ),
                context(_progress_line(group.progress)),
            ]
            if group.threads is not None:
                blocks += thread_lines(group.threads.open_steps, group.threads.locked, plan.id or 0)
        if home.finished:
            blocks += [divider(), section("*Finished*")]
            for group in home.finished[:10]:
                view = group.view
                ended = view.plan.finished_at
                blocks.append(
                    section(
                        f"{channel_link(view.group.channel_id)} · *{escape(view.book.title)}* by "
                        f"{escape(view.book.author)} · finished"
                        + (f" {local_time(ended, home.timezone)}" if ended else "")
                        + f"\n{_progress_line(group.progress)}. Late reflections are welcome: "
                        "`/reflect` in the channel."
                    )
                )
        for pair in home.pairs[:5]:
            blocks += [divider(), *_pair_blocks(pair, home)]
        if home.reflections:
            blocks += [divider(), section("*Your latest reflections*")]
            room = MAX_HOME_BLOCKS - len(blocks) - 1
            for reflection in list(home.reflections)[-min(10, room) :][::-1]:
                blocks.append(
                    section(
                        f"*{escape(reflection_label(reflection, home.titles.get(reflection.plan_id)))}*"
                        f"\n{quote(reflection.text, 300)}"
                    )
                )
        blocks.append(context(f"Times shown in your time zone ({escape(home.timezone)})."))
        return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])


def _pair_blocks(entry: HomePair, home: Home) -> list[Block]:
    """A pair: who, open action items, and the reflections written for the mentor with
    their replies (the mentee sees whether the mentor has read them)."""
    pair, mentee = entry.pair, entry.role is Role.MENTEE
    partner = pair.partner_of(pair.mentee_id if mentee else pair.mentor_id)
    head = (
        f"*Mentoring* · you and your mentor {mention(partner)}"
        if mentee
        else f"*Mentoring* · you mentor {mention(partner)}"
    )
    where = f" · {channel_link(pair.channel_id)}" if pair.channel_id else ""
    blocks: list[Block] = [section(head + where)]
    if entry.open_actions:
        items = "\n".join(f"{n}. {escape(i.text)}" for n, i in entry.open_actions[:5])
        blocks.append(section(f"*Open action items*\n{items}"))
    for reflection in entry.for_mentor[-4:][::-1]:
        replies = entry.replies.get(reflection.id or 0, [])
        status = (
            read_receipt(reflection)
            if mentee
            else ("read" if reflection.mentor_read_at else "unread")
        )
        last = (
            f"\n_Last reply, {mention(replies[-1].author_id)}:_\n{quote(replies[-1].text, 300)}"
            if replies
            else ""
        )
        title = home.titles.get(reflection.plan_id, "")
        blocks.append(
            section(
                f"*#{reflection.number}{' · ' + escape(title) if title else ''}* · {status} · "
                f"{feedback_count(replies)}\n{quote(reflection.text, 300)}{last}"
            )
        )
    blocks.append(context("Only the two of you can see this."))
    return blocks


def _progress_line(progress: Progress) -> str:
    return (
        f"Your progress: {progress.chapters_reflected}/"
        f"{plural(progress.chapter_count, 'chapter')} ({progress.percent}%) · "
        f"streak {progress.streak}"
    )
