"""Reflections: write, edit, delete and list one's own; progress; reminder and quote settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import InvalidInput, NotFound
from bot.domain.model import Member, Plan, Progress, Reflection, Step, Visibility
from bot.domain.reflections import clean_text, progress
from bot.services.books import require_chapter
from bot.services.plans import PlanView, running_view
from bot.services.ports import Clock, Unit, UnitOfWork

MAX_NUMBER = 2**31 - 1  # reflections.number is an INTEGER column


@dataclass(frozen=True, slots=True)
class SavedReflection:
    reflection: Reflection
    view: PlanView
    step: Step


class ReflectionService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def write(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        text: str,
        *,
        chapter: int | None = None,
        visibility: Visibility = Visibility.SHARED,
        step_number: int | None = None,
    ) -> SavedReflection:
        """Save a reflection on ``chapter`` (its step), on ``step_number``, or on the step being read now."""
        cleaned = clean_text(text)
        now = self.clock.now()
        with self.uow() as uow:
            view = running_view(uow, team_id, channel_id, now)
            step = _step_for(view, chapter, step_number, now)
            reflection = uow.reflections.add(
                Reflection(
                    workspace_id=view.group.workspace_id,
                    plan_id=_id(view.plan.id),
                    step_number=step.number,
                    chapter=chapter,
                    author_id=user_id,
                    text=cleaned,
                    visibility=visibility,
                    created_at=now,
                )
            )
            uow.members.ensure(view.group.workspace_id, user_id, now)
            uow.commit()
            return SavedReflection(reflection, view, step)

    def edit(
        self,
        team_id: str,
        user_id: str,
        reflection_id: int,
        text: str | None = None,
        visibility: Visibility | None = None,
    ) -> SavedReflection:
        """Change one's own reflection's text and/or visibility."""
        cleaned = clean_text(text) if text is not None else None
        now = self.clock.now()
        with self.uow() as uow:
            reflection, view = _own(uow, team_id, user_id, reflection_id, now)
            if cleaned is not None and cleaned != reflection.text:
                reflection.text = cleaned
                reflection.edit_count += 1
                reflection.updated_at = now
            if visibility is not None and visibility is not reflection.visibility:
                reflection.visibility = visibility
                reflection.updated_at = now
            uow.reflections.save(reflection)
            uow.commit()
            return SavedReflection(reflection, view, view.plan.step(reflection.step_number))

    def mark_echoed(self, reflection_id: int, message_ts: str | None) -> None:
        """Remember where a shared reflection was echoed in the prompt thread (or that it is gone)."""
        with self.uow() as uow:
            reflection = uow.reflections.get(reflection_id)
            if reflection is None:
                return
            reflection.message_ts = message_ts
            uow.reflections.save(reflection)
            uow.commit()

    def exists(self, reflection_id: int) -> bool:
        with self.uow() as uow:
            return uow.reflections.get(reflection_id) is not None

    def delete(self, team_id: str, user_id: str, reflection_id: int) -> Reflection:
        with self.uow() as uow:
            reflection, _view = _own(uow, team_id, user_id, reflection_id, self.clock.now())
            uow.reflections.delete(_id(reflection.id))
            uow.commit()
            return reflection

    def get_own(self, team_id: str, user_id: str, reflection_id: int) -> SavedReflection:
        with self.uow() as uow:
            reflection, view = _own(uow, team_id, user_id, reflection_id, self.clock.now())
            return SavedReflection(reflection, view, view.plan.step(reflection.step_number))

    def list_own(
        self, team_id: str, user_id: str, channel_id: str | None = None
    ) -> list[Reflection]:
        """The caller's reflections, on the channel's running plan when a channel is given."""
        now = self.clock.now()
        with self.uow() as uow:
            if channel_id is not None:
                view = running_view(uow, team_id, channel_id, now)
                found = uow.reflections.for_plan(_id(view.plan.id), author_id=user_id)
            else:
                workspace_id = uow.workspaces.ensure(team_id, now)
                found = list(uow.reflections.by_author(workspace_id, user_id))
            uow.commit()
            return found

    def progress(self, team_id: str, channel_id: str, user_id: str) -> Progress:
        now = self.clock.now()
        with self.uow() as uow:
            view = running_view(uow, team_id, channel_id, now)
            mine = uow.reflections.for_plan(_id(view.plan.id), author_id=user_id)
            return progress(view.plan, user_id, mine, view.book.chapter_count)

    def group_progress(self, team_id: str, channel_id: str) -> tuple[PlanView, list[Progress]]:
        """The channel's plan and everyone's progress on it, best first.

        Others see this, so only shared reflections count: a private one stays invisible,
        even as a number.
        """
        now = self.clock.now()
        with self.uow() as uow:
            view = running_view(uow, team_id, channel_id, now)
            shared = [
                r
                for r in uow.reflections.for_plan(_id(view.plan.id))
                if r.visibility is Visibility.SHARED
            ]
            authors = sorted({r.author_id for r in shared})
            rows = [progress(view.plan, a, shared, view.book.chapter_count) for a in authors]
            return view, sorted(rows, key=lambda p: (-p.chapters_reflected, p.user_id))

    def set_member_flags(
        self, team_id: str, user_id: str, *, muted: bool | None = None, quotable: bool | None = None
    ) -> Member:
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            member = uow.members.ensure(workspace_id, user_id, now)
            if muted is not None:
                member.reminders_muted = muted
            if quotable is not None:
                member.quotable = quotable
            uow.members.save(member)
            uow.commit()
            return member


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("entity has not been stored")
    return value


def _step_for(view: PlanView, chapter: int | None, step_number: int | None, now: datetime) -> Step:
    plan: Plan = view.plan
    if chapter is not None:
        require_chapter(view.book, chapter)
        step = plan.step_for_chapter(chapter)
    elif step_number is not None:
        step = next((s for s in plan.steps if s.number == step_number), None)
    else:
        step = plan.current_step(now) or (plan.steps[-1] if plan.steps else None)
    if step is None:
        raise InvalidInput("This plan has no steps to reflect on.")
    return step


def _own(
    uow: Unit, team_id: str, user_id: str, reflection_id: int, now: datetime
) -> tuple[Reflection, PlanView]:
    """The caller's reflection by *their* number (#1 is their first), or a readable error."""
    missing = NotFound(f"You have no reflection #{reflection_id}. `/reflect list` shows yours.")
    workspace_id = uow.workspaces.ensure(team_id, now)
    # A number beyond the column's range would make the database raise, not find nothing.
    reflection = (
        uow.reflections.by_number(workspace_id, user_id, reflection_id)
        if 0 < reflection_id <= MAX_NUMBER
        else None
    )
    if reflection is None:
        raise missing
    plan = uow.plans.get(reflection.plan_id)
    assert plan is not None
    group = uow.groups.by_id(plan.group_id)
    book = uow.books.get(plan.book_id)
    assert book is not None
    return reflection, PlanView(plan, book, group)
