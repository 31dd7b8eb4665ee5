"""A reflection's copies: in its step's thread, and in a mentor's DM. The one place that
decides them.

Writing, editing, deleting a reflection and posting a step's prompt all end here. The
thread shows a reflection exactly when it is shared and its step's prompt is posted; the
mentor's DM holds it exactly when the mentee wrote it for the mentor of an active pair.
Who posts a copy is a database fact: the reflection's ``message_ts`` (``mentor_copy``)
is claimed with a compare-and-set (``pending:…``) before posting, so a reflection written
just as its prompt goes out is echoed once, not twice. Privacy wins every race: after
posting, the reflection is read again, and a copy it should no longer have is taken back
(deleted from the thread; in the mentor's DM, replaced by a line saying so).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.model import Pair, Reflection, Step
from bot.domain.notes import MentorCopy, MentorCopyWithdrawn, MessageRef
from bot.domain.privacy import shows_in_thread, shows_to_mentor
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
    pair: Pair | None = None
    book_title: str = ""


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
        """Make the thread and the mentor's DM agree with the reflection; True if it shows
        in the thread now."""
        if self._notifier is None:
            return False
        target = self._load(reflection_id)
        if target is None:
            return False
        self._sync_mentor(target)
        return self._sync_thread(target)

    def _sync_thread(self, target: _Target) -> bool:
        reflection, step, channel = target.reflection, target.step, target.channel_id
        reflection_id = _id(reflection)
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
        """Take a reflection's copies back (before the reflection itself is deleted)."""
        if self._notifier is None or reflection.id is None:
            return
        if reflection.message_ts:
            self._remove(reflection.id, channel_id, reflection.message_ts)
        if reflection.mentor_copy:
            self._withdraw(reflection, reflection.mentor_copy)

    def mark_read(self, reflection_id: int) -> None:
        """The mentor's copy shows it was read (no Mark read button left)."""
        target = self._load(reflection_id)
        if self._notifier is not None and target is not None:
            self._sync_mentor(target)

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
            group = uow.groups.by_id(plan.group_id)
            pair = uow.pairs.latest_for_channel(group.workspace_id, group.channel_id)
            book = uow.books.get(plan.book_id)
            return _Target(reflection, step, group.channel_id, pair, book.title if book else "")

    # --- the mentor's copy ----------------------------------------------------------------

    def _sync_mentor(self, target: _Target) -> None:
        reflection, pair = target.reflection, target.pair
        current = reflection.mentor_copy
        if not shows_to_mentor(reflection, pair):
            if current and not self._is_fresh_claim(current):
                self._withdraw(reflection, current)
            return
        assert pair is not None
        note = MentorCopy(
            reflection, target.step, target.book_title, read=reflection.mentor_read_at is not None
        )
        if current is None or (current.startswith(PENDING) and not self._is_fresh_claim(current)):
            self._send_mentor_copy(target, pair, note, expected=current)
            return
        ref = MessageRef.parse(current)
        if ref is None:
            return  # another process is sending it right now
        try:
            self.notifier.update_note(ref, note)
        except DeliveryFailed as exc:
            logger.warning("mentor's copy of %s not updated: %s", reflection.id, exc.reason)

    def _send_mentor_copy(
        self, target: _Target, pair: Pair, note: MentorCopy, expected: str | None
    ) -> None:
        reflection_id = _id(target.reflection)
        marker = self._claim_marker()
        if not self._swap_mentor(reflection_id, expected, marker):
            return  # someone else claimed it between our read and our claim
        try:
            ref = self.notifier.send_note(pair.mentor_id, note)
        except DeliveryFailed as exc:
            logger.warning("reflection %s not sent to the mentor: %s", reflection_id, exc.reason)
            self._swap_mentor(reflection_id, marker, None)
            return
        self._swap_mentor(reflection_id, marker, str(ref))
        after = self._load(reflection_id)  # privacy wins: taken back meanwhile?
        if after is None or not shows_to_mentor(after.reflection, after.pair):
            self._withdraw(target.reflection, str(ref))

    def _withdraw(self, reflection: Reflection, current: str) -> None:
        ref = MessageRef.parse(current)
        if ref is not None:
            try:
                self.notifier.update_note(
                    ref, MentorCopyWithdrawn(reflection.author_id, reflection.number)
                )
            except DeliveryFailed as exc:
                logger.warning("mentor's copy of %s not withdrawn: %s", reflection.id, exc.reason)
                if not exc.permanent:
                    return  # it may still show the words: try again on the next change
        self._swap_mentor(_id(reflection), current, None)

    def _swap_mentor(self, reflection_id: int, expected: str | None, new: str | None) -> bool:
        with self.uow() as uow:
            swapped = uow.reflections.swap_mentor_copy(reflection_id, expected, new)
            uow.commit()
            return swapped

    # --- the thread copy ------------------------------------------------------------------

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


def _id(reflection: Reflection) -> int:
    assert reflection.id is not None
    return reflection.id
