"""Mentoring pairs: forming one, the private conversation on reflections, the agreement,
action items, publishing together, the programme's cohort view, and what is due.

Privacy is the product: what a pair writes for each other reaches only the two of them
(their DMs and their own conversation); the cohort view is counts and dates, never text.
Every state change is a conditional update in the database, so two clicks (or two
processes) never both act.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.domain import pace
from bot.domain import pairs as rules
from bot.domain import plans as plan_rules
from bot.domain.errors import Conflict, Duplicate, InvalidInput, NotFound, PermissionDenied
from bot.domain.export import member_post, slug
from bot.domain.markup import Names
from bot.domain.model import (
    ActionItem,
    Caller,
    Feedback,
    Pair,
    PairState,
    PlanState,
    PlanView,
    Publication,
    PublicationState,
    Reflection,
    Role,
)
from bot.domain.notes import (
    ActionAdded,
    AgreementNote,
    FeedbackNote,
    LookBackAsk,
    LookBackShared,
    Note,
    PairDeclined,
    PairEnded,
    PairExpired,
    PairInvite,
    PairWelcome,
    PublishDecided,
    PublishRequest,
    QuietPair,
)
from bot.domain.privacy import counts_as_activity, may_discuss
from bot.domain.reflections import MAX_REFLECTION_CHARS
from bot.domain.schedule import usable_zone
from bot.services.echoes import EchoService
from bot.services.ports import Clock, DeliveryFailed, Directory, Notifier, Unit, UnitOfWork

logger = logging.getLogger(__name__)

PAIR_ENDED = (
    "This pair has ended, so nothing in it can change; `/mentor actions` still lists its "
    "action items, and `/mentor @name` asks someone to be your mentor."
)
PUBLISH_ENDED = (
    "This pair has ended, so there is no mentor to approve a post. `/reflect export` makes "
    "one of your shared reflections; what you wrote for your mentor stays yours, in "
    "`/reflect list`."
)
NOT_IN_A_PAIR = (
    "This conversation is not a mentoring pair's. `/mentor @name` asks someone to be your "
    "mentor; `/mentor list` shows your pairs."
)


@dataclass(frozen=True, slots=True)
class PairPolicy:
    quiet_days: int = rules.DEFAULT_QUIET_DAYS
    admins: frozenset[str] = frozenset()  # who runs the mentoring programme


@dataclass(frozen=True, slots=True)
class CohortRow:
    """One pair as the programme's admin sees it: people, book, counts, dates. No text."""

    pair: Pair
    book_title: str | None
    steps_posted: int
    step_count: int
    reflections: int  # written for the mentor or shared; never private ones
    replies: int
    open_actions: int
    last_activity: datetime
    quiet_days: int
    quiet: bool


@dataclass(frozen=True, slots=True)
class Conversation:
    """A reflection written for the mentor and the private conversation on it."""

    pair: Pair
    reflection: Reflection
    book_title: str
    feedback: list[Feedback]


@dataclass(frozen=True, slots=True)
class PublishChoice:
    """What the mentee can put in a post: their reflections on the pair's book, and the
    mentor's replies on them."""

    pair: Pair
    view: PlanView
    reflections: list[Reflection]
    notes: list[Feedback]


@dataclass(frozen=True, slots=True)
class Approved:
    publication: Publication
    request: PublishRequest
    mentee_id: str
    sent: bool


class PairService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        notifier: Notifier,
        directory: Directory,
        policy: PairPolicy | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.directory = directory
        self.policy = policy or PairPolicy()
        self.echoes = EchoService(uow, clock, notifier)
        self._waking = _Waking()

    # ------------------------------------------------------------------ forming a pair

    def propose(self, team_id: str, asker: str, other: str, other_role: Role) -> Pair:
        """``asker`` asks ``other`` to be their mentor (or mentee); ``other`` gets a DM
        to accept or decline. Nothing is stored if the invitation cannot be sent."""
        rules.check_partner(asker, self.directory.person(other))
        mentee, mentor = rules.roles_for(asker, other, other_role)
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, now)
            existing = uow.pairs.open_between(workspace_id, asker, other)
            if existing is not None and self._expire(uow, existing, now):
                existing = None  # its week was over (its asker is told below)
            if existing is not None:
                name = self.directory.user_names([other]).get(other, "they")
                raise Conflict(_already(existing, name))
            try:
                pair = uow.pairs.add(
                    Pair(
                        workspace_id=workspace_id,
                        mentee_id=mentee,
                        mentor_id=mentor,
                        proposed_by=asker,
                        created_at=now,
                    )
                )
            except Duplicate as exc:  # the other asked at the same moment
                raise Conflict("You two have just been paired; `/mentor list` shows it.") from exc
            asker_role = Role.MENTEE if other_role is Role.MENTOR else Role.MENTOR
            try:
                self.notifier.send_note(other, PairInvite(pair, asker_role))
            except DeliveryFailed as exc:
                raise Conflict(
                    f"I couldn't send them the invitation ({exc.reason}); nothing was made. "
                    "Try again in a moment."
                ) from exc
            uow.commit()
        return pair

    def accept(self, team_id: str, user_id: str, pair_id: int) -> Pair:
        """The invited person accepts: the two get a group DM with the bot, their pair's
        own conversation, with a welcome there."""
        now = self.clock.now()
        with self.uow() as uow:
            pair = self._invited(uow, team_id, user_id, pair_id)
            if self._expire(uow, pair, now):
                raise Conflict(_answered(replace(pair, state=PairState.EXPIRED)))
        channel_id = self.notifier.open_conversation(pair.people)
        with self.uow() as uow:
            if self._busy_channel(uow, pair, channel_id):
                raise Conflict(
                    "You two already read together in another pair's conversation. Leave "
                    "that pair first (`/mentor leave` there)."
                )
            moved = uow.pairs.move(
                _id(pair.id),
                PairState.PROPOSED,
                PairState.ACTIVE,
                channel_id=channel_id,
                accepted_at=now,
            )
            uow.commit()
        if not moved:
            raise Conflict(_answered(self._get(pair_id)))
        accepted = replace(pair, state=PairState.ACTIVE, channel_id=channel_id, accepted_at=now)
        self._tell_channel(channel_id, PairWelcome(accepted))
        return accepted

    def decline(self, team_id: str, user_id: str, pair_id: int) -> Pair:
        with self.uow() as uow:
            pair = self._invited(uow, team_id, user_id, pair_id)
            if self._expire(uow, pair, self.clock.now()):
                raise Conflict(_answered(replace(pair, state=PairState.EXPIRED)))
            moved = uow.pairs.move(_id(pair.id), PairState.PROPOSED, PairState.DECLINED)
            uow.commit()
        if not moved:
            raise Conflict(_answered(self._get(pair_id)))
        declined = replace(pair, state=PairState.DECLINED)
        self._tell(pair.proposed_by, PairDeclined(declined))
        return declined

    def leave(self, team_id: str, user_id: str, channel_id: str) -> Pair:
        """End the pair of this conversation (or the member's only pair). Its running
        plan stops without a wrap-up; the other one is told privately."""
        now = self.clock.now()
        with self.uow() as uow:
            pair = self._pair_for(uow, team_id, user_id, channel_id)
            moved = uow.pairs.move(
                _id(pair.id), PairState.ACTIVE, PairState.ENDED, ended_at=now, ended_by=user_id
            )
            group = uow.groups.get(pair.workspace_id, pair.channel_id or "")
            running = uow.plans.running_for_group(group.id) if group and group.id else None
            if moved and running is not None:
                plan_rules.cancel(running, now)
                uow.plans.save(running)
            uow.commit()
        if not moved:
            raise Conflict("That pair has already ended.")
        ended = replace(pair, state=PairState.ENDED, ended_at=now, ended_by=user_id)
        self._tell(pair.partner_of(user_id), PairEnded(ended, user_id))
        return ended

    def pairs_of(self, team_id: str, user_id: str) -> list[Pair]:
        now = self.clock.now()
        with self.uow() as uow:
            return uow.pairs.for_user(uow.workspaces.ensure(team_id, now), user_id)

    def pair_here(self, team_id: str, channel_id: str) -> Pair | None:
        """The active pair whose conversation this is, if any."""
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(team_id, self.clock.now())
            return uow.pairs.active_for_channel(workspace_id, channel_id)

    def pair_of(self, team_id: str, user_id: str, channel_id: str) -> Pair:
        """The member's pair for this conversation (or their only one), or a clear no."""
        with self.uow() as uow:
            return self._pair_for(uow, team_id, user_id, channel_id)

    # ------------------------------------------------------------------ the agreement

    def save_agreement(
        self, team_id: str, user_id: str, pair_id: int, hopes: str | None, goals_text: str
    ) -> Pair:
        """Write (or change) the agreement; the other one is asked to agree to it. Only
        the mentee writes their hopes; either may write the goals."""
        goals = rules.clean_goals(goals_text)
        if not goals:
            raise InvalidInput("Write at least one goal (one per line).", field="goals")
        with self.uow() as uow:
            pair = self._member_pair(uow, team_id, user_id, pair_id)
            if pair.role_of(user_id) is Role.MENTEE and hopes is not None:
                pair.hopes = (
                    rules.clean_limited(hopes, rules.MAX_HOPES_CHARS, "your hopes", "hopes")
                    if hopes.strip()
                    else None
                )
            pair.goals, pair.goals_by, pair.goals_agreed_at = goals, user_id, None
            uow.pairs.save(pair)
            uow.commit()
        self._tell(pair.partner_of(user_id), AgreementNote(pair))
        return pair

    def agree(self, team_id: str, user_id: str, pair_id: int) -> Pair:
        """The other one agrees to the goals as written."""
        now = self.clock.now()
        with self.uow() as uow:
            pair = self._member_pair(uow, team_id, user_id, pair_id)
            if not pair.goals:
                raise Conflict("There are no goals to agree to yet: `/mentor goals` writes them.")
            if pair.goals_by == user_id:
                raise Conflict("You wrote these goals; your partner is the one to agree.")
            if pair.goals_agreed_at is None:
                pair.goals_agreed_at = now
                uow.pairs.save(pair)
                uow.commit()
        if pair.goals_by:
            self._tell(pair.goals_by, AgreementNote(pair, agreed=True))
        return pair

    def save_look_back(self, team_id: str, user_id: str, pair_id: int, text: str) -> Pair:
        cleaned = rules.clean_limited(
            text, rules.MAX_LOOK_BACK_CHARS, "your look back", "look_back"
        )
        with self.uow() as uow:
            pair = self._member_pair(uow, team_id, user_id, pair_id, active=False)
            pair.look_back = {**pair.look_back, user_id: cleaned}
            uow.pairs.save(pair)
            uow.commit()
        self._tell(pair.partner_of(user_id), LookBackShared(pair, user_id, cleaned))
        return pair

    def get(self, team_id: str, user_id: str, pair_id: int) -> Pair:
        """One of the member's own pairs (any state)."""
        with self.uow() as uow:
            return self._member_pair(uow, team_id, user_id, pair_id, active=False)

    # ------------------------------------------------------------------ action items

    def add_action(
        self,
        team_id: str,
        user_id: str,
        *,
        text: str,
        channel_id: str | None = None,
        pair_id: int | None = None,
        feedback_id: int | None = None,
    ) -> tuple[ActionItem, int]:
        """An action item for the pair of this conversation (or ``pair_id``); the other
        one is told. Returns it with its number in the pair."""
        cleaned = rules.clean_limited(text, rules.MAX_ACTION_CHARS, "the action item", "text")
        now = self.clock.now()
        with self.uow() as uow:
            if pair_id is not None:
                pair = self._member_pair(uow, team_id, user_id, pair_id)
            else:
                pair = self._pair_for(uow, team_id, user_id, channel_id or "")
            if feedback_id is not None:
                source = uow.pairs.feedback(feedback_id)
                if source is None or source.pair_id != pair.id:
                    feedback_id = None  # the reply is gone: the item stands on its own
            item, number = uow.pairs.add_action(
                ActionItem(
                    pair_id=_id(pair.id),
                    text=cleaned,
                    created_by=user_id,
                    created_at=now,
                    feedback_id=feedback_id,
                )
            )
            uow.commit()
        self._tell(pair.partner_of(user_id), ActionAdded(item, number))
        return item, number

    def actions(
        self, team_id: str, user_id: str, channel_id: str
    ) -> tuple[Pair, list[tuple[int, ActionItem]]]:
        with self.uow() as uow:
            pair = self._pair_for(uow, team_id, user_id, channel_id, active=False)
            return pair, uow.pairs.actions(_id(pair.id))

    def finish_action(
        self,
        team_id: str,
        user_id: str,
        number: int,
        *,
        channel_id: str | None = None,
        pair_id: int | None = None,
    ) -> tuple[Pair, ActionItem]:
        now = self.clock.now()
        with self.uow() as uow:
            if pair_id is not None:
                pair = self._member_pair(uow, team_id, user_id, pair_id)
            else:
                pair = self._pair_for(uow, team_id, user_id, channel_id or "")
            items = dict(uow.pairs.actions(_id(pair.id)))
            if number not in items:
                raise NotFound(
                    f"Your pair has no action item {number}. `/mentor actions` lists them."
                )
            if not uow.pairs.finish_action(_id(pair.id), number, user_id, now):
                raise Conflict(f"Action item {number} is already done.")
            uow.commit()
        done = replace(items[number], done_at=now, done_by=user_id)
        return pair, done

    # ------------------------------------------------------------------ feedback

    def conversation(self, team_id: str, user_id: str, reflection_id: int) -> Conversation:
        """A reflection and the pair's private conversation on it, for one of the two."""
        with self.uow() as uow:
            reflection, pair, book_title = self._discussed(uow, team_id, user_id, reflection_id)
            feedback = uow.pairs.feedback_on([reflection_id])
            return Conversation(pair, reflection, book_title, feedback)

    def reply(self, team_id: str, user_id: str, reflection_id: int, text: str) -> Feedback:
        """Add to the private conversation on a reflection; the other one gets it by DM.
        A mentor's reply also marks the reflection read."""
        cleaned = rules.clean_limited(text, MAX_REFLECTION_CHARS, "your reply", "text")
        now = self.clock.now()
        with self.uow() as uow:
            reflection, pair, book_title = self._discussed(uow, team_id, user_id, reflection_id)
            feedback = uow.pairs.add_feedback(
                Feedback(
                    reflection_id=reflection_id,
                    pair_id=_id(pair.id),
                    author_id=user_id,
                    text=cleaned,
                    created_at=now,
                )
            )
            read_now = pair.role_of(user_id) is Role.MENTOR and uow.reflections.mark_read(
                reflection_id, now
            )
            uow.commit()
        to = pair.partner_of(user_id)
        to_role = pair.role_of(to)
        assert to_role is not None
        self._tell(to, FeedbackNote(feedback, reflection, book_title, to_role))
        if read_now:
            self.echoes.mark_read(reflection_id)
        return feedback

    def mark_read(self, team_id: str, user_id: str, reflection_id: int) -> Reflection:
        """The mentor read the reflection: the mentee sees it (App Home, `/reflect list`)."""
        now = self.clock.now()
        with self.uow() as uow:
            reflection, pair, _title = self._discussed(uow, team_id, user_id, reflection_id)
            if pair.role_of(user_id) is not Role.MENTOR:
                raise PermissionDenied("Only the mentor marks a reflection read.")
            uow.reflections.mark_read(reflection_id, now)
            uow.commit()
        self.echoes.mark_read(reflection_id)
        return replace(reflection, mentor_read_at=reflection.mentor_read_at or now)

    def feedback_for_action(self, team_id: str, user_id: str, feedback_id: int) -> Feedback:
        """A reply of the member's pair, to turn into an action item."""
        with self.uow() as uow:
            feedback = uow.pairs.feedback(feedback_id) if _fits(feedback_id) else None
            if feedback is None:
                raise NotFound("That reply is gone (its reflection was deleted).")
            self._member_pair(uow, team_id, user_id, feedback.pair_id)
            return feedback

    # ------------------------------------------------------------------ publishing

    def publish_choice(self, team_id: str, user_id: str, channel_id: str) -> PublishChoice:
        """The mentee's reflections on the pair's latest book, and the mentor's replies."""
        with self.uow() as uow:
            pair = self._pair_for(uow, team_id, user_id, channel_id, active=False)
            if pair.state is not PairState.ACTIVE:
                raise Conflict(PUBLISH_ENDED)
            if pair.role_of(user_id) is not Role.MENTEE:
                raise PermissionDenied(
                    "The mentee builds the post; as the mentor you approve it, note by note."
                )
            view = self._pair_view(uow, pair)
            mine = [r for r in uow.reflections.for_plan(_id(view.plan.id), author_id=user_id)]
            if not mine:
                raise NotFound(
                    f"You have no reflections on “{view.book.title}” yet to build a post from."
                )
            notes = [
                f
                for f in uow.pairs.feedback_on([_id(r.id) for r in mine])
                if f.author_id == pair.mentor_id
            ]
            return PublishChoice(pair, view, mine, notes)

    def request_publication(
        self,
        team_id: str,
        user_id: str,
        pair_id: int,
        plan_id: int,
        reflection_ids: Sequence[int],
        feedback_ids: Sequence[int],
    ) -> Publication:
        """The mentee asks to publish these reflections, quoting these replies; the
        mentor decides by DM. Nothing is sent before the mentor approves."""
        if not reflection_ids:
            raise InvalidInput("Choose at least one reflection for the post.", field="reflections")
        now = self.clock.now()
        with self.uow() as uow:
            pair = self._member_pair(uow, team_id, user_id, pair_id, active=False)
            if pair.role_of(user_id) is not Role.MENTEE:
                raise PermissionDenied("Only the mentee asks to publish.")
            mine = {r.id: r for r in uow.reflections.for_plan(plan_id, author_id=user_id)}
            if not set(reflection_ids) <= set(mine):
                raise InvalidInput("Some of those reflections are gone; open the form again.")
            notes = [
                f
                for f in uow.pairs.feedback_on(list(reflection_ids))
                if f.id in set(feedback_ids) and f.author_id == pair.mentor_id
            ]
            publication = uow.pairs.add_publication(
                Publication(
                    pair_id=_id(pair.id),
                    plan_id=plan_id,
                    reflection_ids=list(reflection_ids),
                    requested_feedback_ids=[_id(f.id) for f in notes],
                    created_at=now,
                )
            )
            title = self._book_title(uow, plan_id)
            uow.commit()
        self._tell(
            pair.mentor_id,
            PublishRequest(
                _id(publication.id),
                pair.mentee_id,
                title,
                tuple(notes),
                reflection_count=len(reflection_ids),
            ),
        )
        return publication

    def consent(
        self, team_id: str, user_id: str, publication_id: int, feedback_id: int, allowed: bool
    ) -> PublishRequest:
        """The mentor allows (or leaves out) one of their replies; returns the request as
        it now stands, to show again."""
        with self.uow() as uow:
            publication, pair = self._publication(uow, team_id, user_id, publication_id)
            if feedback_id not in publication.requested_feedback_ids:
                raise NotFound("That note is not part of this post.")
            chosen = set(publication.allowed_feedback_ids)
            chosen = chosen | {feedback_id} if allowed else chosen - {feedback_id}
            if not uow.pairs.set_allowed(publication_id, sorted(chosen)):
                raise Conflict("You have already decided on this post.")
            publication.allowed_feedback_ids = sorted(chosen)
            uow.commit()
            return self._request(uow, pair, publication)

    def decide(self, team_id: str, user_id: str, publication_id: int, approve: bool) -> Approved:
        """The mentor approves (the post is built and sent to the mentee's DM, with only
        the replies the mentor allowed) or declines (nothing is sent)."""
        now = self.clock.now()
        with self.uow() as uow:
            publication, pair = self._publication(uow, team_id, user_id, publication_id)
            state = PublicationState.SENT if approve else PublicationState.DECLINED
            if not uow.pairs.decide(publication_id, state, now):
                raise Conflict("You have already decided on this post.")
            publication.state, publication.decided_at = state, now
            request = self._request(uow, pair, publication)
            post = self._post(uow, pair, publication) if approve else None
            uow.commit()
        if post is not None:
            filename, title, markdown = post
            self.notifier.send_file(
                pair.mentee_id,
                filename,
                title,
                markdown,
                "Your post, with the notes your mentor agreed to share. Only you have it.",
            )
        self._tell(
            pair.mentee_id,
            PublishDecided(
                pair.mentor_id,
                request.book_title,
                approve,
                quoted=len(publication.allowed_feedback_ids) if approve else 0,
            ),
        )
        return Approved(publication, request, pair.mentee_id, approve)

    # ------------------------------------------------------------------ the cohort

    def cohort(self, caller: Caller) -> list[CohortRow]:
        """Every pair of the workspace, as counts and dates (never text), for the
        programme's admins."""
        if not (caller.is_admin or caller.user_id in self.policy.admins):
            raise PermissionDenied("The cohort view is for the mentoring programme's admins.")
        now = self.clock.now()
        with self.uow() as uow:
            workspace_id = uow.workspaces.ensure(caller.team_id, now)
            pairs = uow.pairs.in_workspace(workspace_id, [PairState.ACTIVE])
            return [self._cohort_row(uow, pair, now) for pair in pairs]

    # ------------------------------------------------------------------ the scheduler

    def run_due(self, now: datetime | None = None) -> int:
        """Withdraw proposals nobody answered, ask finished pairs to look back, flag
        quiet pairs to the programme's admins: each once (claimed in the database)."""
        now = now or self.clock.now()
        done = 0
        self._waking = _Waking()  # fresh each pass: members change zones and settings
        with self.uow() as uow:
            proposed = uow.pairs.in_states([PairState.PROPOSED])
            active = uow.pairs.in_states([PairState.ACTIVE])
        for pair in proposed:
            if rules.proposal_expired(pair, now) and self._time_to_tell(
                pair.workspace_id,
                [pair.proposed_by],
                pair.created_at + rules.PROPOSAL_LIFETIME,
                now,
            ):
                with self.uow() as uow:
                    moved = uow.pairs.move(_id(pair.id), PairState.PROPOSED, PairState.EXPIRED)
                    uow.commit()
                if moved:
                    self._tell(
                        pair.proposed_by, PairExpired(replace(pair, state=PairState.EXPIRED))
                    )
                    done += 1
        for pair in active:
            done += self._look_back_due(pair, now)
            done += self._quiet_due(pair, now)
        return done

    def _look_back_due(self, pair: Pair, now: datetime) -> int:
        if pair.look_back_asked_at is not None or not pair.goals:
            return 0
        with self.uow() as uow:
            view = self._latest_view(uow, pair)
        if view is None or view.plan.state is not PlanState.FINISHED:
            return 0
        finished = view.plan.finished_at or now
        if not self._time_to_tell(pair.workspace_id, pair.people, finished, now):
            return 0
        with self.uow() as uow:
            claimed = uow.pairs.claim_look_back(_id(pair.id), now)
            uow.commit()
        if not claimed:
            return 0
        for person in pair.people:
            self._tell(person, LookBackAsk(pair, view.book.title))
        return 1

    def _quiet_due(self, pair: Pair, now: datetime) -> int:
        admins = sorted(self.policy.admins)
        if not admins:
            return 0
        with self.uow() as uow:
            row = self._cohort_row(uow, pair, now)
        if not rules.should_flag_quiet(pair, row.last_activity, now, self.policy.quiet_days):
            return 0
        due = row.last_activity + timedelta(days=self.policy.quiet_days)
        if not self._time_to_tell(pair.workspace_id, admins, due, now):
            return 0
        with self.uow() as uow:
            claimed = uow.pairs.claim_quiet_flag(_id(pair.id), pair.quiet_flagged_at, now)
            uow.commit()
        if not claimed:
            return 0
        for admin in admins:
            self._tell(admin, QuietPair(row.pair, row.quiet_days, row.book_title))
        return 1

    # ------------------------------------------------------------------ internals

    def _expire(self, uow: Unit, pair: Pair, now: datetime) -> bool:
        """An invitation past its week, found by someone acting on it before the
        scheduler told its asker (who may be asleep): withdraw it now and tell them."""
        if not rules.proposal_expired(pair, now):
            return False
        moved = uow.pairs.move(_id(pair.id), PairState.PROPOSED, PairState.EXPIRED)
        uow.commit()
        if moved:
            self._tell(pair.proposed_by, PairExpired(replace(pair, state=PairState.EXPIRED)))
        return True

    def _time_to_tell(
        self, workspace_id: int, people: Sequence[str], due: datetime, now: datetime
    ) -> bool:
        """Are ``people`` all out of their quiet hours (or has the message waited a day)?
        Zones and settings are looked up once per scheduler pass (``_waking``)."""
        if workspace_id not in self._waking.any_hour:
            with self.uow() as uow:
                self._waking.any_hour[workspace_id] = uow.members.without_quiet_hours(workspace_id)
        any_hour = self._waking.any_hour[workspace_id]
        for person in people:
            if person not in self._waking.zones:
                self._waking.zones[person] = usable_zone(self.directory.user_timezone(person))
        recipients = [(self._waking.zones[p], p not in any_hour) for p in people]
        return pace.time_to_tell(now, due, recipients)

    def _cohort_row(self, uow: Unit, pair: Pair, now: datetime) -> CohortRow:
        view = self._latest_view(uow, pair)
        reflections: list[Reflection] = []
        if view is not None:
            for read in uow.plans.for_group(view.group.id or 0):
                reflections += [
                    r
                    for r in uow.reflections.for_plan(_id(read.id))
                    if r.author_id in pair.people and counts_as_activity(r)
                ]
        feedback = uow.pairs.feedback_of_pair(_id(pair.id))
        actions = uow.pairs.actions(_id(pair.id))
        last = rules.last_activity(
            pair,
            [r.updated_at or r.created_at for r in reflections]
            + [f.created_at for f in feedback]
            + [i.done_at or i.created_at for _n, i in actions],
        )
        steps = view.plan.steps if view is not None else []
        return CohortRow(
            pair=rules.without_words(pair),
            book_title=view.book.title if view is not None else None,
            steps_posted=sum(1 for s in steps if s.posted_at),
            step_count=len(steps),
            reflections=len(reflections),
            replies=len(feedback),
            open_actions=sum(1 for _n, i in actions if i.done_at is None),
            last_activity=last,
            quiet_days=rules.quiet_days(last, now),
            quiet=now - last >= timedelta(days=self.policy.quiet_days),
        )

    def _pair_view(self, uow: Unit, pair: Pair) -> PlanView:
        """The pair's current (or last) plan in its conversation, or a clear no."""
        view = self._latest_view(uow, pair)
        if view is None:
            raise NotFound(
                "Your pair has not started a book yet: `/book start <book>` in your pair's "
                "conversation."
            )
        return view

    def _latest_view(self, uow: Unit, pair: Pair) -> PlanView | None:
        group = uow.groups.get(pair.workspace_id, pair.channel_id) if pair.channel_id else None
        if group is None or group.id is None:
            return None
        found = uow.plans.running_for_group(group.id) or uow.plans.latest_for_group(group.id)
        if found is None:
            return None
        book = uow.books.get(found.book_id)
        assert book is not None
        return PlanView(found, book, group)

    def _book_title(self, uow: Unit, plan_id: int) -> str:
        plan = uow.plans.get(plan_id)
        book = uow.books.get(plan.book_id) if plan else None
        return book.title if book else ""

    def _post(self, uow: Unit, pair: Pair, publication: Publication) -> tuple[str, str, str] | None:
        plan = uow.plans.get(publication.plan_id)
        book = uow.books.get(plan.book_id) if plan else None
        if plan is None or book is None:
            return None
        mine = {r.id: r for r in uow.reflections.for_plan(_id(plan.id), author_id=pair.mentee_id)}
        chosen = [mine[i] for i in publication.reflection_ids if i in mine]
        allowed = set(publication.allowed_feedback_ids)
        notes: dict[int, list[str]] = {}
        for f in uow.pairs.feedback_on([_id(r.id) for r in chosen]):
            if f.id in allowed and f.author_id == pair.mentor_id:
                notes.setdefault(f.reflection_id, []).append(f.text)
        names = self.directory.user_names([pair.mentee_id, pair.mentor_id])
        today = self.clock.now().date()
        markdown = member_post(
            book=book,
            plan=plan,
            author_name=names.get(pair.mentee_id, pair.mentee_id),
            reflections=chosen,
            others=[],
            quotable=set(),
            names=Names(users=names),
            today=today,
            chosen=True,
            notes=notes,
            notes_by=names.get(pair.mentor_id, pair.mentor_id),
        )
        return (
            f"{today.isoformat()}-{slug(book.title)}.md",
            f"Reflections on {book.title}",
            markdown,
        )

    def _request(self, uow: Unit, pair: Pair, publication: Publication) -> PublishRequest:
        notes = [
            f
            for f in uow.pairs.feedback_of_pair(_id(pair.id))
            if f.id in set(publication.requested_feedback_ids)
        ]
        return PublishRequest(
            _id(publication.id),
            pair.mentee_id,
            self._book_title(uow, publication.plan_id),
            tuple(notes),
            frozenset(publication.allowed_feedback_ids),
            reflection_count=len(publication.reflection_ids),
            decided=None if publication.state is PublicationState.REQUESTED else publication.state,
        )

    def _publication(
        self, uow: Unit, team_id: str, user_id: str, publication_id: int
    ) -> tuple[Publication, Pair]:
        publication = uow.pairs.publication(publication_id) if _fits(publication_id) else None
        pair = uow.pairs.get(publication.pair_id) if publication else None
        if publication is None or pair is None or not self._same_workspace(uow, pair, team_id):
            raise NotFound("That publishing request no longer exists.")
        if pair.role_of(user_id) is not Role.MENTOR:
            raise PermissionDenied("Only the mentor approves the post.")
        return publication, pair

    def _discussed(
        self, uow: Unit, team_id: str, user_id: str, reflection_id: int
    ) -> tuple[Reflection, Pair, str]:
        """A reflection one of the pair may talk about, or the clear reason why not."""
        reflection = uow.reflections.get(reflection_id) if _fits(reflection_id) else None
        if reflection is None:
            raise NotFound("That reflection was deleted, so there is nothing to reply to.")
        plan = uow.plans.get(reflection.plan_id)
        assert plan is not None
        group = uow.groups.by_id(plan.group_id)
        pair = uow.pairs.latest_for_channel(group.workspace_id, group.channel_id)
        if (
            pair is None
            or not self._same_workspace(uow, pair, team_id)
            or pair.role_of(user_id) is None
        ):
            raise NotFound("That reflection is not one you can see.")
        if not may_discuss(reflection, pair, user_id):
            if pair.state is not PairState.ACTIVE:
                raise Conflict("Your pair has ended, so its conversation is closed.")
            raise Conflict("That reflection has since been made private, so it takes no replies.")
        book = uow.books.get(plan.book_id)
        return reflection, pair, book.title if book else ""

    def _invited(self, uow: Unit, team_id: str, user_id: str, pair_id: int) -> Pair:
        pair = uow.pairs.get(pair_id) if _fits(pair_id) else None
        if pair is None or not self._same_workspace(uow, pair, team_id):
            raise NotFound("That invitation no longer exists.")
        invited = pair.partner_of(pair.proposed_by)
        if user_id != invited:
            raise PermissionDenied("Only the person invited can answer this invitation.")
        if pair.state is not PairState.PROPOSED:
            raise Conflict(_answered(pair))
        return pair

    def _member_pair(
        self, uow: Unit, team_id: str, user_id: str, pair_id: int, *, active: bool = True
    ) -> Pair:
        pair = uow.pairs.get(pair_id) if _fits(pair_id) else None
        if (
            pair is None
            or not self._same_workspace(uow, pair, team_id)
            or pair.role_of(user_id) is None
        ):
            raise NotFound("That pair is not one of yours.")
        if active and pair.state is not PairState.ACTIVE:
            raise Conflict("That pair is not active, so nothing in it can change.")
        return pair

    def _pair_for(
        self, uow: Unit, team_id: str, user_id: str, channel_id: str, *, active: bool = True
    ) -> Pair:
        """The pair of this conversation, else the member's only active pair."""
        workspace_id = uow.workspaces.ensure(team_id, self.clock.now())
        here = uow.pairs.active_for_channel(workspace_id, channel_id) if channel_id else None
        if here is None and not active:
            here = uow.pairs.latest_for_channel(workspace_id, channel_id) if channel_id else None
        if here is not None and here.role_of(user_id) is not None:
            return here
        if active and channel_id:  # this conversation's pair has ended: say so, never another's
            ended = uow.pairs.latest_for_channel(workspace_id, channel_id)
            if ended is not None and ended.role_of(user_id) is not None:
                raise Conflict(PAIR_ENDED)
        mine = [p for p in uow.pairs.for_user(workspace_id, user_id) if p.state is PairState.ACTIVE]
        if len(mine) == 1:
            return mine[0]
        if mine:
            raise InvalidInput(
                "You are in several pairs: do this in the pair's own conversation "
                "(`/mentor list` shows them)."
            )
        raise NotFound(NOT_IN_A_PAIR)

    def _busy_channel(self, uow: Unit, pair: Pair, channel_id: str) -> bool:
        other = uow.pairs.active_for_channel(pair.workspace_id, channel_id)
        return other is not None and other.id != pair.id

    def _same_workspace(self, uow: Unit, pair: Pair, team_id: str) -> bool:
        return pair.workspace_id == uow.workspaces.ensure(team_id, self.clock.now())

    def _get(self, pair_id: int) -> Pair:
        with self.uow() as uow:
            pair = uow.pairs.get(pair_id)
            assert pair is not None
            return pair

    def _tell(self, user_id: str, note: Note) -> None:
        try:
            self.notifier.send_note(user_id, note)
        except DeliveryFailed as exc:
            logger.warning("could not send a %s: %s", type(note).__name__, exc.reason)

    def _tell_channel(self, channel_id: str, note: PairWelcome) -> None:
        try:
            self.notifier.post_note(channel_id, note)
        except DeliveryFailed as exc:
            logger.warning("could not post the pair's welcome: %s", exc.reason)


@dataclass(slots=True)
class _Waking:
    """What one scheduler pass knows of recipients' hours: zones and who wants any hour."""

    zones: dict[str, str | None] = field(default_factory=dict)
    any_hour: dict[int, set[str]] = field(default_factory=dict)


def _already(pair: Pair, other_name: str) -> str:
    if pair.state is PairState.PROPOSED:
        return f"You and {other_name} already have an invitation waiting for an answer."
    return f"You and {other_name} are already a pair; `/mentor list` shows it."


def _answered(pair: Pair) -> str:
    return {
        PairState.ACTIVE: "That invitation was already accepted.",
        PairState.DECLINED: "That invitation was declined.",
        PairState.EXPIRED: "That invitation expired: nobody answered it within a week.",
        PairState.ENDED: "That pair has ended.",
    }.get(pair.state, "That invitation was already answered.")


def _fits(value: int) -> bool:
    return 0 < value <= 2**63 - 1


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("entity has not been stored")
    return value
