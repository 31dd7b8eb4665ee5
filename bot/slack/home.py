"""The App Home tab: each of the user's groups, the next prompt in their own time zone,
their recent reflections and progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain.model import PlanState, Progress, Reflection
from bot.services.plans import PlanView
from bot.slack.blocks import (
    context,
    divider,
    header,
    plan_summary_line,
    reflection_label,
    section,
)
from bot.slack.text import channel_link, escape, local_time, quote

MAX_HOME_BLOCKS = 100


@dataclass(frozen=True, slots=True)
class HomeGroup:
    view: PlanView
    progress: Progress


@dataclass(frozen=True, slots=True)
class HomeTab:
    user_timezone: str
    now: datetime
    groups: Sequence[HomeGroup]
    reflections: Sequence[Reflection]

    def build(self) -> View:
        blocks: list[Block] = [header("📚 Readalong")]
        if not self.groups:
            blocks.append(
                section(
                    "You are not in a reading group yet. In a channel, `/book add` a book and "
                    "`/book start` it; then everyone there reads along."
                )
            )
        for group in self.groups[:20]:
            plan = group.view.plan
            following = plan.next_step
            if plan.state is PlanState.PAUSED:
                when = "Paused."
            elif following is None:
                when = "No prompts left."
            else:
                when = f"Next prompt: {following.describe_chapters()}, {local_time(following.due_at, self.user_timezone)}"
            p = group.progress
            blocks += [
                divider(),
                section(
                    f"{channel_link(group.view.group.channel_id)} · {plan_summary_line(group.view)}\n{when}"
                ),
                context(
                    f"Your progress: {p.chapters_reflected}/{p.chapter_count} chapters ({p.percent}%) · "
                    f"streak {p.streak}"
                ),
            ]
        if self.reflections:
            blocks += [divider(), section("*Your latest reflections*")]
            room = MAX_HOME_BLOCKS - len(blocks) - 1
            for reflection in list(self.reflections)[-min(10, room) :][::-1]:
                blocks.append(
                    section(
                        f"*{escape(reflection_label(reflection))}*\n{quote(reflection.text, 300)}"
                    )
                )
        blocks.append(context(f"Times shown in your time zone ({escape(self.user_timezone)})."))
        return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])
