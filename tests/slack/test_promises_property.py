"""Every promise a confirmation makes, checked against what actually reached Slack.

Members write and edit reflections in random phrasings (keywords in any case, with or
without colons, chapter options, prose that merely starts with "Private"), through the
real bolt app. After each command, the bot's own confirmation is read, and its promise is
held against every message, update, upload and App Home the emulator received:

- "Only you can see it": the words appear nowhere but the author's own answers.
- "It is shared in the step's thread": the words are in the thread.
"""

from __future__ import annotations

import html
import itertools
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import ALICE, BOB, CAROL, CLUB, Harness, block_text

TEAM = "T0EMULATOR1"
MEMBERS = (ALICE, BOB, CAROL)

PHRASINGS = (
    "private: {t}",
    "Private: {t}",
    "PRIVATE {t}",
    "private {t}",
    "(private) {t}",
    "[Private] {t}",
    "ch 2 private {t}",
    "private ch 1: {t}",
    "Chapter 2: private {t}",
    "shared: {t}",
    "{t}",
    "Chapter 1: {t}",
    "chapter 2 is where {t}",
)
EDITS = ("edit {n} private", "edit {n} shared", "edit {n} private: {t}", "edit {n} ch 1")

words = st.lists(
    st.sampled_from(["the", "desert", "spice", "I", "loved", "&", "<3", "it's", "why?", "Paul"]),
    max_size=4,
).map(" ".join)


@st.composite
def actions(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(member, what they type after /reflect), with a fresh token in every text."""
    out: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(1, 5))):
        member = draw(st.sampled_from(MEMBERS))
        text = f"@TOKEN@ {draw(words)}".strip()  # a token unique to the run, set when run
        if draw(st.booleans()) and out:
            pattern = draw(st.sampled_from(EDITS))
            out.append((member, pattern.format(n=draw(st.integers(1, 3)), t=text)))
        else:
            out.append((member, draw(st.sampled_from(PHRASINGS)).format(t=text)))
    return out


def _visible_to_others(harness: Harness, author: str) -> str:
    """Everything someone other than ``author`` can see in the workspace *now*: every
    live message in every conversation but the author's DM with the bot, ephemerals to
    others, the others' App Homes, and files."""
    workspace = harness.emulator.workspace
    own_dm = workspace.dm_channel(author) if workspace.has_dm(author) else None
    out: list[str] = []
    for channel in workspace.channels():
        if channel.id == own_dm:
            continue
        for message in harness.emulator.messages(channel.id):
            if not message.deleted:
                out.append(block_text(message.blocks) + "\n" + message.text)
    for user in MEMBERS:
        if user == author:
            continue
        out += [block_text(m.blocks) + "\n" + m.text for m in harness.emulator.ephemerals(user)]
        home = harness.emulator.home_view(user)
        if home:
            out.append(json.dumps(home, ensure_ascii=False))
    out += [f.text for f in harness.emulator.uploaded_files()]
    return html.unescape("\n".join(out))


def _thread(harness: Harness) -> str:
    """Every live message in every prompt's thread."""
    view = harness.runtime.services.plans.current(TEAM, CLUB)
    texts = []
    for step in view.plan.steps:
        if step.message_ts:
            texts += [
                block_text(m.blocks) + m.text
                for m in harness.emulator.thread(CLUB, step.message_ts)
                if not m.deleted
            ]
    return html.unescape("\n".join(texts))


_started: set[int] = set()
_tokens = itertools.count(10**6)


def _ready(harness: Harness) -> None:
    """A plan whose first prompt is out (once per harness)."""
    if id(harness) in _started:
        return
    _started.add(id(harness))
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 4")
    harness.say(ALICE, "/book", "start Dune every monday at 09:00 2 chapters")
    view = harness.runtime.services.plans.current(TEAM, CLUB)
    harness.clock.set(view.plan.steps[0].due_at)
    harness.runtime.services.run_due()
    harness.drain()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=actions())
def test_what_a_confirmation_promises_is_what_happened(
    harness: Harness, script: list[tuple[str, str]]
) -> None:
    _ready(harness)
    for member, pattern in script:
        typed = pattern.replace("@TOKEN@", f"tok{next(_tokens)}x")
        answer = harness.say(member, "/reflect", typed)
        number = re.search(r"reflection \*#(\d+)\*", answer)
        if number is None:
            continue  # not saved (a question, a refusal): nothing was promised
        mine = harness.runtime.services.reflections.get_own(TEAM, member, int(number[1]))
        tokens = re.findall(r"tok\d+x", mine.reflection.text)
        if "Only you can see it" in answer:
            seen = _visible_to_others(harness, member)
            assert not [t for t in tokens if t in seen], (typed, answer)
        else:
            assert "It is shared in the step's thread" in answer, answer
            thread = _thread(harness)
            assert all(t in thread for t in tokens), (typed, answer)
    for user in MEMBERS:  # the promise holds for everything written so far, too
        seen = _visible_to_others(harness, user)
        for reflection in harness.runtime.services.reflections.list_own(TEAM, user):
            if reflection.visibility.value == "private":
                tokens = re.findall(r"tok\d+x", reflection.text)
                assert not [t for t in tokens if t in seen], reflection
