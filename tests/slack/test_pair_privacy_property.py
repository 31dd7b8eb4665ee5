"""Issue 11, "privacy is the product", as a property over the real bolt app.

Random pairs (a person may be a mentee in one and a mentor in another) and a reading
group share members. They write for the mentor, privately and shared, reply to each
other, add action items and take reflections back, at random; then prompts, digests, the
wrap-up and look-back, App Home, exports, the admin's record and the cohort view run.
After every action, everything the bot showed anyone (messages, ephemerals, modals, App
Home, files) is checked against who may see each word: words written for the mentor
reach only the two of the pair, private ones only their author, replies only the pair;
and none of them ever reaches a log line.
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

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.export import record_markdown
from bot.domain.model import Caller, Visibility
from bot.observability import log_handler
from bot.slack.blocks import pairs as pair_blocks
from tests.harness import Harness
from tests.slack.test_reflection_loop import buttons

TEAM = "T0EMULATOR1"
KINDS = ("for-mentor", "private", "shared", "reply", "take-back", "action", "group-private")

_examples = itertools.count()
_tokens = itertools.count()


def token() -> str:
    n = next(_tokens)
    return "zp" + "".join(string.ascii_lowercase[(n // 26**i) % 26] for i in range(6))


@dataclass
class Pair:
    mentee: str
    mentor: str
    channel: str = ""
    latest_for_mentor: list[int] = field(default_factory=list)  # reflection numbers
    written_for_mentor: set[str] = field(default_factory=set)  # and their words


@dataclass
class World:
    people: list[str]
    group: str
    pairs: list[Pair]
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)  # token → who may see it

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


def click(harness: Harness, user: str, action_prefix: str, values: set[str] | None = None) -> bool:
    """Click the newest button of ``action_prefix`` in ``user``'s DM (with one of
    ``values``, when given); False if there is none."""
    dm = harness.emulator.workspace.dm_channel(user)
    for message in reversed(harness.emulator.messages(dm)):
        for _label, action_id, value in buttons({"blocks": message.blocks}):
            if action_id.startswith(action_prefix) and (values is None or value in values):
                response = harness.slack.block_action(
                    user_id=user,
                    channel_id=message.channel,
                    message_ts=message.ts,
                    action_id=action_id,
                    value=value,
                )
                assert response.status == 200
                harness.drain()
                return True
    return False


def act(harness: Harness, world: World, kind: str, who: int) -> None:
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
    elif kind == "private":
        harness.say(pair.mentee, "/reflect", f"private: {text}", channel=pair.channel)
        world.allowed[word] = frozenset({pair.mentee})
    elif kind == "shared":
        harness.say(pair.mentee, "/reflect", f"shared: {text}", channel=pair.channel)
        world.allowed[word] = frozenset({pair.mentee, pair.mentor})  # their conversation
    elif kind == "reply":
        # On a reflection of this pair (the mentor may be a mentee in another pair).
        theirs = {str(r.id) for r in services.reflections.list_own(TEAM, pair.mentee)}
        if click(harness, pair.mentor, pair_blocks.REPLY_ACTION, theirs):
            form = harness.emulator.open_views(pair.mentor)[-1]
            harness.submit(form["id"], {"text": {"value": text}}, pair.mentor)
            world.allowed[word] = frozenset({pair.mentee, pair.mentor})
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
    else:  # a group member's private reflection, in the group's channel
        author = world.people[who % len(world.people)]
        harness.say(author, "/reflect", f"private: {text}", channel=world.group)
        world.allowed[word] = frozenset({author})


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


ACTIONS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 3)), min_size=2, max_size=8)


@pytest.mark.slow
@settings(
    max_examples=6,  # each example is a whole workspace over HTTP (about 2 s)
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(two_pairs=st.booleans(), first=ACTIONS, second=ACTIONS)
def test_what_a_pair_writes_reaches_only_the_two_and_never_a_log_line(
    harness: Harness,
    two_pairs: bool,
    first: list[tuple[str, int]],
    second: list[tuple[str, int]],
) -> None:
    logs = io.StringIO()  # what the program's own log handler writes, at DEBUG
    handler = log_handler("text", logs)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        run_example(harness, two_pairs, first, second, logs)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def run_example(
    harness: Harness,
    two_pairs: bool,
    first: list[tuple[str, int]],
    second: list[tuple[str, int]],
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
        pair.channel = found.channel_id
        start_plan(harness, pair.mentee, pair.channel, f"Dilemma {n}")
    start_plan(harness, people[3], group, f"Dilemma {n}")
    services.run_due()  # step 1's prompts, due now
    harness.drain()

    mark = emulator.shown_mark()
    for kind, who in first:
        act(harness, world, kind, who)
        world.check(emulator.shown(mark), f"after {kind}")
        mark = emulator.shown_mark()
    next_steps(harness)  # step 2: prompts (with open action items), step digests
    for kind, who in second:
        act(harness, world, kind, who)
        world.check(emulator.shown(mark), f"after {kind}")
        mark = emulator.shown_mark()
    for _ in range(3):
        next_steps(harness)  # the last steps, the wrap-ups, the look-back asks
    for person in people:
        harness.say(person, "/book", "summary book", channel=group)
        harness.say(person, "/reflect", "export", channel=group)
        harness.slack.app_home_opened(person)
        harness.drain()
    world.check(emulator.shown(mark), "digests, exports and App Home")

    record = services.exports.record()
    cohort = services.pairs.cohort(Caller(TEAM, people[3], is_admin=True))
    hidden = set(world.allowed)
    for text in (json.dumps(record), record_markdown(record), repr(cohort)):
        assert not hidden & set(re.findall(r"zp[a-z]{6}", text))
    assert not hidden & set(re.findall(r"zp[a-z]{6}", logs.getvalue())), "a word reached a log"
    # Not vacuous: each mentor was shown what was written for them.
    for pair in pairs:
        meant = pair.written_for_mentor
        seen_by_mentor = " ".join(t for a, t in emulator.shown() if pair.mentor in a)
        assert meant <= set(re.findall(r"zp[a-z]{6}", seen_by_mentor))
