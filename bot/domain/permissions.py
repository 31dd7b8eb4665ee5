"""Who may manage a plan."""

from __future__ import annotations

from bot.domain.errors import PermissionDenied
from bot.domain.model import Caller, Pair, PairState, Plan


def can_manage(plan: Plan, caller: Caller, pair: Pair | None = None) -> bool:
    """The host, an admin, or, in a mentoring pair's conversation, either of the two."""
    in_pair = (
        pair is not None
        and pair.state is PairState.ACTIVE
        and pair.role_of(caller.user_id) is not None
    )
    return caller.is_admin or caller.user_id == plan.host_user_id or in_pair


def require_manager(plan: Plan, caller: Caller, action: str, pair: Pair | None = None) -> None:
    if not can_manage(plan, caller, pair):
        raise PermissionDenied(f"Only the plan's host or an admin can {action} this plan.")
