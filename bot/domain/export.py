"""Exports as plain text: a member's blog post in Markdown, and an admin's record."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from bot.domain.markup import Names, markdown_literal, to_markdown
from bot.domain.model import Book, Plan, PlanState, Reflection, Step, StepState, Visibility
from bot.domain.privacy import may_quote
from bot.domain.text import plural

#: Said once at the top of every admin record.
WITHHELD_NOTE = (
    "The text of members who have not turned `/reflect quotable on` is withheld "
    "(their entries keep the author, chapter and dates); private reflections are never exported."
)


def slug(text: str) -> str:
    """``cien-anos-de-soledad`` for "Cien años de soledad" (transliterated, not dropped)."""
    from slugify import slugify  # an export is rare: its libraries load when one is made

    return slugify(text) or "reflections"


def step_label(step: Step) -> str:
    """``chapter 11`` or ``chapters 12–14``."""
    return step.describe_chapters()


def shown_steps(plan: Plan) -> list[Step]:
    """The steps a record shows: a cancelled plan's steps that never happened are left out,
    and so is any step cancelled because its plan ended before it was due."""
    ordered = sorted(plan.steps, key=lambda s: s.number)
    if plan.state is PlanState.CANCELLED:
        return [s for s in ordered if s.state is StepState.POSTED]
    return [s for s in ordered if s.state is not StepState.CANCELLED]


def member_post(
    *,
    book: Book,
    plan: Plan,
    author_name: str,
    reflections: Sequence[Reflection],
    others: Sequence[Reflection],
    quotable: Collection[str],
    names: Names,
    today: date,
    chosen: bool = False,
    notes: Mapping[int, Sequence[str]] | None = None,
    notes_by: str | None = None,
) -> str:
    """A Jekyll-style post: front matter, then one section per chapter with the member's own text.

    ``reflections`` are the member's own: only shared ones, unless ``chosen`` (the
    member picked each one for this post, whoever could see it). Of ``others`` (other
    members' reflections on the plan), only shared ones by ``quotable`` members are
    quoted. ``notes`` (reflection id → texts) are a mentor's replies the mentor agreed to
    have quoted, each under the reflection it answers, signed ``notes_by``. Slack markup
    (mentions, links, emphasis) becomes Markdown, with names instead of ids.
    """
    front: dict[str, Any] = {
        "title": f"Reflections on {book.title}",
        "date": today.isoformat(),
        "categories": ["reading", slug(book.title)],
        "book": book.title,
        "book_author": book.author,
        "author": author_name,
    }
    if notes and notes_by:
        front["mentor"] = notes_by
    import yaml

    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(), "---", ""]
    lines.append(
        f"# Reflections on *{markdown_literal(book.title)}* by {markdown_literal(book.author)}"
    )
    lines.append("")
    # Sections in reading order: a chapter, or a whole step's chapters for reflections
    # written on the step rather than on one chapter.
    steps = {s.number: s for s in plan.steps}

    def section_of(reflection: Reflection) -> tuple[int, int] | None:
        if reflection.chapter is not None:
            return (reflection.chapter, reflection.chapter)
        step = steps.get(reflection.step_number)
        return (step.first_chapter, step.last_chapter) if step is not None else None

    sections: dict[tuple[int, int], list[str]] = {}
    for reflection in reflections:
        key = section_of(reflection)
        if key is None or not (chosen or reflection.visibility is Visibility.SHARED):
            continue
        parts = [_markdown(reflection.text, names)]
        for note in (notes or {}).get(reflection.id or 0, []):
            parts.append(_quoted(_markdown(note, names), f"{notes_by}, my mentor"))
        sections.setdefault(key, []).append("\n\n".join(parts))
    quoted: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for other in others:
        key = section_of(other)
        if (
            key is not None
            and other.visibility is Visibility.SHARED
            and may_quote(other.author_id, quotable)
        ):
            who = names.user(other.author_id).removeprefix("@")
            quoted.setdefault(key, []).append((_markdown(other.text, names), who))
    for first, last in sorted(set(sections) | set(quoted)):
        if first == last:
            title = (
                book.chapter(first).label()
                if 1 <= first <= book.chapter_count
                else f"Chapter {first}"
            )
        else:
            title = f"Chapters {first}–{last}"
        lines += [f"## {markdown_literal(title)}", ""]
        for text in sections.get((first, last), []):
            lines += [text, ""]
        for text, who in quoted.get((first, last), []):
            lines += [_quoted(text, who), ""]
    if not sections:
        lines.append("_No shared reflections yet._")
        lines.append("")
    return "\n".join(lines)


def _quoted(text: str, who: str) -> str:
    """A Markdown block quote, signed."""
    return "> " + text.replace("\n", "\n> ") + f"\n> — {markdown_literal(who)}"


def digest_label(kind: str, period: str) -> str:
    """``Digest of step 3``, ``Weekly digest, week of 2026-12-11``, ``Wrap-up``…"""
    if period.startswith("step-"):
        return f"Digest of step {period.removeprefix('step-')}"
    if period.startswith("week-"):
        return f"Weekly digest, week ending {period.removeprefix('week-')}"
    if period.startswith("asked-"):
        return f"Digest asked for on {period.removeprefix('asked-')[:10]}"
    if kind == "book":
        return "Wrap-up"
    return f"Digest ({kind})"


def _markdown(reflection_text: str, names: Names) -> str:
    """A reflection (stored as typed, not Slack-encoded) as Markdown."""
    return to_markdown(reflection_text.strip(), names, encoded=False)


def split_front_matter(markdown: str) -> tuple[dict[str, Any], str]:
    """Parse a post back into (front matter, body); raises ValueError when malformed."""
    if not markdown.startswith("---\n"):
        raise ValueError("no front matter")
    _, front, body = markdown.split("---\n", 2)
    import yaml

    data = yaml.safe_load(front)
    if not isinstance(data, dict):
        raise ValueError("front matter is not a mapping")
    return data, body


def record_markdown(record: dict[str, Any]) -> str:
    """The admin export as a readable Markdown document: names, not ids."""
    out = ["# Readalong export", ""]
    if record.get("exported_at"):
        out += [f"Exported {record['exported_at']}.", ""]
    out += [record.get("note") or WITHHELD_NOTE, ""]
    for book in record.get("books", []):
        chapters = plural(len(book.get("chapters") or []), "chapter")
        out.append(f"- Book #{book['id']}: {book['title']} by {book['author']} ({chapters})")
    out.append("")
    for plan in record.get("plans", []):
        channel = plan.get("channel") or "a channel"
        out.append(f"## {plan['book_title']} in #{channel} ({plan['state']})")
        out.append("")
        details = [
            f"hosted by {plan['host']}" if plan.get("host") else "",
            plan.get("cadence") or "",
            plan.get("timezone") or "",
        ]
        line = " · ".join(d for d in details if d)
        if line:
            out += [line[0].upper() + line[1:], ""]
        for step in plan["steps"]:
            out += [f"### Step {step['number']}: {step['chapters']} ({step['state']})", ""]
            for r in step["reflections"]:
                where = f"chapter {r['chapter']}" if r.get("chapter") else "whole step"
                if r.get("late"):
                    where += ", after the step closed"
                out.append(f"- **{r['author']}** ({where}): {_shown(r, 'author')}")
            if step["reflections"]:
                out.append("")
            if step["messages"]:
                out += ["Thread:", ""]  # the step's discussion, apart from any reflection
            for m in step["messages"]:
                out.append(f"- {m['user']}: {_shown(m, 'user')}")
            if step["messages"]:
                out.append("")
        for d in plan.get("digests", []):
            where = f" in #{d['channel']}" if d.get("channel") else ""
            out.append(f"- {digest_label(str(d['kind']), str(d['period']))}{where}: {d['state']}")
        if plan.get("digests"):
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _shown(entry: dict[str, Any], who: str) -> str:
    if entry.get("text_withheld"):
        return f"_text withheld: {entry[who]} has not agreed to be quoted_"
    return str(entry.get("text") or "").replace("\n", "\n    ")
