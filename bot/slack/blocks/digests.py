"""Digests, split across as many messages as Slack's limits need."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.domain.digests import Digest, DigestKind
from bot.domain.text import plural
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
    """A digest: chapters covered, participation, highlights, themes and what is next.

    Everyone who shared is counted and named; only the words of members who agreed to be
    quoted appear (the digest holds nothing else), as plain text: never a ping."""
    all_blocks: list[Block] = [
        header(f"📚 {digest.book_title}: {digest.title}"),
        section(
            f"*{escape(digest.book_title)}* by {escape(digest.book_author)} · {digest.chapters_label}\n"
            f"{participation(digest)}"
        ),
    ]
    if digest.participants:
        all_blocks.append(section("*Who took part*"))
        all_blocks += text_sections(
            (
                f"{mention(p.user_id)} · {plural(p.reflections, 'reflection')}, "
                f"{plural(p.replies, 'reply', 'replies')}"
                for p in digest.participants
            ),
            max_blocks=10_000,
        )
    if digest.highlights:
        all_blocks.append(section("*Highlights*"))
        for h in digest.highlights:
            link = permalinks.get(h.ts or "")
            where = f" · <{link}|view>" if link else ""
            reactions = f" · {plural(h.reactions, 'reaction')}" if h.reactions else ""
            all_blocks.append(
                section(
                    f"{quote(h.plain_text(digest.names), 280)}\n— {mention(h.author_id)}"
                    f"{reactions}{where}"
                )
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
            "Only shared reflections and thread replies count here, and only the words of "
            "members who turned `/reflect quotable on` are quoted; private reflections never "
            "appear."
        )
    )
    return split_into_messages(f"{digest.book_title}: {digest.title}", all_blocks)


#: Ephemeral answers through a response_url: Slack takes five per command.
MAX_PRIVATE_MESSAGES = 4


def digest_for_one(digest: Digest) -> list[Message]:
    """The digest shown only to the member who asked (they may not post it for all)."""
    messages = digest_messages(digest, {})[:MAX_PRIVATE_MESSAGES]
    messages[0].blocks.insert(
        0,
        context(
            ":eyes: Only you can see this digest. The plan's host or an admin can post it "
            "for everyone with `/book summary`."
        ),
    )
    return messages


def participation(digest: Digest) -> str:
    """``3 shared reflections, 1 of them after its step closed, and 2 replies from 4 people.``"""
    reflections = plural(digest.reflection_count, "shared reflection")
    if digest.late_count:
        their = "its step" if digest.late_count == 1 else "their step"
        reflections += f", {digest.late_count:,} of them after {their} closed,"
    people = len(digest.participants)
    return (
        f"{reflections} and {plural(digest.reply_count, 'reply', 'replies')} "
        f"from {plural(people, 'person', 'people')}."
    )
