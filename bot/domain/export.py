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
    # Sections in reading order: a chapter, or a whole step's chapters for reflections
    # written on the step rather than on one chapter.
    sections: dict[tuple[int, int], list[str]] = {}
    steps = {s.number: s for s in plan.steps}
    for reflection in reflections:
        if reflection.chapter is not None:
            key = (reflection.chapter, reflection.chapter)
        elif reflection.step_number in steps:
            step = steps[reflection.step_number]
            key = (step.first_chapter, step.last_chapter)
        else:
            continue
        sections.setdefault(key, []).append(reflection.text)
    quoted: dict[tuple[int, int], list[Quote]] = {}
    for q in quotes:
        quoted.setdefault((q.chapter, q.chapter), []).append(q)
    for first, last in sorted(set(sections) | set(quoted)):
        if first == last:
            title = (
                book.chapter(first).label()
                if 1 <= first <= book.chapter_count
                else f"Chapter {first}"
            )
        else:
            title = f"Chapters {first}–{last}"
        lines += [f"## {title}", ""]
        for text in sections.get((first, last), []):
            lines += [text.strip(), ""]
        for q in quoted.get((first, last), []):
            lines.append("> " + q.text.strip().replace("\n", "\n> "))
            lines += [f"> — {q.author_name}", ""]
    if not sections:
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
