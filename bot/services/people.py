"""Names the bot has seen, kept for when it cannot ask Slack (an offline export).

Slash commands carry the member's ``user_name`` and the channel's ``channel_name``; they
are stored on the member and on the group (only a group that already reads, and never a
DM's placeholder name).
"""

from __future__ import annotations

import threading
from dataclasses import replace

from bot.services.ports import Clock, UnitOfWork

MAX_REMEMBERED = 100_000  # (member, channel) pairs held in memory at most

#: What Slack sends as ``channel_name`` where a conversation has no name of its own
#: (a group DM's is ``mpdm-alice--bob-1``).
PLACEHOLDER_CHANNEL_NAMES = frozenset({"directmessage", "privategroup"})


def is_placeholder(channel_name: str | None) -> bool:
    return channel_name in PLACEHOLDER_CHANNEL_NAMES or str(channel_name).startswith("mpdm")


class PeopleService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock
        # What this process already stored: most commands carry the same names again, and
        # a transaction per command would compete with acknowledgements for the CPU.
        self._known: set[tuple[str, str, str | None, str, str | None]] = set()
        self._lock = threading.Lock()

    def remember(
        self,
        team_id: str,
        user_id: str,
        user_name: str | None,
        channel_id: str,
        channel_name: str | None,
    ) -> None:
        """Keep the names a request carried, if they changed (one query when not)."""
        if not team_id or not user_id:
            return
        seen = (team_id, user_id, user_name, channel_id, channel_name)
        with self._lock:
            if seen in self._known:
                return
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            if user_name:
                member = uow.members.ensure(workspace_id, user_id, now)
                if member.display_name != user_name:
                    member.display_name = user_name
                    uow.members.save(member)
            group = None
            if channel_name and not is_placeholder(channel_name):
                group = uow.groups.get(workspace_id, channel_id)
                if group is not None and group.name != channel_name:
                    uow.groups.save(replace(group, name=channel_name))
            uow.commit()
        if group is None and not is_placeholder(channel_name):
            return  # the channel may start reading later: its name is kept then
        if len(self._known) < MAX_REMEMBERED:
            with self._lock:
                self._known.add(seen)
