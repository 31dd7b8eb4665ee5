"""A shared reflection's copy in its step's thread: the one place that decides it.

Writing, editing, deleting a reflection and posting a step's prompt all end here. The
thread shows a reflection exactly when it is shared and its step's prompt is posted.
Who posts the copy is a database fact: the reflection's ``message_ts`` is claimed with
a compare-and-set (``pending:…``) before posting, so a reflection written just as its
prompt goes out is echoed once, not twice. Privacy wins every race: after posting, the
reflection is read again, and a copy of one that became private meanwhile is deleted.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.model import Reflection, Step
from bot.domain.privacy import shows_in_thread
from bot.services.ports import Clock, DeliveryFailed, Notifier, UnitOfWork

logger = logging.getLogger(__name__)

PENDING = "pending:"
#: A claim older than this was left by a process that died while posting the echo.
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class _Target:
    reflection: Reflection
    step: Step
    channel_id: str


class EchoService:
    """``notifier=None``: nothing reaches Slack (services used without a workspace)."""

    def __init__(self, uow: UnitOfWork, clock: Clock, notifier: Notifier | None) -> None:
        self.uow = uow
        self.clock = clock
        self._notifier = notifier

    @property
    def notifier(self) -> Notifier:
        assert self._notifier is not None
        return self._notifier

    def sync(self, reflection_id: int) -> bool:
        """Make the thread agree with the reflection; True if it shows there now."""
        if self._notifier is None:
            return False
        target = self._load(reflection_id)
        if target is None:
            return False
        reflection, step, channel = target.reflection, target.step, target.channel_id
        current = reflection.message_ts
        if not shows_in_thread(reflection, step):
            if current and not self._is_fresh_claim(current):
                self._remove(reflection_id, channel, current)
            return False
        if current is None or (current.startswith(PENDING) and not self._is_fresh_claim(current)):
            return self._post(target, expected=current)
        if current.startswith(PENDING):
            return True  # another process is posting it right now
        try:
            self.notifier.update_reflection(channel, current, reflection, step)
        except DeliveryFailed as exc:
            logger.warning("echo of reflection %s not updated: %s", reflection_id, exc.reason)
        return True

    def remove(self, reflection: Reflection, channel_id: str) -> None:
        """Delete a reflection's thread copy (before the reflection itself is deleted)."""
        if self._notifier is not None and reflection.id is not None and reflection.message_ts:
            self._remove(reflection.id, channel_id, reflection.message_ts)

    def move(self, reflection_id: int, channel_id: str, old_ts: str | None) -> None:
        """The reflection moved to another step: its copy leaves the old thread."""
        if self._notifier is not None and old_ts and not old_ts.startswith(PENDING):
            self._remove(reflection_id, channel_id, old_ts)

    # ------------------------------------------------------------------ internals

    def _load(self, reflection_id: int) -> _Target | None:
        with self.uow() as uow:
            reflection = uow.reflections.get(reflection_id)
            if reflection is None:
                return None
            plan = uow.plans.get(reflection.plan_id)
            if plan is None:
                return None
            step = plan.step(reflection.step_number)
            channel = uow.groups.by_id(plan.group_id).channel_id
            return _Target(reflection, step, channel)

    def _claim_marker(self) -> str:
        return f"{PENDING}{int(self.clock.now().timestamp())}:{uuid.uuid4().hex[:6]}"

    def _is_fresh_claim(self, value: str) -> bool:
        if not value.startswith(PENDING):
            return False
        try:
            claimed = int(value.split(":")[1])
        except (IndexError, ValueError):
            return False
        age = self.clock.now() - datetime.fromtimestamp(claimed, tz=UTC)
        return age < STALE_CLAIM

    def _swap(self, reflection_id: int, expected: str | None, new: str | None) -> bool:
        with self.uow() as uow:
            swapped = uow.reflections.swap_echo(reflection_id, expected, new)
            uow.commit()
            return swapped

    def _post(self, target: _Target, expected: str | None) -> bool:
        reflection_id = target.reflection.id
        assert reflection_id is not None and target.step.message_ts is not None
        marker = self._claim_marker()
        if not self._swap(reflection_id, expected, marker):
            return True  # someone else claimed it between our read and our claim
        try:
            ts = self.notifier.post_reflection(
                target.channel_id, target.step.message_ts, target.reflection, target.step
            )
        except DeliveryFailed as exc:
            logger.warning("reflection %s not echoed: %s", reflection_id, exc.reason)
            self._swap(reflection_id, marker, None)
            return False
        self._swap(reflection_id, marker, ts)
        # Privacy wins every race: made private (or deleted) while we were posting?
        after = self._load(reflection_id)
        if after is None or not shows_in_thread(after.reflection, after.step):
            self._remove(reflection_id, target.channel_id, ts)
            return False
        return True

    def _remove(self, reflection_id: int, channel_id: str, ts: str) -> None:
        if not ts.startswith(PENDING):
            self.notifier.delete_message(channel_id, ts)
        self._swap(reflection_id, ts, None)
