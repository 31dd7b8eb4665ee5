"""Who may see a member's words: the privacy rules, each one function, used everywhere.

- A reflection is seen by its author; a shared one by the group; one written for the
  mentor by the author and the mentor of their pair, nobody else.
- A reflection shows in its step's thread only when it is shared and the prompt is out.
- A reflection written for the mentor reaches the mentor's DM while the pair is active;
  only then can the two talk about it.
- A member's words are quoted (digest highlights and themes, other members' exports, the
  admin's record) only with their consent: `/reflect quotable on`, off by default.
- A reflection counts as late when written after its step's reading period closed.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.domain import timeline
from bot.domain.errors import InvalidInput
from bot.domain.model import Pair, PairState, Plan, Reflection, Role, Step, StepState, Visibility


def shows_in_thread(reflection: Reflection, step: Step) -> bool:
    """Shared reflections, once their step's prompt has been posted; never private ones."""
    return (
        reflection.visibility is Visibility.SHARED
        and step.state is StepState.POSTED
        and step.message_ts is not None
    )


def may_quote(author_id: str, quotable: Collection[str]) -> bool:
    """Consent: a member's words are reproduced by digests and other members' exports only
    if they turned `/reflect quotable on` (``quotable`` holds their ids). Off by default."""
    return author_id in quotable


def written_late(plan: Plan, reflection: Reflection) -> bool:
    """Was ``reflection`` written after its step's reading period had closed?"""
    try:
        step = plan.step(reflection.step_number)
    except KeyError:
        return False
    return reflection.created_at >= timeline.step_deadline(plan, step)


def may_see(reflection: Reflection, viewer: str, pair: Pair | None) -> bool:
    """Can ``viewer`` read ``reflection``? ``pair``: the pair whose conversation it is in."""
    if viewer == reflection.author_id:
        return True
    if reflection.visibility is Visibility.SHARED:
        return True
    return (
        reflection.visibility is Visibility.MENTOR
        and pair is not None
        and pair.mentee_id == reflection.author_id
        and pair.mentor_id == viewer
    )


def shows_to_mentor(reflection: Reflection, pair: Pair | None) -> bool:
    """Does the reflection belong in the mentor's DM (written for them, pair active)?"""
    return (
        reflection.visibility is Visibility.MENTOR
        and pair is not None
        and pair.state is PairState.ACTIVE
        and pair.mentee_id == reflection.author_id
    )


def may_discuss(reflection: Reflection, pair: Pair | None, user_id: str) -> bool:
    """May ``user_id`` add to the private conversation on ``reflection``? Only the two of
    an active pair, only on what the mentee shows the mentor (for them, or shared)."""
    return (
        pair is not None
        and pair.state is PairState.ACTIVE
        and pair.role_of(user_id) is not None
        and reflection.author_id == pair.mentee_id
        and reflection.visibility in (Visibility.MENTOR, Visibility.SHARED)
    )


def default_visibility(pair: Pair | None, author_id: str) -> Visibility:
    """What a reflection is when the member does not say: for the mentor, when a mentee
    writes in their pair's conversation; shared, anywhere else."""
    if (
        pair is not None
        and pair.state is PairState.ACTIVE
        and pair.role_of(author_id) is Role.MENTEE
    ):
        return Visibility.MENTOR
    return Visibility.SHARED


def counts_as_activity(reflection: Reflection) -> bool:
    """Is the reflection something the programme's admin may count? Never a private one."""
    return reflection.visibility is not Visibility.PRIVATE


def visibility_choices(pair: Pair | None, author_id: str) -> tuple[Visibility, ...]:
    """Who a member may address a reflection to: the mentee of an active pair may also
    write for their mentor."""
    if (
        pair is not None
        and pair.state is PairState.ACTIVE
        and pair.role_of(author_id) is Role.MENTEE
    ):
        return (Visibility.MENTOR, Visibility.SHARED, Visibility.PRIVATE)
    return (Visibility.SHARED, Visibility.PRIVATE)


def check_visibility(visibility: Visibility, pair: Pair | None, author_id: str) -> None:
    """Refuse "for my mentor" where the member has no mentor to write for."""
    if visibility not in visibility_choices(pair, author_id):
        raise InvalidInput(
            "“For my mentor” is for a mentee writing in their mentoring pair's conversation. "
            "Here, use `private:` (only you) or `shared:` (the group).",
            field="visibility",
        )
