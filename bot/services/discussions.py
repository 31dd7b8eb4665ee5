"""Capturing prompt threads from the Events API, exactly once per event.

Each event is applied in one transaction that also records its ``event_id``: a retried
delivery finds the id taken and changes nothing, and a delivery that failed halfway left
nothing behind, so its retry applies it in full. Messages are also unique per
(channel, ts), so the same message under two event ids is stored once.
"""

from __future__ import annotations

import logging

from bot.domain.discussions import MessageChange, MessageEvent, ReactionEvent, edit_applies
from bot.services.ports import Clock, UnitOfWork

logger = logging.getLogger(__name__)


class DiscussionService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def record_message(self, event: MessageEvent) -> bool:
        """Apply a message, edit or deletion. Returns whether anything was stored or changed.

        Only messages in a prompt's thread are kept (privacy), unless the group opted in
        to keeping its whole channel.
        """
        now = self.clock.now()
        with self.uow() as uow:
            if not uow.discussions.claim_event(event.event_id, now):
                return False
            changed = False
            if event.change is MessageChange.POSTED:
                target = uow.discussions.where_to_keep(event.channel_id, event.thread_ts)
                if target is not None:
                    workspace_id, step_id = target
                    changed = uow.discussions.add_message(workspace_id, step_id, event, now)
            elif event.change is MessageChange.EDITED:
                stored = uow.discussions.message(event.channel_id, event.ts)
                if edit_applies(stored, event):
                    changed = uow.discussions.edit_message(
                        event.channel_id, event.ts, event.text, now
                    )
                elif stored is not None and stored.deleted_at is None:
                    logger.warning(
                        "ignored an edit of %s/%s naming another user than its author",
                        event.channel_id,
                        event.ts,
                    )
            else:
                changed = uow.discussions.delete_message(event.channel_id, event.ts, now)
            if changed and event.change is not MessageChange.POSTED:
                # An edited or deleted reply: digests quoting it are re-rendered.
                plan_id = uow.discussions.plan_of(event.channel_id, event.ts)
                if plan_id is not None:
                    uow.plans.quotes_changed([plan_id], now)
            uow.commit()
            return changed

    def record_reaction(self, event: ReactionEvent) -> bool:
        """Count a reaction on a stored reply, a prompt or a reflection in a prompt thread."""
        now = self.clock.now()
        with self.uow() as uow:
            if not uow.discussions.claim_event(event.event_id, now):
                return False
            changed = uow.discussions.tracked(event.channel_id, event.ts) and uow.discussions.react(
                event, now
            )
            uow.commit()
            return changed
