"""Exports: a member's own reflections as a post they can publish, and a workspace record."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.domain.errors import NotFound
from bot.domain.export import Quote, member_post, slug
from bot.domain.model import Reflection, Visibility
from bot.services.books import find_book
from bot.services.ports import Clock, UnitOfWork


@dataclass(frozen=True, slots=True)
class MemberExport:
    filename: str
    title: str
    markdown: str
    shared: int
    private_left_out: int


class ExportService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def member_post(
        self,
        team_id: str,
        user_id: str,
        book_ref: str | None,
        author_name: str,
        names: dict[str, str],
    ) -> MemberExport:
        """The member's shared reflections on a book (default: their latest) as Markdown.

        Private reflections stay out (the file is meant for publishing), and other members
        are quoted only if they turned `/reflect quotable on`.
        """
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            mine = list(uow.reflections.by_author(workspace_id, user_id))
            if book_ref:
                wanted = find_book(uow, workspace_id, book_ref)
                plan_ids = {p.id for p in uow.plans.all_for_book(wanted.id or 0)}
                mine = [r for r in mine if r.plan_id in plan_ids]
            if not mine:
                raise NotFound(
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
                and r.author_id in quotable
            ]
        steps = {s.number: s for s in plan.steps}
        quotes = [
            Quote(
                names.get(r.author_id, r.author_id),
                r.chapter or steps[r.step_number].first_chapter,
                r.text,
            )
            for r in others
            if r.step_number in steps
        ]
        markdown = member_post(
            book=book,
            plan=plan,
            author_name=author_name,
            reflections=shared,
            quotes=quotes,
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
        """What a workspace admin may take away: books, plans, steps, shared reflections,
        thread messages (not deleted ones' text) and digests. Never private reflections."""
        out: dict[str, Any] = {
            "exported_at": self.clock.now().isoformat(),
            "books": [],
            "plans": [],
        }
        with self.uow() as uow:
            for workspace_id in uow.workspaces.all_ids():
                books = uow.books.all(workspace_id)
                if book_ref:
                    books = [find_book(uow, workspace_id, book_ref)]
                book_ids = {b.id for b in books}
                out["books"] += [
                    {
                        "id": b.id,
                        "title": b.title,
                        "author": b.author,
                        "chapters": [asdict(c) for c in b.chapters],
                    }
                    for b in books
                ]
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
                        if r.visibility is Visibility.SHARED
                        and (member is None or r.author_id == member)
                    ]
                    book = next(b for b in books if b.id == plan.book_id)
                    out["plans"].append(
                        {
                            "id": plan.id,
                            "channel_id": group.channel_id,
                            "book_id": plan.book_id,
                            "book_title": book.title,
                            "state": plan.state.value,
                            "host_user_id": plan.host_user_id,
                            "timezone": plan.timezone,
                            "cadence": plan.cadence.describe(),
                            "steps": [
                                {
                                    "number": s.number,
                                    "first_chapter": s.first_chapter,
                                    "last_chapter": s.last_chapter,
                                    "due_at": s.due_at.isoformat(),
                                    "state": s.state.value,
                                    "reflections": [
                                        _reflection(r)
                                        for r in reflections
                                        if r.step_number == s.number
                                    ],
                                    "messages": [
                                        {
                                            "user_id": m.user_id,
                                            "ts": m.ts,
                                            "text": m.text,
                                            "edited": m.edited_at is not None,
                                            "reactions": m.reaction_count,
                                        }
                                        for m in messages
                                        if m.step_id == s.id
                                        and m.deleted_at is None
                                        and (member is None or m.user_id == member)
                                    ],
                                }
                                for s in plan.steps
                            ],
                            "digests": uow.summaries.for_plan(plan.id),
                        }
                    )
        return out


def _reflection(r: Reflection) -> dict[str, Any]:
    return {
        "id": r.id,
        "author_id": r.author_id,
        "chapter": r.chapter,
        "text": r.text,
        "created_at": r.created_at.isoformat(),
        "edited": r.edit_count > 0,
    }
