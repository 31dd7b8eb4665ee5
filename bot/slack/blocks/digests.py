"""Digests, split across as many messages as Slack's limits need."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.domain.digests import Digest, DigestKind
from bot.slack.blocks.base import (
    Message,
    context,
    header,
    section,
    split_into_messages,
    text_sections,
)
from bot.slack.text import escape, local_time, mention, quote


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
