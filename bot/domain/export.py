"""Exports as plain text: a member's blog post in Markdown, and an admin's record."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from bot.domain.model import Book, Plan, Reflection


@dataclass(frozen=True, slots=True)
class Quote:
    author_name: str
    chapter: int
    text: str


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "reflections"


def member_post(
    *,
    book: Book,
    plan: Plan,
    author_name: str,
    reflections: Sequence[Reflection],
    quotes: Sequence[Quote],
    today: date,
) -> str:
    """A Jekyll-style post: front matter, then one section per chapter with the member's own text.

    ``reflections`` must be the member's own shared reflections; ``quotes`` only from
    members who opted in to being quoted.
    """
    front = {
        "title": f"Reflections on {book.title}",
        "date": today.isoformat(),
        "categories": ["reading", slug(book.title)],
        "book": book.title,
        "book_author": book.author,
        "author": author_name,
    }
    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(), "---", ""]
    lines.append(f"# Reflections on *{book.title}* by {book.author}")
    lines.append("")
    by_chapter: dict[int, list[str]] = {}
    steps = {s.number: s for s in plan.steps}
    for reflection in reflections:
        chapter = reflection.chapter or (
            steps[reflection.step_number].first_chapter if reflection.step_number in steps else 1
        )
        by_chapter.setdefault(chapter, []).append(reflection.text)
    quotes_by_chapter: dict[int, list[Quote]] = {}
    for q in quotes:
        quotes_by_chapter.setdefault(q.chapter, []).append(q)
    for number in sorted(set(by_chapter) | set(quotes_by_chapter)):
        lines.append(
            f"## {book.chapter(number).label() if 1 <= number <= book.chapter_count else f'Chapter {number}'}"
        )
        lines.append("")
        for text in by_chapter.get(number, []):
            lines.append(text.strip())
            lines.append("")
        for q in quotes_by_chapter.get(number, []):
            lines.append("> " + q.text.strip().replace("\n", "\n> "))
            lines.append(f"> — {q.author_name}")
            lines.append("")
    if not by_chapter:
        lines.append("_No shared reflections yet._")
        lines.append("")
    return "\n".join(lines)


def split_front_matter(markdown: str) -> tuple[dict[str, Any], str]:
    """Parse a post back into (front matter, body); raises ValueError when malformed."""
    if not markdown.startswith("---\n"):
        raise ValueError("no front matter")
    _, front, body = markdown.split("---\n", 2)
    data = yaml.safe_load(front)
    if not isinstance(data, dict):
        raise ValueError("front matter is not a mapping")
    return data, body


def record_markdown(record: dict[str, Any]) -> str:
    """The admin export as a readable Markdown document."""
    out = ["# Readalong export", ""]
    for book in record.get("books", []):
        out.append(
            f"- Book #{book['id']}: {book['title']} by {book['author']} ({len(book['chapters'])} chapters)"
        )
    out.append("")
    for plan in record.get("plans", []):
        out.append(f"## {plan['book_title']} in {plan['channel_id']} ({plan['state']})")
        out.append("")
        for step in plan["steps"]:
            out.append(
                f"### Step {step['number']}: chapters {step['first_chapter']}–{step['last_chapter']} ({step['state']})"
            )
            out.append("")
            for r in step["reflections"]:
                out.append(
                    f"- **{r['author_id']}** (chapter {r['chapter'] or 'step'}): {r['text']}"
                )
            for m in step["messages"]:
                out.append(f"  - {m['user_id']}: {m['text']}")
            out.append("")
        for d in plan.get("digests", []):
            out.append(f"- Digest {d['kind']} {d['period']}: {d['state']}")
        out.append("")
    return "\n".join(out)
