"""Block Kit builders, one per kind of message, built with ``slack_sdk.models``.

Every builder escapes user text (titles, reflections, names typed by members) and keeps
inside Slack's limits: 50 blocks per message, 3,000 characters per section.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.digests import Digest, DigestKind
from bot.domain.model import (
    Book,
    Plan,
    PlanState,
    Progress,
    Reflection,
    Step,
    StepState,
    Visibility,
)
from bot.domain.prompts import PromptContent
from bot.services.plans import PlanChange, PlanView
from bot.slack.text import SECTION_LIMIT, escape, local_time, mention, quote, truncate

MAX_MESSAGE_BLOCKS = 50
HEADER_LIMIT = 150
REFLECT_ACTION = "reflect_open"


@dataclass(frozen=True, slots=True)
class Message:
    """What to send: fallback text (notifications, screen readers) and blocks.

    The fallback ``text`` is plain words only, never mentions: it is escaped here, once,
    because Slack parses it like mrkdwn in notifications.
    """

    text: str
    blocks: list[Block]

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", escape(self.text))


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))


def header(text: str) -> HeaderBlock:
    """A header; its text is escaped like every other text Slack shows."""
    return HeaderBlock(text=truncate(escape(text), HEADER_LIMIT))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 2000))])


def text_sections(lines: Iterable[str], max_blocks: int = MAX_MESSAGE_BLOCKS - 2) -> list[Block]:
    """Pack lines into as few sections as fit 3,000 characters; note any that do not fit."""
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    all_lines = list(lines)
    for index, line in enumerate(all_lines):
        line = truncate(line, SECTION_LIMIT)
        if chunk and size + len(line) + 1 > SECTION_LIMIT:
            if len(blocks) == max_blocks - 1:
                blocks.append(context(f"…and {len(all_lines) - index} more."))
                return blocks
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def error(message: str) -> Message:
    return Message(message, [section(f":warning: {escape(message)}")])


def notice(message: str) -> Message:
    """A message whose text is ours, with no user text in it (still escaped, for safety)."""
    return Message(message, [section(escape(message))])


def help_message(markdown: str) -> Message:
    """Help text is ours but shows placeholders like <title>: escaped, they stay text."""
    return Message("Readalong help", [section(escape(markdown))])


def book_line(book: Book) -> str:
    return (
        f"*#{book.id}* {escape(book.title)} — {escape(book.author)} "
        f"({book.chapter_count} chapter{'s' if book.chapter_count != 1 else ''})"
    )


def book_added(book: Book) -> Message:
    line = book_line(book)
    return Message(
        f"Added {book.title} to the shelf",
        [
            section(f":books: Added to the shelf: {line}"),
            context("Start it here with `/book start " + str(book.id) + "`."),
        ],
    )


def book_list(books: Sequence[Book]) -> Message:
    if not books:
        return notice(
            "The shelf is empty. Add a book with `/book add <title> | <author> | <chapters>`."
        )
    return Message(
        f"{len(books)} books on the shelf",
        [header(":books: The shelf"), *text_sections(book_line(b) for b in books)],
    )


def step_line(step: Step, timezone: str) -> str:
    marks = {
        StepState.POSTED: ":white_check_mark: posted",
        StepState.SKIPPED: ":fast_forward: skipped",
        StepState.CANCELLED: ":x: cancelled",
        StepState.MISSED: ":hourglass: missed",
        StepState.CLAIMED: ":outbox_tray: posting",
        StepState.PENDING: ":calendar: due",
    }
    return f"*Step {step.number}* · {step.describe_chapters()} · {local_time(step.due_at, timezone)} · {marks[step.state]}"


def plan_summary_line(view: PlanView) -> str:
    plan = view.plan
    state = {
        PlanState.ACTIVE: "reading",
        PlanState.PAUSED: "paused",
        PlanState.FINISHED: "finished",
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
                f"{len(plan.steps)} steps. The first prompt ({first.describe_chapters()}) "
                f"arrives {local_time(first.due_at, plan.timezone)}."
            ),
            context("Reflect any time with `/reflect <text>`; `/book plan` shows every step."),
        ],
    )


def plan_status(view: PlanView, now: datetime, progress: Sequence[Progress]) -> Message:
    plan = view.plan
    current = plan.current_step(now)
    following = plan.next_step
    lines = [plan_summary_line(view)]
    posted = sum(1 for s in plan.steps if s.state is StepState.POSTED)
    lines.append(
        f"Step {current.number if current else '—'} of {len(plan.steps)} · {posted} prompts posted"
    )
    if plan.state is PlanState.PAUSED:
        lines.append(":double_vertical_bar: Paused. The host can `/book resume`.")
    elif following is not None:
        lines.append(
            f"Next prompt: {following.describe_chapters()} · {local_time(following.due_at, plan.timezone)}"
        )
    else:
        lines.append("No prompts left.")
    blocks: list[Block] = [
        header(truncate(f"📖 {view.book.title}", HEADER_LIMIT)),
        section("\n".join(lines)),
    ]
    if progress:
        rows = [
            f"{mention(p.user_id)} · {p.chapters_reflected}/{p.chapter_count} chapters · streak {p.streak}"
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
            f"{posted}/{len(plan.steps)} prompts posted"
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
    else:
        text = f":checkered_flag: {mention(actor)} finished *{title}*. Thanks for reading together!"
    return Message(f"{view.book.title}: {action}", [section(text)])


def reflection_label(reflection: Reflection) -> str:
    where = (
        f"chapter {reflection.chapter}" if reflection.chapter else f"step {reflection.step_number}"
    )
    return f"#{reflection.id} · {where} · {reflection.visibility.value}"


def reflection_saved(reflection: Reflection, step: Step, echoed: bool) -> Message:
    where = f"chapter {reflection.chapter}" if reflection.chapter else step.describe_chapters()
    if reflection.visibility is Visibility.PRIVATE:
        extra = "Only you can see it."
    elif echoed:
        extra = "It is shared in the step's thread."
    else:
        extra = "It will be shared in the step's thread once the prompt is posted."
    return Message(
        f"Saved reflection #{reflection.id}",
        [
            section(
                f":memo: Saved your {reflection.visibility.value} reflection *#{reflection.id}* on {where}. {extra}"
            ),
            context(
                "`/reflect edit " + str(reflection.id) + "` to change it, `/reflect list` for all."
            ),
        ],
    )


def reflection_echo(reflection: Reflection, step: Step) -> Message:
    where = f"chapter {reflection.chapter}" if reflection.chapter else step.describe_chapters()
    return Message(
        f"Reflection on {where}",
        [
            section(
                f"{mention(reflection.author_id)} reflected on {where}:\n{quote(reflection.text, 2900)}"
            )
        ],
    )


def reflection_list(reflections: Sequence[Reflection]) -> Message:
    if not reflections:
        return notice("You have no reflections yet. Write one with `/reflect <text>`.")
    lines = [f"*{reflection_label(r)}*\n{quote(r.text, 200)}" for r in reflections]
    return Message(
        f"{len(reflections)} reflections", [header("Your reflections"), *text_sections(lines)]
    )


def progress_message(progress: Progress, view: PlanView) -> Message:
    return Message(
        "Your progress",
        [
            section(
                f"*{escape(view.book.title)}*: {progress.chapters_reflected} of {progress.chapter_count} chapters "
                f"reflected on ({progress.percent}%) · {progress.steps_reflected} of "
                f"{progress.steps_posted} prompts answered · streak {progress.streak}"
            )
        ],
    )


def reflect_button(step_id: int | None) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Reflect",
                action_id=REFLECT_ACTION,
                value=str(step_id or ""),
                style="primary",
            )
        ]
    )


def divider() -> DividerBlock:
    return DividerBlock()


PROMPT_EVENT = "readalong_prompt"


def prompt_message(content: PromptContent) -> Message:
    """A step's chapter prompt: what to read, questions, the deadline and a Reflect button."""
    chapters = "\n".join(
        f"• Chapter {number}" + (f": {escape(title)}" if title else "")
        for number, title in content.chapters
    )
    questions = "\n".join(f"{i}. {escape(q)}" for i, q in enumerate(content.questions, start=1))
    deadline = (
        f"Reflect before the next step, {local_time(content.deadline, content.timezone)}."
        if content.deadline
        else "This is the last step: reflect whenever you finish."
    )
    blocks: list[Block] = [
        header(f"📖 {content.book_title}: step {content.step_number} of {content.step_count}"),
        section(
            f"This step: *{content.chapter_label}* of _{escape(content.book_title)}_ by {escape(content.book_author)}\n{chapters}"
        ),
        section(f"*To talk about*\n{questions}"),
        context(f"{deadline} Reply in this thread to discuss."),
    ]
    if content.late:
        blocks.insert(
            1,
            context(
                f":hourglass: Posted late: this prompt was due {local_time(content.due_at, content.timezone)}."
            ),
        )
    blocks.append(reflect_button(content.step_id))
    return Message(
        f"{content.book_title}: {content.chapter_label} (step {content.step_number} of {content.step_count})",
        blocks,
    )


def catch_up_message(
    book_title: str, missed: Sequence[Step], timezone: str, next_step: Step | None
) -> Message:
    lines = [
        f"• Step {s.number}: {s.describe_chapters()} (was due {local_time(s.due_at, timezone)})"
        for s in missed
    ]
    following = (
        f"Next prompt: {next_step.describe_chapters()}, {local_time(next_step.due_at, timezone)}."
        if next_step
        else "There are no more prompts in this plan."
    )
    return Message(
        f"{book_title}: {len(missed)} prompts were missed",
        [
            section(
                f":hourglass: I was offline and missed {len(missed)} prompt{'s' if len(missed) != 1 else ''} "
                f"for *{escape(book_title)}*. Catch up at your own pace; `/reflect ch <n>` works for any chapter."
            ),
            *text_sections(lines, max_blocks=MAX_MESSAGE_BLOCKS - 3),
            context(following),
        ],
    )


def reminder_message(content: PromptContent, channel_id: str, permalink: str | None) -> Message:
    where = f"<{permalink}|the prompt>" if permalink else f"the prompt in <#{channel_id}>"
    deadline = (
        f" before {local_time(content.deadline, content.timezone)}" if content.deadline else ""
    )
    return Message(
        f"A nudge: {content.book_title}, {content.chapter_label}",
        [
            section(
                f":wave: A gentle nudge: you haven't reflected on {content.chapter_label} of "
                f"*{escape(content.book_title)}* yet. A few lines{deadline} are plenty, via {where} or `/reflect <text>`."
            ),
            context("Only you can see this. `/reflect mute` turns these nudges off."),
            reflect_button(content.step_id),
        ],
    )


def split_into_messages(
    text: str, all_blocks: Sequence[Block], per_message: int = MAX_MESSAGE_BLOCKS
) -> list[Message]:
    """Chunk blocks into messages that each stay within Slack's 50-block limit."""
    chunks = [
        list(all_blocks[i : i + per_message]) for i in range(0, len(all_blocks), per_message)
    ] or [[]]
    if len(chunks) == 1:
        return [Message(text, chunks[0])]
    return [
        Message(f"{text} ({n}/{len(chunks)})", chunk) for n, chunk in enumerate(chunks, start=1)
    ]


def digest_messages(digest: Digest, permalinks: dict[str, str]) -> list[Message]:
    """A digest: chapters covered, participation, highlights, themes and what is next."""
    people = len(digest.participants)
    all_blocks: list[Block] = [
        header(f"📚 {digest.book_title}: {digest.title}"),
        section(
            f"*{escape(digest.book_title)}* by {escape(digest.book_author)} · {digest.chapters_label}\n"
            f"{digest.reflection_count} shared reflection{'s' if digest.reflection_count != 1 else ''} and "
            f"{digest.reply_count} repl{'ies' if digest.reply_count != 1 else 'y'} from {people} "
            f"{'person' if people == 1 else 'people'}."
        ),
    ]
    if digest.participants:
        all_blocks.append(section("*Who took part*"))
        all_blocks += text_sections(
            (
                f"{mention(p.user_id)} · {p.reflections} reflection{'s' if p.reflections != 1 else ''}, "
                f"{p.replies} repl{'ies' if p.replies != 1 else 'y'}"
                for p in digest.participants
            ),
            max_blocks=10_000,
        )
    if digest.highlights:
        all_blocks.append(section("*Highlights*"))
        for h in digest.highlights:
            link = permalinks.get(h.ts or "")
            where = f" · <{link}|view>" if link else ""
            reactions = (
                f" · {h.reactions} reaction{'s' if h.reactions != 1 else ''}" if h.reactions else ""
            )
            all_blocks.append(
                section(f"{quote(h.text, 280)}\n— {mention(h.author_id)}{reactions}{where}")
            )
    if digest.themes:
        all_blocks.append(section("*Themes*\n" + " · ".join(escape(t) for t in digest.themes)))
    if digest.next_step is not None:
        step = digest.next_step
        all_blocks.append(
            section(
                f"*What's next*\n{step.describe_chapters()}, {local_time(step.due_at, digest.timezone)}"
            )
        )
    elif digest.kind == DigestKind.BOOK:
        all_blocks.append(
            section(":checkered_flag: That's the whole book. Thank you for reading together!")
        )
    all_blocks.append(
        context(
            "Only shared reflections and thread replies appear here; private reflections never do."
        )
    )
    return split_into_messages(f"{digest.book_title}: {digest.title}", all_blocks)
