"""Reflections: write, edit, delete and list one's own; progress; reminder and quote settings.

Every change ends with :class:`~bot.services.echoes.EchoService`, which makes the step's
thread agree with the reflection (shared and posted: shown; otherwise: not). Members
refer to their reflections by their own numbers (#1 is their first), never by ids.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from bot.domain.markup import Names, mentioned, to_plain
from bot.domain.model import (
    Draft,
    Member,
    Pair,
    Plan,
    PlanState,
    Progress,
    Reflection,
    Step,
    StepState,
    Visibility,
)
from bot.domain.privacy import check_visibility, default_visibility, visibility_choices
from bot.domain.quotes import SourceMessage, may_copy, quoted, with_source
from bot.domain.reflections import (
    MAX_REFLECTION_CHARS,
    NO_REFLECTIONS,
    clean_text,
    progress,
    split_text,
)
from bot.domain.text import clean
from bot.services.books import require_chapter
from bot.services.echoes import EchoService
from bot.services.plans import PlanView, latest_view, plan_of_step, running_view
from bot.services.ports import Clock, Directory, Notifier, Unit, UnitOfWork

MAX_NUMBER = 2**31 - 1  # reflections.number is an INTEGER column
#: Drafts (text kept while the bot asks something) are forgotten after this long.
DRAFT_LIFETIME = timedelta(days=7)

NO_AUTHOR = InvalidInput("Slack did not say who you are; please try again.")


@dataclass(frozen=True, slots=True)
class SavedReflection:
    reflection: Reflection
    view: PlanView
    step: Step
    echoed: bool = False  # it shows in the step's thread now
    late: bool = False  # written on a plan that has finished
    # Who the author may address it to (a mentee in their pair: also the mentor).
    choices: tuple[Visibility, ...] = (Visibility.SHARED, Visibility.PRIVATE)


@dataclass(frozen=True, slots=True)
class MessageToSave:
    """A message a member chose to save as a reflection, as Slack sent it (its text in
    Slack's markup, with entities)."""

    channel_id: str
    ts: str
    author_id: str | None  # None: a bot's or an app's message
    text: str


@dataclass(frozen=True, slots=True)
class FromMessageForm:
    """The reflection form for a saved message: its plan and step, who it may be for,
    the message, whether its words go in, and what to tell the member."""

    view: PlanView
    step: Step
    choices: tuple[Visibility, ...]
    source: SourceMessage
    copy: bool  # someone else's words, quoted (they agreed to be quoted)
    own_text: str | None  # the member's own message: their words, to edit
    note: str | None  # why the message's words are left out


@dataclass(frozen=True, slots=True)
class Deleted:
    reflection: Reflection
    undo_draft_id: int | None  # a draft that restores it, with one click


class ReflectionService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        notifier: Notifier | None = None,
        directory: Directory | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.echoes = EchoService(uow, clock, notifier)
        self.directory = directory

    # ------------------------------------------------------------------ writing

    def write(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        text: str,
        *,
        chapter: int | None = None,
        visibility: Visibility | None = None,
        step_id: int | None = None,
        step_number: int | None = None,
        echo: bool = False,
        number: int | None = None,
        source: SourceMessage | None = None,
    ) -> SavedReflection:
        """Save a reflection on ``chapter``, on step ``step_id`` (a Reflect button's step),
        or on the step being read in the channel now.

        A finished plan still takes reflections (people finish books late); only when the
        channel has never read anything is there nothing to reflect on. With ``echo`` the
        step's thread is brought in line at once; without, :meth:`publish` does it later
        (a form's answer must not wait for Slack).

        ``source``: the message it was saved from ("Save as reflection"), quoted after the
        member's words if its author agrees to be quoted (asked again now), else linked.
        """
        if not user_id:
            raise NO_AUTHOR
        now = self.clock.now()
        cleaned = clean_text(text) if source is None else ""
        with self.uow() as uow:
            if source is not None:
                quotable = uow.members.quotable(uow.workspaces.ensure(team_id, now))
                own = clean(text)
                copy = may_copy(source, user_id, quotable)
                if not own and not copy:
                    raise InvalidInput("Write something first.", field="text")
                cleaned = clean_text(with_source(own, source, copy))
            view = _plan_for(uow, team_id, channel_id, step_id, now)
            step = _step_for(view, chapter, step_id, step_number, now)
            pair = _pair_of(uow, view)
            chosen = visibility or default_visibility(pair, user_id)
            check_visibility(chosen, pair, user_id)
            reflection = uow.reflections.add(
                Reflection(
                    workspace_id=view.group.workspace_id,
                    plan_id=_id(view.plan.id),
                    step_number=step.number,
                    chapter=chapter,
                    author_id=user_id,
                    text=cleaned,
                    visibility=chosen,
                    created_at=now,
                    number=number,
                )
            )
            uow.members.ensure(view.group.workspace_id, user_id, now)
            uow.commit()
        echoed = self.echoes.sync(_id(reflection.id)) if echo else False
        return SavedReflection(
            reflection,
            view,
            step,
            echoed,
            late=view.plan.state is PlanState.FINISHED,
            choices=visibility_choices(pair, user_id),
        )

    def publish(self, team_id: str, user_id: str, number: int) -> SavedReflection:
        """Make the step's thread agree with reflection #``number`` (after a form saved it)."""
        found = self.get_own(team_id, user_id, number)
        echoed = self.echoes.sync(_id(found.reflection.id))
        return replace(found, echoed=echoed)

    def form_target(
        self, team_id: str, channel_id: str, user_id: str, step_id: int | None = None
    ) -> tuple[PlanView, Step, tuple[Visibility, ...]]:
        """The plan and step a new reflection's form is for (the button's step, or the
        step the channel is reading, or last read when the plan has finished), and who
        the member may address it to, the default first."""
        now = self.clock.now()
        with self.uow() as uow:
            view = _plan_for(uow, team_id, channel_id, step_id, now)
            pair = _pair_of(uow, view)
            return (
                view,
                _step_for(view, None, step_id, None, now),
                visibility_choices(pair, user_id),
            )

    def form_from_message(
        self, team_id: str, channel_id: str, user_id: str, message: MessageToSave
    ) -> FromMessageForm:
        """The reflection form for "Save as reflection" on a message of a group's channel
        (or a pair's conversation): the message as a person reads it, with its author
        and a link; whether its words may go in (the author's consent to be quoted; the
        member's own words always), and the plan and step it is for."""
        view, step, choices = self.form_target(team_id, channel_id, user_id)
        directory = self.directory
        users, channels = mentioned(message.text)
        author = message.author_id
        people = sorted(users | ({author} if author else set()))
        user_names = directory.user_names(people) if directory and people else {}
        channel_names = {c: directory.channel_name(c) for c in channels} if directory else {}
        plain = to_plain(message.text, Names(user_names, channel_names))
        name = user_names.get(author) if author else None
        source = SourceMessage(
            channel_id=channel_id,
            ts=message.ts,
            author_id=author,
            text=quoted(plain),
            permalink=directory.permalink(channel_id, message.ts) if directory else None,
            author_name=name if name and name != author else None,
        )
        if source.mine(user_id):
            return FromMessageForm(
                view, step, choices, replace(source, text=""), False, plain, None
            )
        with self.uow() as uow:
            quotable = uow.members.quotable(uow.workspaces.ensure(team_id, self.clock.now()))
        if may_copy(source, user_id, quotable):
            return FromMessageForm(view, step, choices, source, True, None, None)
        who = source.author_name or "Its author"
        note = (
            "I don't copy messages of bots and apps (mine may hold someone's reflection): "
            "your reflection keeps a link to the message, and your own words."
            if author is None
            else f"{who} has not agreed to be quoted (`/reflect quotable on`), so their "
            "words are left out: your reflection keeps a link to the message, and your "
            "own words."
        )
        # Their words do not even travel in the form.
        return FromMessageForm(view, step, choices, replace(source, text=""), False, None, note)

    def default_choice(self, team_id: str, channel_id: str, user_id: str) -> Visibility:
        """What a reflection of the member's is here when they do not say (shared in a
        group, for the mentor in their pair); shared where nothing is being read."""
        try:
            return self.form_target(team_id, channel_id, user_id)[2][0]
        except DomainError:
            return Visibility.SHARED

    def write_parts(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        text: str,
        *,
        chapter: int | None = None,
        visibility: Visibility | None = None,
        step_id: int | None = None,
        echo: bool = False,
    ) -> list[SavedReflection]:
        """A text over the limit, saved as consecutive reflections ("(1/2)", "(2/2)")."""
        return [
            self.write(
                team_id,
                channel_id,
                user_id,
                part,
                chapter=chapter,
                visibility=visibility,
                step_id=step_id,
                echo=echo,
            )
            for part in _parts(text)
        ]

    def edit_parts(
        self,
        team_id: str,
        user_id: str,
        number: int,
        text: str,
        visibility: Visibility | None = None,
        *,
        chapter: int | None = None,
        echo: bool = False,
    ) -> list[SavedReflection]:
        """An edit over the limit, saved in parts: reflection #``number`` takes the first,
        the others follow as new reflections on its step, chapter and visibility."""
        first, *others = _parts(text)
        edited = self.edit(team_id, user_id, number, first, visibility, chapter=chapter, echo=echo)
        return [
            edited,
            *(
                self.write(
                    team_id,
                    edited.view.group.channel_id,
                    user_id,
                    part,
                    chapter=edited.reflection.chapter,
                    visibility=edited.reflection.visibility,
                    step_id=edited.step.id,
                    echo=echo,
                )
                for part in others
            ),
        ]

    def edit(
        self,
        team_id: str,
        user_id: str,
        number: int,
        text: str | None = None,
        visibility: Visibility | None = None,
        *,
        chapter: int | None = None,
        whole_step: bool = False,
        echo: bool = False,
    ) -> SavedReflection:
        """Change one's own reflection #``number``: text, visibility, chapter (or the whole
        step it is on, with ``whole_step``). Only what is given changes."""
        cleaned = clean_text(text) if text is not None else None
        now = self.clock.now()
        with self.uow() as uow:
            reflection, view = _own(uow, team_id, user_id, number, now)
            old_step, old_echo = reflection.step_number, reflection.message_ts
            old_mentor_copy = reflection.mentor_copy
            choices = visibility_choices(_pair_of(uow, view), user_id)
            changed = False
            if cleaned is not None and cleaned != reflection.text:
                reflection.text = cleaned
                reflection.edit_count += 1
                changed = True
            if visibility is not None and visibility is not reflection.visibility:
                check_visibility(visibility, _pair_of(uow, view), user_id)
                reflection.visibility = visibility
                changed = True
            if chapter is not None and chapter != reflection.chapter:
                require_chapter(view.book, chapter)
                target = view.plan.step_for_chapter(chapter)
                assert target is not None
                reflection.chapter, reflection.step_number = chapter, target.number
                changed = True
            elif whole_step and reflection.chapter is not None:
                reflection.chapter = None
                changed = True
            if changed:
                reflection.updated_at = now
                uow.reflections.save_content(reflection)
                # Posted digests may quote the old words: they are re-rendered.
                uow.plans.quotes_changed([reflection.plan_id], now)
                uow.commit()
        if reflection.step_number != old_step:
            self.echoes.move(_id(reflection.id), view.group.channel_id, old_echo)
        if not echo and reflection.visibility is not Visibility.SHARED and old_echo:
            echo = True  # no longer shared: its copy leaves the thread now, never later
        if not echo and reflection.visibility is not Visibility.MENTOR and old_mentor_copy:
            echo = True  # no longer for the mentor: their copy is taken back now
        echoed = self.echoes.sync(_id(reflection.id)) if echo else bool(old_echo)
        step = view.plan.step(reflection.step_number)
        return SavedReflection(
            reflection,
            view,
            step,
            echoed,
            late=view.plan.state is PlanState.FINISHED,
            choices=choices,
        )

    def mark_echoed(self, reflection_id: int, message_ts: str | None) -> None:
        """Record where a reflection's thread copy is (or that it is gone), by its id."""
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

    def delete(self, team_id: str, user_id: str, number: int) -> Reflection:
        """Delete one's reflection #``number`` (its thread copy first)."""
        return self.delete_with_undo(team_id, user_id, number, keep=False).reflection

    def delete_with_undo(
        self,
        team_id: str,
        user_id: str,
        number: int,
        channel_id: str | None = None,
        *,
        keep: bool = True,
    ) -> Deleted:
        """Delete one's reflection #``number``; what it was is kept as a draft for a week,
        so one click can undo it (:meth:`write` with its ``number``)."""
        with self.uow() as uow:
            reflection, view = _own(uow, team_id, user_id, number, self.clock.now())
        self.echoes.remove(reflection, view.group.channel_id)
        step = next((s for s in view.plan.steps if s.number == reflection.step_number), None)
        with self.uow() as uow:
            uow.reflections.delete(_id(reflection.id))
            uow.plans.quotes_changed([reflection.plan_id], self.clock.now())
            uow.commit()
        if not keep:
            return Deleted(reflection, None)
        undo = self.keep_draft(
            team_id,
            user_id,
            channel_id or view.group.channel_id,
            reflection.text,
            chapter=reflection.chapter,
            visibility=reflection.visibility,
            step_id=step.id if step else None,
            reflection_number=number,
        )
        return Deleted(reflection, undo.id)

    # ------------------------------------------------------------------ reading

    def get_own(self, team_id: str, user_id: str, number: int) -> SavedReflection:
        with self.uow() as uow:
            reflection, view = _own(uow, team_id, user_id, number, self.clock.now())
            step = view.plan.step(reflection.step_number)
            return SavedReflection(
                reflection,
                view,
                step,
                echoed=bool(reflection.message_ts),
                late=view.plan.state is PlanState.FINISHED,
                choices=visibility_choices(_pair_of(uow, view), user_id),
            )

    def latest_own(self, team_id: str, user_id: str) -> SavedReflection:
        mine = self.list_own(team_id, user_id)
        if not mine:
            raise NotFound(NO_REFLECTIONS)
        return self.get_own(team_id, user_id, _number(mine[-1]))

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

    def list_with_titles(
        self, team_id: str, user_id: str
    ) -> tuple[list[Reflection], dict[int, str]]:
        """The caller's reflections across the workspace, and each plan's book title (so
        a list that spans books says which is which)."""
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            found = list(uow.reflections.by_author(workspace_id, user_id))
            titles = book_titles(uow, {r.plan_id for r in found})
            uow.commit()
            return found, titles

    def progress(self, team_id: str, channel_id: str, user_id: str) -> Progress:
        now = self.clock.now()
        with self.uow() as uow:
            view = running_view(uow, team_id, channel_id, now)
            mine = uow.reflections.for_plan(_id(view.plan.id), author_id=user_id)
            return progress(view.plan, user_id, mine, view.book.chapter_count, now)

    def group_progress(self, team_id: str, channel_id: str) -> tuple[PlanView, list[Progress]]:
        """The channel's plan and everyone's progress on it, best first.

        Others see this, so only shared reflections count: a private one stays invisible,
        even as a number.
        """
        now = self.clock.now()
        with self.uow() as uow:
            view = latest_view(uow, team_id, channel_id, now)  # a finished book too
            shared = [
                r
                for r in uow.reflections.for_plan(_id(view.plan.id))
                if r.visibility is Visibility.SHARED
            ]
            authors = sorted({r.author_id for r in shared})
            rows = [progress(view.plan, a, shared, view.book.chapter_count, now) for a in authors]
            return view, sorted(rows, key=lambda p: (-p.chapters_reflected, p.user_id))

    # ------------------------------------------------------------------ settings

    def set_member_flags(
        self, team_id: str, user_id: str, *, muted: bool | None = None, quotable: bool | None = None
    ) -> Member:
        if not user_id:
            raise NO_AUTHOR
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            member = uow.members.ensure(workspace_id, user_id, now)
            if muted is not None:
                member.reminders_muted = muted
            if quotable is not None:
                if member.quotable and not quotable:
                    # No digest may go on quoting them: posted ones are re-rendered.
                    uow.plans.quotes_changed_in_workspace(workspace_id, now)
                member.quotable = quotable
            uow.members.save(member)
            uow.commit()
            return member

    # ------------------------------------------------------------------ drafts

    def keep_draft(
        self,
        team_id: str,
        user_id: str,
        channel_id: str,
        text: str,
        *,
        chapter: int | None = None,
        visibility: Visibility | None = None,
        step_id: int | None = None,
        reflection_number: int | None = None,
    ) -> Draft:
        """Keep a member's words while the bot asks them something about them."""
        if not user_id:
            raise NO_AUTHOR
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            draft = uow.drafts.add(
                Draft(
                    workspace_id=workspace_id,
                    user_id=user_id,
                    channel_id=channel_id,
                    text=clean(text),
                    created_at=now,
                    chapter=chapter,
                    step_id=step_id,
                    visibility=visibility,
                    reflection_number=reflection_number,
                )
            )
            uow.drafts.purge(now - DRAFT_LIFETIME)
            uow.commit()
            return draft

    def draft(self, team_id: str, user_id: str, draft_id: int) -> Draft:
        """The caller's draft, or a readable error (someone else's looks like a missing one)."""
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, self.clock.now())
            found = uow.drafts.get(draft_id) if 0 < draft_id <= MAX_NUMBER else None
            if found is None or found.user_id != user_id or found.workspace_id != workspace_id:
                raise NotFound(
                    "That question has expired or was already answered. Type your reflection "
                    "again, or use `/reflect` for a form."
                )
            return found

    def take_draft(self, team_id: str, user_id: str, draft_id: int) -> Draft:
        """Use the caller's draft up: only the first of two quick clicks gets it."""
        found = self.draft(team_id, user_id, draft_id)
        with self.uow() as uow:
            taken = uow.drafts.take(_id(found.id))
            uow.commit()
        if not taken:
            raise Conflict("That was already saved.")
        return replace(found)


# ---------------------------------------------------------------------- helpers


def _parts(text: str) -> list[str]:
    """A text over the limit cut into reflections, each marked "(1/2)", "(2/2)"."""
    parts = split_text(clean(text), MAX_REFLECTION_CHARS - 8)
    total = len(parts)
    return [f"{part} ({n}/{total})" if total > 1 else part for n, part in enumerate(parts, 1)]


def book_titles(uow: Unit, plan_ids: set[int]) -> dict[int, str]:
    """plan id → its book's title."""
    plans = uow.plans.many(sorted(plan_ids))
    books = {b.id: b.title for b in uow.books.many(sorted({p.book_id for p in plans}))}
    return {p.id: books.get(p.book_id, "") for p in plans if p.id is not None}


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("entity has not been stored")
    return value


def _number(reflection: Reflection) -> int:
    if reflection.number is None:
        raise ValueError("reflection has no number")
    return reflection.number


def _pair_of(uow: Unit, view: PlanView) -> Pair | None:
    """The pair whose conversation the plan is read in, if it is a pair's."""
    return uow.pairs.latest_for_channel(view.group.workspace_id, view.group.channel_id)


def _plan_for(
    uow: Unit, team_id: str, channel_id: str, step_id: int | None, now: datetime
) -> PlanView:
    """The plan a new reflection belongs to: its step's (a button), the channel's running
    one, or the channel's latest finished one (late reflections are welcome)."""
    if step_id is None:
        return latest_view(uow, team_id, channel_id, now)
    plan = plan_of_step(uow, team_id, step_id, now)
    group = uow.groups.by_id(plan.group_id)
    if plan.state is PlanState.CANCELLED:
        raise Conflict("That reading plan was cancelled, so it takes no reflections.")
    book = uow.books.get(plan.book_id)
    assert book is not None
    return PlanView(plan, book, group)


def _step_for(
    view: PlanView,
    chapter: int | None,
    step_id: int | None,
    step_number: int | None,
    now: datetime,
) -> Step:
    plan: Plan = view.plan
    step: Step | None
    if chapter is not None:
        require_chapter(view.book, chapter)
        step = plan.step_for_chapter(chapter)
    elif step_id is not None:
        step = next((s for s in plan.steps if s.id == step_id), None)
    elif step_number is not None:
        step = next((s for s in plan.steps if s.number == step_number), None)
    elif plan.state is PlanState.FINISHED:
        posted = [s for s in plan.steps if s.state is StepState.POSTED]
        step = max(posted or plan.steps, key=lambda s: s.number, default=None)
    else:
        step = plan.current_step(now) or (plan.steps[-1] if plan.steps else None)
    if step is None:
        raise InvalidInput("This plan has no steps to reflect on.")
    return step


def _own(
    uow: Unit, team_id: str, user_id: str, number: int, now: datetime
) -> tuple[Reflection, PlanView]:
    """The caller's reflection by *their* number (#1 is their first), or a readable error."""
    missing = NotFound(f"You have no reflection #{number}. `/reflect list` shows yours.")
    workspace_id = uow.workspaces.ensure(team_id, now)
    # A number beyond the column's range would make the database raise, not find nothing.
    reflection = (
        uow.reflections.by_number(workspace_id, user_id, number)
        if 0 < number <= MAX_NUMBER
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
