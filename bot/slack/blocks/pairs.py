"""Messages of a mentoring pair: invitations, the mentor's copy of a reflection, the
private conversation on it, the agreement, action items, publishing, the cohort.

Everything here goes to one person's DM or to the pair's own conversation; member text
is escaped once, quoted, and never reaches a channel anyone else reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, ButtonElement

from bot.domain.model import (
    ActionItem,
    Feedback,
    Pair,
    PairState,
    PublicationState,
    Reflection,
    Role,
)
from bot.domain.notes import (
    ActionAdded,
    AgreementNote,
    CalendarLink,
    DirectMessageHelp,
    FeedbackNote,
    ImportReady,
    ImportRefused,
    LookBackAsk,
    LookBackShared,
    MentorCopy,
    MentorCopyWithdrawn,
    Note,
    PairAnswered,
    PairDeclined,
    PairEnded,
    PairExpired,
    PairInvite,
    PairWelcome,
    PublishDecided,
    PublishRequest,
    QuietPair,
    Welcome,
)
from bot.domain.pairs import HOPES_QUESTION
from bot.domain.text import plural
from bot.services.pairs import CohortRow, Conversation
from bot.slack.blocks import imports as import_blocks
from bot.slack.blocks import pace as pace_blocks
from bot.slack.blocks.base import Message, actions, button, context, header, notice, section
from bot.slack.blocks.reflections import where
from bot.slack.text import escape, mention, quote

ACCEPT_ACTION = "pair_accept"  # value: pair id
DECLINE_ACTION = "pair_decline"  # value: pair id
REPLY_ACTION = "pair_reply"  # value: reflection id
READ_ACTION = "pair_read"  # value: reflection id
ACTION_FROM_ACTION = "pair_action_from"  # value: feedback id
GOALS_ACTION = "pair_goals"  # value: pair id
AGREE_ACTION = "pair_agree"  # value: pair id
LOOK_BACK_ACTION = "pair_look_back"  # value: pair id
DONE_ACTION = "pair_done"  # value: "<pair id>:<number>"; action id "pair_done:<n>"
DONE_ACTIONS = re.compile(rf"^{DONE_ACTION}(:\d+)?$")
CONSENT_ACTION = "pair_consent"  # value: "<publication>:<feedback>:<1|0>"; id "pair_consent:<f>"
CONSENT_ACTIONS = re.compile(rf"^{CONSENT_ACTION}(:\d+)?$")
APPROVE_ACTION = "pair_publish_yes"  # value: publication id
REFUSE_ACTION = "pair_publish_no"  # value: publication id

MAX_NOTE_BLOCKS = 45


def role_word(role: Role) -> str:
    return "mentor" if role is Role.MENTOR else "mentee"


def pair_line(pair: Pair) -> str:
    """``<@mentee> (mentee) and <@mentor> (mentor)``: ids from Slack, never user text."""
    return f"{mention(pair.mentee_id)} (mentee) and {mention(pair.mentor_id)} (mentor)"


def note_message(note: Note) -> Message:
    """Any note as a message (the Notifier's one way to render them)."""
    match note:
        case Welcome():
            return pace_blocks.welcome(note)
        case CalendarLink():
            return pace_blocks.calendar_link(note)
        case PairInvite():
            return invite(note)
        case PairAnswered():
            return answered(note.pair)
        case PairWelcome():
            return welcome(note.pair)
        case PairDeclined():
            return notice_to(
                f"{mention(note.pair.partner_of(note.pair.proposed_by))} declined your "
                "invitation to pair. Nothing was made; you can ask someone else."
            )
        case PairExpired():
            pair = note.pair
            again = (
                "`/mentor @name`"
                if pair.proposed_by == pair.mentee_id
                else "`/mentor mentee @name`"
            )
            return notice_to(
                f"Your invitation to {mention(pair.partner_of(pair.proposed_by))} "
                f"expired: nobody answered it within a week. {again} asks again."
            )
        case PairEnded():
            return notice_to(
                f"{mention(note.left)} left your mentoring pair. Its reading plan has stopped; "
                "your reflections and replies stay yours."
            )
        case MentorCopy():
            return mentor_copy(note)
        case MentorCopyWithdrawn():
            return notice_to(
                f":lock: {mention(note.author_id)} took reflection #{note.number} back "
                "(it is private now, or deleted), so it is no longer shown here."
            )
        case FeedbackNote():
            return feedback_note(note)
        case AgreementNote():
            return agreement(note)
        case LookBackAsk():
            return look_back_ask(note)
        case LookBackShared():
            return Message(
                "A look back at your goals",
                [
                    section(
                        f":mirror: {mention(note.author_id)} looked back at your goals:\n"
                        f"{quote(note.text, 2800)}"
                    ),
                    context("Only the two of you can see this."),
                ],
            )
        case ActionAdded():
            return action_added(note)
        case PublishRequest():
            return publish_request(note)
        case PublishDecided():
            return publish_decided(note)
        case QuietPair():
            return quiet_pair(note)
        case ImportReady():
            return import_blocks.import_ready(note.pending, note.picked)
        case ImportRefused():
            return import_blocks.import_refused(note.filename, note.reason)
        case DirectMessageHelp():
            return import_blocks.direct_message_help()
    raise TypeError(f"no message for {type(note).__name__}")


def notice_to(text: str) -> Message:
    """A short note whose mrkdwn is ours (mentions from Slack ids only)."""
    return Message(re.sub(r"<@[A-Z0-9]+>", "someone", text), [section(text)])


def invite(note: PairInvite) -> Message:
    pair = note.pair
    asker = pair.proposed_by
    you = role_word(Role.MENTOR if note.asker_role is Role.MENTEE else Role.MENTEE)
    return Message(
        f"An invitation to be someone's {you}",
        [
            section(
                f":handshake: {mention(asker)} would like you to be their *{you}*: to read a "
                "book together a few chapters at a time, with reflections "
                + (
                    "they write for you and you can answer privately."
                    if you == "mentor"
                    else "you write for them, which they can answer privately."
                )
            ),
            actions(
                button("Accept", ACCEPT_ACTION, str(pair.id), style="primary"),
                button("Decline", DECLINE_ACTION, str(pair.id)),
            ),
            context(
                "If you accept, the two of you get a group DM with me: your pair's own "
                "conversation. Only you can see this invitation."
            ),
        ],
    )


def answered(pair: Pair) -> Message:
    words = {
        PairState.ACTIVE: ":white_check_mark: You accepted. Your pair's conversation is open: "
        + (f"<#{pair.channel_id}>." if pair.channel_id else "look for the group DM with me."),
        PairState.DECLINED: "You declined the invitation. They have been told, kindly.",
        PairState.EXPIRED: "This invitation expired.",
    }
    return notice_to(words.get(pair.state, "This invitation was answered."))


def welcome(pair: Pair) -> Message:
    return Message(
        "Your mentoring pair is ready",
        [
            section(
                f":seedling: {pair_line(pair)} are now a mentoring pair. This conversation is "
                "yours: only the two of you (and I) are in it."
            ),
            section(
                "*Next*\n"
                "1. Agree on what you want from this: the button below, or `/mentor goals`.\n"
                "2. Choose the book and start: `/book start <book> every monday at 09:00` here.\n"
                "3. Reflect as you read: `/reflect <text>` is *for your mentor* by default."
            ),
            actions(button("Write our agreement", GOALS_ACTION, str(pair.id), style="primary")),
            context("`/mentor help` lists everything a pair can do."),
        ],
    )


def mentor_copy(note: MentorCopy) -> Message:
    reflection = note.reflection
    blocks: list[Block] = [
        section(
            f":memo: {mention(reflection.author_id)} wrote for you on "
            f"{where(reflection, note.step)} of *{escape(note.book_title)}* "
            f"(their #{reflection.number}):\n{quote(reflection.text, 2700)}"
        ),
    ]
    buttons = [button("Reply", REPLY_ACTION, str(reflection.id), style="primary")]
    if not note.read:
        buttons.append(button("Mark read", READ_ACTION, str(reflection.id)))
    blocks.append(actions(*buttons))
    blocks.append(
        context(
            ("✓ Read. " if note.read else "")
            + "Only you and they can see this; your reply reaches them privately."
        )
    )
    return Message(f"A reflection for you on {note.book_title}", blocks)


def feedback_note(note: FeedbackNote) -> Message:
    f, reflection = note.feedback, note.reflection
    about = (
        "your reflection" if note.to_role is Role.MENTEE else "their reflection"
    ) + f" #{reflection.number} on *{escape(note.book_title)}*"
    return Message(
        "A reply on a reflection",
        [
            section(
                f":speech_balloon: {mention(f.author_id)} replied on {about}:\n{quote(f.text, 2600)}"
            ),
            # The mentee's own words, to the mentee only: the mentor's copy of the
            # reflection is the one place they see it (withdrawn if she takes it back).
            context(f"You wrote: {escape(_short(reflection.text))}")
            if note.to_role is Role.MENTEE
            else context("Their reflection is in the message it answers, above."),
            actions(
                button("Reply", REPLY_ACTION, str(reflection.id), style="primary"),
                button("Make it an action item", ACTION_FROM_ACTION, str(f.id)),
            ),
            context("Only the two of you can see this conversation."),
        ],
    )


def agreement(note: AgreementNote) -> Message:
    pair = note.pair
    lines = goals_lines(pair)
    if note.agreed:
        return Message(
            "Your goals are agreed",
            [
                section(
                    f":handshake: {mention(pair.partner_of(pair.goals_by or ''))} agreed to your goals:\n{lines}"
                ),
                context(
                    "Only the two of you can see these. At the end of the book I'll ask you both to look back at them."
                ),
            ],
        )
    blocks: list[Block] = [
        section(f":dart: {mention(pair.goals_by or pair.mentee_id)} wrote your pair's agreement.")
    ]
    if pair.hopes:
        blocks.append(section(f"*{escape(HOPES_QUESTION)}*\n{quote(pair.hopes, 2000)}"))
    blocks += [
        section(f"*Goals*\n{lines}"),
        actions(
            button("Agree", AGREE_ACTION, str(pair.id), style="primary"),
            button("Change them", GOALS_ACTION, str(pair.id)),
        ),
        context("Only the two of you can see this."),
    ]
    return Message("Your pair's agreement", blocks)


def goals_lines(pair: Pair) -> str:
    return "\n".join(f"• {escape(goal)}" for goal in pair.goals) or "_No goals yet._"


def look_back_ask(note: LookBackAsk) -> Message:
    return Message(
        f"You finished {note.book_title}: look back at your goals",
        [
            section(
                f":checkered_flag: You finished *{escape(note.book_title)}* together. Time to "
                f"look back at the goals you agreed:\n{goals_lines(note.pair)}"
            ),
            actions(button("Look back", LOOK_BACK_ACTION, str(note.pair.id), style="primary")),
            context("What you write reaches only your partner."),
        ],
    )


def action_added(note: ActionAdded) -> Message:
    item = note.item
    return Message(
        "A new action item",
        [
            section(
                f":pushpin: {mention(item.created_by)} added action item {note.number}: "
                f"{escape(item.text)}"
            ),
            actions(done_button(item.pair_id, note.number)),
            context("I'll remind you both of open ones with your next prompt."),
        ],
    )


def done_button(pair_id: int, number: int) -> ButtonElement:
    return button(f"Mark {number} done", f"{DONE_ACTION}:{number}", f"{pair_id}:{number}")


def action_list(pair: Pair, items: Sequence[tuple[int, ActionItem]]) -> Message:
    open_items = [(n, i) for n, i in items if i.done_at is None]
    done = [(n, i) for n, i in items if i.done_at is not None]
    if not items:
        return notice(
            "Your pair has no action items yet. `/mentor action <text>` adds one, or use "
            "“Make it an action item” on a reply."
        )
    blocks: list[Block] = [header("Your action items")]
    for number, item in open_items[:20]:
        blocks.append(section(f"*{number}.* {escape(item.text)}"))
    if open_items and pair.state is PairState.ACTIVE:  # an ended pair's items are read only
        blocks.append(actions(*(done_button(pair.id or 0, n) for n, _i in open_items[:5])))
    if done:
        blocks.append(
            context(
                "Done: " + " · ".join(f"~{n}. {escape(_short(i.text, 60))}~" for n, i in done[-10:])
            )
        )
    return Message(plural(len(open_items), "open action item"), blocks[:MAX_NOTE_BLOCKS])


def action_done(number: int, item: ActionItem) -> Message:
    return notice(f"Ticked off action item {number}: {item.text}")


def publish_request(note: PublishRequest) -> Message:
    blocks: list[Block] = [
        section(
            f":newspaper: {mention(note.mentee_id)} would like to publish a post on "
            f"*{escape(note.book_title)}* from {plural(note.reflection_count, 'of their reflections', 'of their reflections')}."
            if note.reflection_count != 1
            else f":newspaper: {mention(note.mentee_id)} would like to publish a post on "
            f"*{escape(note.book_title)}* from one of their reflections."
        )
    ]
    if note.notes:
        blocks.append(
            section(
                "They would like to quote these replies of yours. Each goes in only if you "
                "allow it:"
            )
        )
        for f in note.notes[:15]:
            allowed = f.id in note.allowed
            mark = "✅ _to be quoted_" if allowed else "⬜ _not quoted_"
            blocks.append(section(f"{quote(f.text, 500)}\n{mark}"))
            if note.decided is None:
                blocks.append(
                    actions(
                        button(
                            "Leave it out" if allowed else "Allow this one",
                            f"{CONSENT_ACTION}:{f.id}",
                            f"{note.publication_id}:{f.id}:{0 if allowed else 1}",
                        )
                    )
                )
    else:
        blocks.append(section("None of your replies are quoted in it."))
    if note.decided is None:
        blocks += [
            actions(
                button(
                    "Approve and send it to them",
                    APPROVE_ACTION,
                    str(note.publication_id),
                    style="primary",
                ),
                button("Decline", REFUSE_ACTION, str(note.publication_id)),
            ),
            context("Nothing is sent until you approve. Only you can see this."),
        ]
    else:
        sent = note.decided is PublicationState.SENT
        blocks.append(
            context(
                f"✓ Approved: the post went to them with {plural(len(note.allowed), 'of your notes', 'of your notes')}."
                if sent
                else "You declined: nothing was sent."
            )
        )
    return Message(f"A post on {note.book_title} to approve", blocks[:MAX_NOTE_BLOCKS])


def publish_decided(note: PublishDecided) -> Message:
    if note.sent:
        return notice_to(
            f":tada: {mention(note.mentor_id)} approved your post on *{escape(note.book_title)}*"
            f" ({plural(note.quoted, 'of their notes', 'of their notes')} quoted). The Markdown "
            "file is in this DM, ready for your blog."
        )
    return notice_to(
        f"{mention(note.mentor_id)} declined your post on *{escape(note.book_title)}*; nothing "
        "was sent. You could talk it over, then `/mentor publish` again."
    )


def quiet_pair(note: QuietPair) -> Message:
    book = f" reading *{escape(note.book_title)}*" if note.book_title else ""
    return notice_to(
        f":zzz: The mentoring pair {pair_line(note.pair)}{book} has been quiet for "
        f"{plural(note.days, 'day')}. You might check in with them (I've told nobody else)."
    )


def pair_list(pairs: Sequence[Pair], user_id: str) -> Message:
    if not pairs:
        return notice(
            "You are not in a mentoring pair. `/mentor @name` asks someone to be your "
            "mentor; `/mentor mentee @name` offers to mentor someone."
        )
    lines = []
    for pair in pairs[:30]:
        role = pair.role_of(user_id)
        partner = pair.partner_of(user_id)
        where_text = (
            f" · <#{pair.channel_id}>" if pair.channel_id and pair.state is PairState.ACTIVE else ""
        )
        state = _STATE_WORDS.get(pair.state, pair.state.value)
        lines.append(
            f"• You are the *{role_word(role) if role else '?'}* of {mention(partner)} · "
            f"{state}{where_text}"
        )
    return Message(
        plural(len(pairs), "pair"), [header("Your mentoring pairs"), section("\n".join(lines))]
    )


_STATE_WORDS = {
    PairState.PROPOSED: "waiting for an answer",
    PairState.ACTIVE: "reading together",
    PairState.DECLINED: "declined",
    PairState.EXPIRED: "never answered",
    PairState.ENDED: "ended",
}


def _ago(days: int) -> str:
    return "today" if days == 0 else ("yesterday" if days == 1 else f"{days:,} days ago")


def proposed(pair: Pair, user_id: str) -> Message:
    partner = pair.partner_of(user_id)
    role = pair.role_of(partner)
    return notice_to(
        f":envelope: I've asked {mention(partner)} to be your {role_word(role or Role.MENTOR)}. "
        "I'll tell you when they answer (invitations expire after a week)."
    )


def left(pair: Pair) -> Message:
    return notice("You left the pair. Its reading plan has stopped; your words stay yours.")


def cohort(rows: Sequence[CohortRow], now: datetime) -> Message:
    if not rows:
        return notice("There are no active mentoring pairs in this workspace.")
    quiet = sum(1 for r in rows if r.quiet)
    lines = []
    for row in rows[:40]:
        book = f"*{escape(row.book_title)}*" if row.book_title else "no book yet"
        flag = f" · :zzz: quiet {plural(row.quiet_days, 'day')}" if row.quiet else ""
        lines.append(
            f"• {pair_line(row.pair)} · {book} · step {row.steps_posted}/{row.step_count} · "
            f"{plural(row.reflections, 'reflection')}, {plural(row.replies, 'reply', 'replies')}, "
            f"{plural(row.open_actions, 'open action')} · last active "
            f"{_ago(row.quiet_days)}{flag}"
        )
    return Message(
        "Mentoring cohort",
        [
            header("Mentoring cohort"),
            section(f"{plural(len(rows), 'active pair')}, {quiet} quiet."),
            *[section(line) for line in lines],
            context(
                "Counts only: nobody's words are shown here. Private reflections are never counted."
            ),
        ][:MAX_NOTE_BLOCKS],
    )


def conversation_blocks(conversation: Conversation) -> list[Block]:
    """The reflection and the replies so far, for the reply form."""
    reflection = conversation.reflection
    blocks: list[Block] = [
        section(
            f"*{mention(reflection.author_id)}, #{reflection.number} on "
            f"{escape(conversation.book_title)}*\n{quote(reflection.text, 1500)}"
        )
    ]
    for f in conversation.feedback[-8:]:
        blocks.append(section(f"{mention(f.author_id)}:\n{quote(f.text, 800)}"))
    return blocks


def feedback_sent(to: str) -> Message:
    return notice_to(f":speech_balloon: Sent to {mention(to)}, privately.")


def _short(text: str, limit: int = 150) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def read_receipt(reflection: Reflection) -> str:
    return "✓ read by your mentor" if reflection.mentor_read_at else "not read yet"


def feedback_count(feedback: Sequence[Feedback]) -> str:
    return plural(len(feedback), "reply", "replies")
