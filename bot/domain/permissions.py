"""Who may manage a plan."""

from __future__ import annotations

from bot.domain.errors import PermissionDenied
from bot.domain.model import Caller, Plan


def can_manage(plan: Plan, caller: Caller) -> bool:
    return caller.is_admin or caller.user_id == plan.host_user_id


def require_manager(plan: Plan, caller: Caller, action: str) -> None:
    if not can_manage(plan, caller):
        raise PermissionDenied(f"Only the plan's host or an admin can {action} this plan.")
