"""Issue 11, "privacy is the product", as a property over the real bolt app.

Random pairs (a person may be a mentee in one and a mentor in another) and a reading
group share members. They write for the mentor, privately and shared, reply to each
other (both ways), add action items and take reflections back; they write their
agreement (`/mentor goals`, or its buttons: the mentee's hopes and the goals), agree to
it, look back at it when the book ends, and publish (`/mentor publish`: the mentee picks
reflections and replies to quote, the mentor allows or leaves out each reply, then
approves or declines); people outside the pair click its buttons; all at random. Then
prompts, digests, the wrap-up and look-back, App Home, exports, the admin's record and
the cohort view run. After every action, everything the bot showed anyone (messages,
ephemerals, modals, App Home, files) is checked against who may see each word: words
written for the mentor reach only the two of the pair, private ones only their author,
replies, goals, hopes and look-backs only the pair (the agreement and look-backs never in
any conversation's messages, not even the pair's own or its digests: only DMs, forms and
App Home); a post is a file in the mentee's DM, sent only when the mentor approves, with
exactly the reflections she chose and the replies the mentor allowed; and none of the
words ever reaches a log line, the admin's record or the cohort view.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import string
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.domain.export import record_markdown
from bot.domain.model import Caller, Visibility
from bot.emulator.models import Message
from bot.observability import log_handler
from bot.slack.blocks import pairs as pair_blocks
from bot.slack.pair_modals import PAIR_GOALS, PAIR_LOOK_BACK, PAIR_PUBLISH, PAIR_REPLY
from tests.harness import CAROL, Harness
from tests.slack.test_reflection_loop import buttons

TEAM = "T0EMULATOR1"
KINDS = (
    "for-mentor",
    "private",
    "shared",
    "reply",
    "take-back",
    "action",
    "group-private",
    "goals",
    "agree",
    "look-back",
    "mentee-reply",
    "publish",
    "consent",
    "approve",
    "decline",
    "intruder",
)
WORD = re.compile(r"zp[a-z]{6}")
NEWEST = 1 << 16  # beyond the drawn bits: publish the newest reflection and replies too

_examples = itertools.count()
_tokens = itertools.count()


def token() -> str:
    n = next(_tokens)
    return "zp" + "".join(string.ascii_lowercase[(n // 26**i) % 26] for i in range(6))


def words(text: str) -> set[str]:
    return set(WORD.findall(text))


@dataclass
class Publication:
    """A post the mentee asked for, as the test expects it to stand."""

    id: int
    reflections: list[int]  # the mentee's choice
    requested: set[int]  # the mentor's replies she would like to quote
    allowed: set[int] = field(default_factory=set)  # those the mentor allowed
    state: str = "requested"  # → "sent" | "declined"


@dataclass
class Pair:
    mentee: str
    mentor: str
    channel: str = ""
    id: int = 0
    latest_for_mentor: list[int] = field(default_factory=list)  # reflection numbers
    written_for_mentor: set[str] = field(default_factory=set)  # and their words
    reflections: dict[int, str] = field(default_factory=dict)  # the mentee's here: id → word
    mentor_notes: dict[int, tuple[int, str]] = field(default_factory=dict)  # id → (on, word)
    feedback: set[int] = field(default_factory=set)  # every reply's id, either way
    goals: set[str] = field(default_factory=set)  # the goals' words as they stand
    goals_by: str = ""
    written: dict[str, str] = field(default_factory=dict)  # agreement / look-back word → writer
    publications: dict[int, Publication] = field(default_factory=dict)

    @property
    def people(self) -> tuple[str, str]:
        return (self.mentee, self.mentor)

    def partner_of(self, user: str) -> str:
        return self.mentor if user == self.mentee else self.mentee

    def pending(self) -> list[Publication]:
        return [p for p in self.publications.values() if p.state == "requested"]


@dataclass
class World:
    people: list[str]
    group: str
    pairs: list[Pair]
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)  # token → who may see it
    dm_only: set[str] = field(default_factory=set)  # the agreements' and look-backs' words

    def check(self, shown: list[tuple[frozenset[str], str]], what: str) -> None:
        for audience, text in shown:
            for word in set(re.findall(r"zp[a-z]{6}", text)):
                allowed = self.allowed.get(word)
                if allowed is None:
                    continue  # a word anyone may see (shared in the group)
                assert audience <= allowed, (
                    f"{what}: {word} shown to {sorted(audience - allowed)}, "
                    f"allowed only {sorted(allowed)}"
                )

    def hide(self, word: str, *people: str, dm_only: bool = False) -> None:
        self.allowed[word] = frozenset(people)
        if dm_only:
            self.dm_only.add(word)


Sent = tuple[Pair, Publication]  # a post the mentor has just approved


def click(
    harness: Harness,
    user: str,
    action_prefix: str,
    values: set[str] | None = None,
    channel: str | None = None,
) -> str | None:
    """Click the newest button of ``action_prefix`` in ``user``'s DM (or ``channel``), with
    one of ``values`` when given; its value, or None if there is none."""
    where = channel or harness.emulator.workspace.dm_channel(user)
    for message in reversed(harness.emulator.messages(where)):
        if message.deleted:
            continue
        for _label, action_id, value in buttons({"blocks": message.blocks}):
            if action_id.startswith(action_prefix) and (values is None or value in values):
                press(harness, user, message, action_id, value)
                return value
    return None


def press(harness: Harness, user: str, message: Message, action_id: str, value: str) -> None:
    """``user`` clicks this button of this message (wherever it is)."""
    harness.click(user, message, action_id, value)


def open_view_ids(harness: Harness, user: str) -> set[str]:
    return {str(v["id"]) for v in harness.emulator.open_views(user)}


def new_form(
    harness: Harness, user: str, before: set[str], callback_id: str
) -> dict[str, Any] | None:
    """The form that opened for ``user`` since ``before`` (the ids open then), if any."""
    opened = [v for v in harness.emulator.open_views(user) if str(v["id"]) not in before]
    if not opened:
        return None
    assert opened[-1]["callback_id"] == callback_id, opened[-1]["callback_id"]
    return opened[-1]


def input_ids(form: dict[str, Any]) -> set[str]:
    return {str(b["block_id"]) for b in form["blocks"] if b.get("type") == "input"}


def options(form: dict[str, Any], block_id: str) -> list[int]:
    for block in form["blocks"]:
        if block.get("block_id") == block_id:
            return sorted(int(o["value"]) for o in block["element"]["options"])
    return []


def picked(values: list[int], bits: int, shift: int) -> list[int]:
    return [v for i, v in enumerate(values) if (bits >> ((i + shift) % 16)) & 1]


def request_of(harness: Harness, pair: Pair, publication: Publication) -> Message | None:
    """The mentor's DM asking to approve ``publication``, while it still asks."""
    dm = harness.emulator.workspace.dm_channel(pair.mentor)
    for message in reversed(harness.emulator.messages(dm)):
        found = buttons({"blocks": message.blocks})
        if (pair_blocks.APPROVE_ACTION, str(publication.id)) in {(a, v) for _l, a, v in found}:
            return message
    return None


def consents(message: Message) -> dict[int, str]:
    """The request's consent buttons: reply id → the button's value."""
    return {
        int(value.split(":")[1]): value
        for _label, action_id, value in buttons({"blocks": message.blocks})
        if action_id.startswith(pair_blocks.CONSENT_ACTION)
    }


def belongs(pair: Pair, action_id: str, value: str) -> bool:
    """Is this button one of ``pair``'s own (not another pair's the same person is in)?"""
    head = value.partition(":")[0]
    number = int(head) if head.isdigit() else -1
    if action_id in (pair_blocks.REPLY_ACTION, pair_blocks.READ_ACTION):
        return number in pair.reflections
    if action_id == pair_blocks.ACTION_FROM_ACTION:
        return number in pair.feedback
    if action_id.startswith(pair_blocks.CONSENT_ACTION):
        return number in pair.publications
    if action_id in (pair_blocks.APPROVE_ACTION, pair_blocks.REFUSE_ACTION):
        return number in pair.publications
    if action_id.startswith("pair_"):  # invitation, agreement, look-back, action items
        return number == pair.id
    return False


def act(harness: Harness, world: World, kind: str, who: int, bits: int = 0) -> Sent | None:
    """One action; the post it approved, if it did."""
    pair = world.pairs[who % len(world.pairs)]
    word = token()
    text = f"{word} about disruption and the value network"
    services = harness.runtime.services
    if kind == "for-mentor":
        harness.say(pair.mentee, "/reflect", text, channel=pair.channel)
        world.allowed[word] = frozenset({pair.mentee, pair.mentor})
        pair.written_for_mentor.add(word)
        latest = services.reflections.list_own(TEAM, pair.mentee)[-1]
        assert latest.visibility is Visibility.MENTOR
        pair.latest_for_mentor.append(latest.number or 0)
        pair.reflections[latest.id or 0] = word
    elif kind == "private":
        harness.say(pair.mentee, "/reflect", f"private: {text}", channel=pair.channel)
        world.allowed[word] = frozenset({pair.mentee})
        latest = services.reflections.list_own(TEAM, pair.mentee)[-1]
        pair.reflections[latest.id or 0] = word
    elif kind == "shared":
        harness.say(pair.mentee, "/reflect", f"shared: {text}", channel=pair.channel)
        world.allowed[word] = frozenset({pair.mentee, pair.mentor})  # their conversation
        latest = services.reflections.list_own(TEAM, pair.mentee)[-1]
        pair.reflections[latest.id or 0] = word
    elif kind in ("reply", "mentee-reply"):
        # On a reflection of this pair (the mentor may be a mentee in another pair).
        author = pair.mentor if kind == "reply" else pair.mentee
        theirs = {str(r.id) for r in services.reflections.list_own(TEAM, pair.mentee)}
        before = open_view_ids(harness, author)
        on = click(harness, author, pair_blocks.REPLY_ACTION, theirs)
        form = new_form(harness, author, before, PAIR_REPLY) if on else None
        if on and form is not None:
            world.allowed[word] = frozenset({pair.mentee, pair.mentor})
            harness.submit(form["id"], {"text": {"value": text}}, author)
            conversation = services.pairs.conversation(TEAM, pair.mentee, int(on))
            (reply,) = [f for f in conversation.feedback if word in f.text]
            pair.feedback.add(reply.id or 0)
            if kind == "reply":
                pair.mentor_notes[reply.id or 0] = (int(on), word)
    elif kind == "take-back":
        if pair.latest_for_mentor:
            number = pair.latest_for_mentor.pop()
            mine = services.reflections.get_own(TEAM, pair.mentee, number).reflection
            for written in re.findall(r"zp[a-z]{6}", mine.text):
                world.allowed[written] = frozenset({pair.mentee})  # from now on
            harness.say(pair.mentee, "/reflect", f"edit {number} private", channel=pair.channel)
    elif kind == "action":
        harness.say(pair.mentor, "/mentor", f"action {text}", channel=pair.channel)
        world.allowed[word] = frozenset({pair.mentee, pair.mentor})
    elif kind == "goals":
        write_goals(harness, world, pair, word, bits)
    elif kind == "agree":
        if pair.goals_by:
            click(harness, pair.partner_of(pair.goals_by), pair_blocks.AGREE_ACTION, {str(pair.id)})
    elif kind == "look-back":
        look_back(harness, world, pair, pair.people[bits & 1], word)
    elif kind == "publish":
        publish(harness, world, pair, bits)
    elif kind in ("consent", "approve", "decline"):
        return decide(harness, pair, kind, bits)
    elif kind == "intruder":
        intrude(harness, world, pair, who, bits)
    else:  # a group member's private reflection, in the group's channel
        author = world.people[who % len(world.people)]
        harness.say(author, "/reflect", f"private: {text}", channel=world.group)
        world.allowed[word] = frozenset({author})
    return None


def write_goals(harness: Harness, world: World, pair: Pair, word: str, bits: int) -> None:
    """One of the two writes (or rewrites) the agreement: `/mentor goals`, or a button
    (“Change them” in their DM, “Write our agreement” in the pair's welcome)."""
    writer = pair.people[bits & 1]
    before = open_view_ids(harness, writer)
    if bits & 2:
        opened = click(harness, writer, pair_blocks.GOALS_ACTION, {str(pair.id)})
        if opened is None:
            opened = click(
                harness, writer, pair_blocks.GOALS_ACTION, {str(pair.id)}, channel=pair.channel
            )
        assert opened is not None  # the welcome's button is always there
    else:
        harness.say(writer, "/mentor", "goals", channel=pair.channel)
    form = new_form(harness, writer, before, PAIR_GOALS)
    assert form is not None
    goals = [word] + ([token()] if bits & 4 else [])
    values = {"goals": {"value": "\n".join(f"- {g} in my product area" for g in goals)}}
    hopes = token()
    if "hopes" in input_ids(form):  # the mentee's own question
        assert writer == pair.mentee
        values["hopes"] = {"value": f"{hopes} in five years" if bits & 8 else ""}
    for written in [*goals, hopes]:
        world.hide(written, *pair.people, dm_only=True)
    harness.submit(form["id"], values, writer)
    pair.goals, pair.goals_by = set(goals), writer
    pair.written.update({g: writer for g in goals})
    if "hopes" in values and bits & 8:
        pair.written[hopes] = writer


def look_back(harness: Harness, world: World, pair: Pair, person: str, word: str) -> None:
    before = open_view_ids(harness, person)
    if click(harness, person, pair_blocks.LOOK_BACK_ACTION, {str(pair.id)}) is None:
        return  # not asked yet (the book has not ended, or there are no goals)
    form = new_form(harness, person, before, PAIR_LOOK_BACK)
    assert form is not None
    assert pair.goals <= words(json.dumps(form)), "the form shows the goals as they stand"
    world.hide(word, *pair.people, dm_only=True)
    harness.submit(form["id"], {"text": {"value": f"{word}, mostly"}}, person)
    pair.written[word] = person


def publish(harness: Harness, world: World, pair: Pair, bits: int) -> None:
    """The mentee picks reflections and the mentor's replies to quote; the mentor is asked,
    reply by reply."""
    before = open_view_ids(harness, pair.mentee)
    harness.say(pair.mentee, "/mentor", "publish", channel=pair.channel)
    form = new_form(harness, pair.mentee, before, PAIR_PUBLISH)
    if form is None:
        assert not pair.reflections  # only when there is nothing to publish
        return
    offered, quotable = options(form, "reflections"), options(form, "notes")
    assert offered == sorted(pair.reflections), "her own reflections on the book, only"
    assert quotable == sorted(pair.mentor_notes), "the mentor's replies to her, only"
    chosen = picked(offered, bits, 0) or offered[-1:]
    notes = picked(quotable, bits, 7)
    if bits & NEWEST:  # and the newest reflection, with the two newest replies (on it)
        chosen, notes = sorted({*chosen, offered[-1]}), sorted({*notes, *quotable[-2:]})
    values: dict[str, dict[str, Any]] = {"reflections": {"value": [str(r) for r in chosen]}}
    if "notes" in input_ids(form):
        values["notes"] = {"value": [str(f) for f in notes]}
    known = {p.id for p in pair.publications.values()}
    harness.submit(form["id"], values, pair.mentee)
    dm = harness.emulator.workspace.dm_channel(pair.mentor)
    (asked,) = [
        int(v)
        for m in harness.emulator.messages(dm)
        for _l, a, v in buttons({"blocks": m.blocks})
        if a == pair_blocks.APPROVE_ACTION and int(v) not in known
    ]
    requested = {f for f in notes if pair.mentor_notes[f][0] in chosen}
    publication = Publication(asked, chosen, requested)
    pair.publications[asked] = publication
    message = request_of(harness, pair, publication)
    assert message is not None
    assert set(consents(message)) == requested, "one consent button per reply to quote"


def decide(harness: Harness, pair: Pair, kind: str, bits: int) -> Sent | None:
    """The mentor allows (or leaves out) one reply of a pending post, or approves or
    declines it."""
    pending = pair.pending()
    if not pending:
        return None
    publication = pending[-1 - (bits & 7) % len(pending)]  # 0: the newest
    message = request_of(harness, pair, publication)
    assert message is not None, "a post waiting for the mentor has its buttons"
    if kind == "consent":
        choices = sorted(consents(message).items())
        if not choices:
            return None
        note, value = choices[(bits >> 3) % len(choices)]
        press(harness, pair.mentor, message, f"{pair_blocks.CONSENT_ACTION}:{note}", value)
        if value.endswith(":1"):
            publication.allowed.add(note)
        else:
            publication.allowed.discard(note)
        now = request_of(harness, pair, publication)
        assert now is not None
        assert consents(now) == {
            f: f"{publication.id}:{f}:{0 if f in publication.allowed else 1}"
            for f in publication.requested
        }, "the request shows each reply's consent as it now stands"
        return None
    approve = kind == "approve"
    action = pair_blocks.APPROVE_ACTION if approve else pair_blocks.REFUSE_ACTION
    press(harness, pair.mentor, message, action, str(publication.id))
    publication.state = "sent" if approve else "declined"
    assert request_of(harness, pair, publication) is None  # decided: no buttons left
    return (pair, publication) if approve else None


def intrude(harness: Harness, world: World, pair: Pair, who: int, bits: int) -> None:
    """Someone outside the pair clicks one of its buttons (as in the pairing test: a
    button on a message of one of the two)."""
    outsiders = [p for p in world.people if p not in pair.people]
    intruder = outsiders[who % len(outsiders)]
    targets = [
        (message, action_id, value)
        for where in (
            *(harness.emulator.workspace.dm_channel(p) for p in pair.people),
            pair.channel,
        )
        for message in harness.emulator.messages(where)
        if not message.deleted
        for _label, action_id, value in buttons({"blocks": message.blocks})
        if belongs(pair, action_id, value)
    ]
    if targets:
        message, action_id, value = targets[bits % len(targets)]
        press(harness, intruder, message, action_id, value)


def check(
    harness: Harness,
    world: World,
    mark: tuple[int, int, int],
    what: str,
    sent: Sent | None = None,
    exports: bool = False,
) -> None:
    """Everything shown since ``mark``: who saw each word; the agreement and look-backs
    only ever shown to one person at a time (a DM, a form, App Home: never posted in a
    conversation, not even the pair's own); no file but the post just approved (or, with
    ``exports``, members' own exports)."""
    emulator = harness.emulator
    shown = emulator.shown(mark)
    world.check(shown, what)
    for audience, text in shown:
        leaked = world.dm_only & words(text)
        assert len(audience) <= 1 or not leaked, (
            f"{what}: {sorted(leaked)} shown to {sorted(audience)} together: {text[:300]}"
        )
    if exports:
        return
    files = emulator.uploaded_files()[mark[2] :]
    if sent is None:
        assert files == [], f"{what}: a file was sent: {[f.name for f in files]}"
        return
    pair, publication = sent
    assert len(files) == 1, f"{what}: {len(files)} files for one approved post"
    (post,) = files
    assert post.channel == emulator.workspace.dm_channel(pair.mentee), "the mentee's DM only"
    content = words((post.content or b"").decode()) & set(world.allowed)
    chosen = {pair.reflections[r] for r in publication.reflections}
    quoted = {pair.mentor_notes[f][1] for f in publication.allowed}
    assert content == chosen | quoted, (
        f"{what}: the post has {sorted(content - chosen - quoted)} not chosen or consented "
        f"and lacks {sorted((chosen | quoted) - content)}"
    )


def start_plan(harness: Harness, user: str, channel: str, title: str) -> None:
    today = harness.clock.now().date().isoformat()
    out = harness.say(
        user, "/book", f"start {title} every monday at 09:00 from {today}", channel=channel
    )
    assert "started a reading plan" in out, out


def next_steps(harness: Harness) -> None:
    harness.clock.advance(timedelta(days=7))
    harness.runtime.services.run_due()
    harness.drain()


ACTIONS = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 3), st.integers(0, 2**16 - 1)),
    min_size=2,
    max_size=8,
)


@pytest.mark.slow
@settings(
    max_examples=3,  # each example is a whole workspace over HTTP (6-10 s), after the one above
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    two_pairs=st.booleans(),
    first=ACTIONS,
    second=ACTIONS,
    third=ACTIONS,
    closing=st.integers(0, 2**16 - 1),
)
@example(  # every new path, in every run: agreements, look-backs, posts allowed and not
    two_pairs=True,
    first=[
        ("for-mentor", 0, 0),
        ("goals", 0, 0b1100),  # the mentee, `/mentor goals`: two goals, her hopes
        ("reply", 0, 0),
        ("agree", 0, 0),
        ("shared", 1, 0),
        ("goals", 1, 0b0111),  # the other pair's mentor, by a button: two goals
    ],
    second=[
        ("mentee-reply", 0, 0),
        ("agree", 1, 0),
        ("publish", 0, 0b11 | 1 << 7 | 1 << 8),
        ("intruder", 0, 5),
        ("consent", 0, 0),
        ("decline", 0, 0),
        ("action", 1, 0),
        ("group-private", 0, 0),
    ],
    third=[
        ("look-back", 0, 1),
        ("take-back", 0, 0),
        ("private", 0, 0),
        ("goals", 0, 0b1011),  # the mentor rewrites them after the end
        ("publish", 1, 0xFFFF),
        ("consent", 1, 0),
        ("intruder", 1, 3),
        ("approve", 1, 0),
    ],
    closing=0b101,
)
def test_what_a_pair_writes_reaches_only_the_two_and_never_a_log_line(
    harness: Harness,
    two_pairs: bool,
    first: list[tuple[str, int, int]],
    second: list[tuple[str, int, int]],
    third: list[tuple[str, int, int]],
    closing: int,
) -> None:
    logs = io.StringIO()  # what the program's own log handler writes, at DEBUG
    handler = log_handler("text", logs)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        run_example(harness, two_pairs, first, second, third, closing, logs)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def run_example(
    harness: Harness,
    two_pairs: bool,
    first: list[tuple[str, int, int]],
    second: list[tuple[str, int, int]],
    third: list[tuple[str, int, int]],
    closing: int,
    logs: io.StringIO,
) -> None:
    n = next(_examples)
    emulator, services = harness.emulator, harness.runtime.services
    people = [f"U0Q{n:04d}P{i}" for i in range(4)]
    for i, person in enumerate(people):
        emulator.add_user(person, f"pp{n}x{i}", real_name=f"Person {n}-{i}")
    group = f"C0PAIRG{n:04d}"
    emulator.add_channel(group, f"group-{n}", members=[*people, emulator.bot_user_id])
    pairs = [Pair(people[0], people[1])]
    if two_pairs:  # people[1] mentors people[0] and is mentored by people[2]
        pairs.append(Pair(people[1], people[2]))
    world = World(people, group, pairs)
    services.books.add(TEAM, people[0], f"Dilemma {n}", "C. Christensen", "3")

    for pair in pairs:
        name = emulator.workspace.user(pair.mentor).name
        assert "I've asked" in harness.say(pair.mentee, "/mentor", f"@{name}", channel=group)
        assert click(harness, pair.mentor, pair_blocks.ACCEPT_ACTION)
        (found,) = [
            p for p in services.pairs.pairs_of(TEAM, pair.mentee) if p.mentor_id == pair.mentor
        ]
        assert found.channel_id
        pair.channel, pair.id = found.channel_id, found.id or 0
        start_plan(harness, pair.mentee, pair.channel, f"Dilemma {n}")
    start_plan(harness, people[3], group, f"Dilemma {n}")
    services.run_due()  # step 1's prompts, due now
    harness.drain()

    mark = emulator.shown_mark()

    def step(kind: str, who: int, bits: int) -> None:
        nonlocal mark
        sent = act(harness, world, kind, who, bits)
        check(harness, world, mark, f"after {kind}", sent)
        mark = emulator.shown_mark()

    for kind, who, bits in first:
        step(kind, who, bits)
    next_steps(harness)  # step 2: prompts (with open action items), step digests
    for kind, who, bits in second:
        step(kind, who, bits)
    for _ in range(3):
        next_steps(harness)  # the last steps, the wrap-ups, the look-back asks
    for pair in pairs:  # asked to look back at the goals as they stand, both of them
        for person in pair.people if pair.goals else ():
            dm = emulator.workspace.dm_channel(person)
            asks = [
                m
                for m in emulator.messages(dm)
                if (pair_blocks.LOOK_BACK_ACTION, str(pair.id))
                in {(a, v) for _l, a, v in buttons({"blocks": m.blocks})}
            ]
            assert len(asks) == 1, f"{person} was asked {len(asks)} times to look back"
            assert pair.goals <= words(json.dumps(asks[0].blocks))
    for kind, who, bits in third:  # after the book: looking back, late words, publishing
        step(kind, who, bits)
    services.run_due()  # goals written after the end are looked back at too
    harness.drain()
    for i, pair in enumerate(pairs):  # both look back; a post, with a reply allowed or more
        for kind, bits in (
            ("look-back", 0),
            ("look-back", 1),
            ("for-mentor", 0),
            ("reply", 0),
            ("reply", 0),  # two on the newest reflection
            ("publish", closing | NEWEST),
        ):
            step(kind, i, bits)
        publication = pair.pending()[-1]
        asked = sorted(publication.requested)
        assert len(asked) >= 2, "both replies are asked for"
        for k, note in enumerate(asked):
            if note == asked[-1] or (closing >> (k % 16)) & 1:
                step("consent", i, k << 3)  # that reply, on the newest post
        step("approve", i, 0)
        assert publication.state == "sent" and publication.allowed
    for person in people:
        harness.say(person, "/book", "summary book", channel=group)
        harness.say(person, "/reflect", "export", channel=group)
        harness.slack.app_home_opened(person)
        harness.drain()
    assert "active pair" in harness.say(CAROL, "/mentor", "cohort")  # a workspace admin
    check(harness, world, mark, "digests, exports and App Home", exports=True)

    record = services.exports.record()
    cohort = services.pairs.cohort(Caller(TEAM, people[3], is_admin=True))
    hidden = set(world.allowed)
    for text in (json.dumps(record), record_markdown(record), repr(cohort)):
        assert not hidden & set(re.findall(r"zp[a-z]{6}", text))
    assert not hidden & set(re.findall(r"zp[a-z]{6}", logs.getvalue())), "a word reached a log"
    # Not vacuous: each mentor was shown what was written for them; each of the pair saw
    # the agreement and look-backs the other wrote; every pair's post went out.
    shown = emulator.shown()
    for pair in pairs:
        meant = pair.written_for_mentor
        seen_by_mentor = " ".join(t for a, t in shown if pair.mentor in a)
        assert meant <= set(re.findall(r"zp[a-z]{6}", seen_by_mentor))
        for person in pair.people:
            seen = words(" ".join(t for a, t in shown if person in a))
            theirs = {w for w, writer in pair.written.items() if writer != person}
            assert theirs <= seen, f"{person} never saw {sorted(theirs - seen)}"
        assert any(p.state == "sent" for p in pair.publications.values())
