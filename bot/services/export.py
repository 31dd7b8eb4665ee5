"""Exports: a member's own reflections as a post they can publish, and a workspace record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.domain.errors import NotFound
from bot.domain.export import WITHHELD_NOTE, member_post, shown_steps, slug, step_label
from bot.domain.markup import Names, mentioned, to_markdown
from bot.domain.model import Reflection, Visibility
from bot.domain.privacy import may_quote, written_late
from bot.domain.text import plural
from bot.services.books import find_book
from bot.services.ports import Clock, Directory, Unit, UnitOfWork


class NothingToExport(NotFound):
    """The book was found, but the member wrote nothing on it (not a mistyped title)."""


@dataclass(frozen=True, slots=True)
class MemberExport:
    filename: str
    title: str
    markdown: str
    shared: int
    private_left_out: int

    @property
    def comment(self) -> str:
        """``Your 1 shared reflection, ready to publish (2 private reflections left out).``"""
        note = (
            f" ({plural(self.private_left_out, 'private reflection')} left out)"
            if self.private_left_out
            else ""
        )
        return f"Your {plural(self.shared, 'shared reflection')}, ready to publish{note}."


@dataclass(frozen=True, slots=True)
class NameSources:
    """Where names come from, best first: Slack (the directory), then what the bot stored
    (members' display names and groups' names from slash-command payloads)."""

    directory: Directory | None = None
    fallback_users: Mapping[str, str] | None = None

    def stored(
        self, uow: Unit, workspace_id: int, user_ids: Iterable[str], channel_ids: Iterable[str]
    ) -> Names:
        """Names kept in the database (read inside the caller's unit of work)."""
        users: dict[str, str] = {}
        for user_id in set(user_ids):
            member = uow.members.get(workspace_id, user_id)
            if member is not None and member.display_name:
                users[user_id] = member.display_name
        channels: dict[str, str] = {}
        for channel_id in set(channel_ids):
            group = uow.groups.get(workspace_id, channel_id)
            if group is not None and group.name:
                channels[channel_id] = group.name
        return Names(users, channels)

    def resolve(self, stored: Names, user_ids: Iterable[str], channel_ids: Iterable[str]) -> Names:
        """Names for these ids (outside any transaction: Slack may be asked)."""
        wanted_users = sorted(set(user_ids))
        users = dict(stored.users)
        looked_up: Mapping[str, str] = {}
        if self.directory is not None and wanted_users:
            looked_up = self.directory.user_names(wanted_users)
        for user_id in wanted_users:
            name = looked_up.get(user_id)
            if (not name or name == user_id) and self.fallback_users is not None:
                name = self.fallback_users.get(user_id)
            if name and name != user_id:
                users[user_id] = name
        channels = dict(stored.channels)
        if self.directory is not None:
            for channel_id in sorted(set(channel_ids)):
                name = self.directory.channel_name(channel_id)
                if name and name != channel_id:
                    channels[channel_id] = name
        return Names(users, channels)


class ExportService:
    def __init__(self, uow: UnitOfWork, clock: Clock, directory: Directory | None = None) -> None:
        self.uow = uow
        self.clock = clock
        self.directory = directory

    def member_post(
        self,
        team_id: str,
        user_id: str,
        book_ref: str | None,
        author_name: str | None = None,
        names: Mapping[str, str] | None = None,
    ) -> MemberExport:
        """The member's shared reflections on a book (default: their latest) as Markdown.

        Private reflections stay out (the file is meant for publishing), and other members
        are quoted only if they turned `/reflect quotable on`. Names come from the
        directory, else ``names`` (a lookup the caller may give), else the stored ones.
        """
        sources = NameSources(self.directory, names)
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            mine = list(uow.reflections.by_author(workspace_id, user_id))
            if book_ref:
                wanted = find_book(uow, workspace_id, book_ref)
                plan_ids = {p.id for p in uow.plans.all_for_book(wanted.id or 0)}
                mine = [r for r in mine if r.plan_id in plan_ids]
                if not mine:
                    raise NothingToExport(
                        f"You have no reflections on “{wanted.title}” to export yet."
                    )
            if not mine:
                raise NothingToExport(
                    "You have no reflections to export yet. Write one with `/reflect <text>`."
                )
            plan = uow.plans.get(mine[-1].plan_id)
            assert plan is not None and plan.id is not None
            book = uow.books.get(plan.book_id)
            assert book is not None
            on_plan = [r for r in mine if r.plan_id == plan.id]
            shared = [r for r in on_plan if r.visibility is Visibility.SHARED]
            quotable = uow.members.quotable(workspace_id)
            others = [
                r
                for r in uow.reflections.for_plan(plan.id)
                if r.author_id != user_id
                and r.visibility is Visibility.SHARED
                and may_quote(r.author_id, quotable)
            ]
            user_ids, channel_ids = _mentions(r.text for r in [*shared, *others])
            user_ids |= {user_id} | {r.author_id for r in others}
            stored = sources.stored(uow, workspace_id, user_ids, channel_ids)
        resolved = sources.resolve(stored, user_ids, channel_ids)
        markdown = member_post(
            book=book,
            plan=plan,
            author_name=author_name or resolved.user(user_id).removeprefix("@"),
            reflections=shared,
            others=others,
            quotable=quotable,
            names=resolved,
            today=now.date(),
        )
        return MemberExport(
            filename=f"{now.date().isoformat()}-{slug(book.title)}.md",
            title=f"Reflections on {book.title}",
            markdown=markdown,
            shared=len(shared),
            private_left_out=len(on_plan) - len(shared),
        )

    def record(
        self,
        *,
        channel_id: str | None = None,
        book_ref: str | None = None,
        member: str | None = None,
    ) -> dict[str, Any]:
        """What a workspace admin may take away: books, plans, the steps that happened,
        shared reflections and thread messages (not deleted ones), and digests.

        Names beside ids, readable chapter labels. Private reflections never appear, not
        even as a count; the text of members who have not turned `/reflect quotable on`
        is withheld (``"text": null, "text_withheld": true``), as the record says up front.
        """
        sources = NameSources(self.directory)
        out: dict[str, Any] = {
            "exported_at": self.clock.now().isoformat(),
            "note": WITHHELD_NOTE,
            "books": [],
            "plans": [],
        }
        pending: list[tuple[dict[str, Any], Names, set[str], set[str]]] = []
        with self.uow() as uow:
            for workspace_id in uow.workspaces.all_ids():
                section: dict[str, Any] = {"books": [], "plans": []}
                users, channels = self._workspace_record(
                    uow, workspace_id, section, channel_id, book_ref, member
                )
                stored = sources.stored(uow, workspace_id, users, channels)
                pending.append((section, stored, users, channels))
        for section, stored, users, channels in pending:  # Slack is asked outside the transaction
            _fill_names(section, sources.resolve(stored, users, channels))
            out["books"] += section["books"]
            out["plans"] += section["plans"]
        return out

    def _workspace_record(
        self,
        uow: Unit,
        workspace_id: int,
        section: dict[str, Any],
        channel_id: str | None,
        book_ref: str | None,
        member: str | None,
    ) -> tuple[set[str], set[str]]:
        """Fill ``section`` with ids only; returns the user and channel ids it names."""
        users: set[str] = set()
        channels: set[str] = set()
        books = uow.books.all(workspace_id)
        if book_ref:
            books = [find_book(uow, workspace_id, book_ref)]
        book_ids = {b.id for b in books}
        section["books"] += [
            {
                "id": b.id,
                "title": b.title,
                "author": b.author,
                "chapters": [asdict(c) for c in b.chapters],
            }
            for b in books
        ]
        quotable = uow.members.quotable(workspace_id)
        messages = uow.discussions.for_export(workspace_id, channel_id)
        for group_id, plan in uow.plans.all_in_workspace(workspace_id):
            group = uow.groups.by_id(group_id)
            if (
                (channel_id and group.channel_id != channel_id)
                or plan.book_id not in book_ids
                or plan.id is None
            ):
                continue
            reflections = [
                r
                for r in uow.reflections.for_plan(plan.id)
                if r.visibility is Visibility.SHARED and (member is None or r.author_id == member)
            ]
            book = next(b for b in books if b.id == plan.book_id)
            steps = []
            for s in shown_steps(plan):
                step_reflections = [
                    _reflection(r, quotable, written_late(plan, r))
                    for r in reflections
                    if r.step_number == s.number
                ]
                step_messages = [
                    {
                        "user_id": m.user_id,
                        "ts": m.ts,
                        "text": m.text if may_quote(m.user_id or "", quotable) else None,
                        "text_withheld": not may_quote(m.user_id or "", quotable),
                        "edited": m.edited_at is not None,
                        "reactions": m.reaction_count,
                    }
                    for m in messages
                    if m.step_id == s.id
                    and m.deleted_at is None
                    and (member is None or m.user_id == member)
                ]
                for entry in (*step_reflections, *step_messages):
                    users.add(entry.get("author_id") or entry.get("user_id") or "")
                    more_users, more_channels = mentioned(entry["text"] or "")
                    users |= more_users
                    channels |= more_channels
                steps.append(
                    {
                        "number": s.number,
                        "first_chapter": s.first_chapter,
                        "last_chapter": s.last_chapter,
                        "chapters": step_label(s),
                        "due_at": s.due_at.isoformat(),
                        "state": s.state.value,
                        "reflections": step_reflections,
                        "messages": step_messages,
                    }
                )
            digests = uow.summaries.for_plan(plan.id)
            users.add(plan.host_user_id)
            channels.add(group.channel_id)
            channels |= {str(d["channel_id"]) for d in digests if d.get("channel_id")}
            section["plans"].append(
                {
                    "id": plan.id,
                    "channel_id": group.channel_id,
                    "book_id": plan.book_id,
                    "book_title": book.title,
                    "state": plan.state.value,
                    "host_user_id": plan.host_user_id,
                    "timezone": plan.timezone,
                    "cadence": plan.cadence.describe(),
                    "steps": steps,
                    "digests": digests,
                }
            )
        users.discard("")
        return users, channels


def _mentions(texts: Iterable[str]) -> tuple[set[str], set[str]]:
    users: set[str] = set()
    channels: set[str] = set()
    for text in texts:
        more_users, more_channels = mentioned(text)
        users |= more_users
        channels |= more_channels
    return users, channels


def _reflection(r: Reflection, quotable: set[str], late: bool) -> dict[str, Any]:
    allowed = may_quote(r.author_id, quotable)
    return {
        "id": r.id,
        "number": r.number,
        "author_id": r.author_id,
        "chapter": r.chapter,
        "text": r.text if allowed else None,
        "text_withheld": not allowed,
        "created_at": r.created_at.isoformat(),
        "late": late,
        "edited": r.edit_count > 0,
    }


def _fill_names(section: dict[str, Any], names: Names) -> None:
    """Names beside ids; text readable (Markdown, mentions by name). A person or channel
    whose name is known nowhere keeps the id as its name: an admin must tell people apart."""

    def user(user_id: str | None) -> str:
        name = names.users.get(user_id or "")
        return name if name else (user_id or "")

    def channel(channel_id: str | None) -> str:
        name = names.channels.get(channel_id or "")
        return name if name else (channel_id or "")

    for plan in section["plans"]:
        _beside(plan, "channel_id", "channel", channel(plan["channel_id"]))
        _beside(plan, "host_user_id", "host", user(plan["host_user_id"]))
        for step in plan["steps"]:
            for r in step["reflections"]:
                _beside(r, "author_id", "author", user(r["author_id"]))
                if r["text"] is not None:
                    r["text"] = to_markdown(r["text"], names, encoded=False)
            for m in step["messages"]:
                _beside(m, "user_id", "user", user(m["user_id"]))
                if m["text"] is not None:
                    m["text"] = to_markdown(m["text"], names)
        for digest in plan["digests"]:
            _beside(digest, "channel_id", "channel", channel(digest.get("channel_id")))


def _beside(entry: dict[str, Any], after: str, key: str, value: Any) -> None:
    """Put ``key`` right after ``after`` (JSON readers see the name beside the id)."""
    items = list(entry.items())
    entry.clear()
    for k, v in items:
        entry[k] = v
        if k == after:
            entry[key] = value
    entry.setdefault(key, value)
