"""Who may see a member's words: the privacy rules, each one function, used everywhere.

- A reflection shows in its step's thread only when it is shared and the prompt is out.
- A member's words are quoted (digest highlights and themes, other members' exports, the
  admin's record) only with their consent: `/reflect quotable on`, off by default.
- A reflection counts as late when written after its step's reading period closed.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.domain import timeline
from bot.domain.model import Plan, Reflection, Step, StepState, Visibility


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
