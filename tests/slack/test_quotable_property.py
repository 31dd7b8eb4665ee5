"""Quoting only with consent (issue 10 #3), as a property over the real bolt app.

Random groups write shared and private reflections (`/reflect`), reply in prompt threads
(Events API) and turn `/reflect quotable on|off` at random. After a scheduled step digest,
`/book summary`, the wrap-up, every member's `/reflect export` and the admin's record, no
distinctive word of a member who has not opted in, nor of any private reflection, appears
in anything the bot sent anywhere, in any uploaded file (a member's own words in their
own export excepted), or in the record.
"""

from __future__ import annotations

import itertools
import json
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.domain import timeline
from bot.domain.export import record_markdown
from bot.domain.model import Cadence, Caller
from bot.emulator.models import UploadedFile
from bot.storage.models import ReflectionRow
from tests.harness import Harness

TEAM = "T0EMULATOR1"
KINDS = ("shared", "private", "reply")

_examples = itertools.count()
_tokens = itertools.count()


def token() -> str:
    """A word no one else writes: ``zq`` and six letters (fixed length: none holds another)."""
    n = next(_tokens)
    letters = "".join(string.ascii_lowercase[(n // 26**i) % 26] for i in range(6))
    return f"zq{letters}"


@dataclass
class World:
    """One random group: its channel, members, prompt threads and who wrote which word."""

    channel: str
    members: list[str]
    thread: str = ""
    quotable: dict[str, bool] = field(default_factory=dict)
    shared: dict[str, set[str]] = field(default_factory=dict)  # member → tokens of shared words
    replies: dict[str, set[str]] = field(default_factory=dict)
    private: set[str] = field(default_factory=set)

    def unwilling(self, *, except_for: str | None = None) -> set[str]:
        """Words of members who may not be quoted now (not the given member's own)."""
        out: set[str] = set()
        for member in self.members:
            if not self.quotable.get(member) and member != except_for:
                out |= self.shared.get(member, set()) | self.replies.get(member, set())
        return out

    def forbidden(self, *, except_for: str | None = None) -> set[str]:
        return self.unwilling(except_for=except_for) | self.private


def leaked(texts: Iterable[str], forbidden: set[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        found |= {w for w in re.findall(r"zq[a-z]{6}", text.lower()) if w in forbidden}
    return found


class Window:
    """Everything the bot sends from now on: Web API calls and response_url posts."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.calls = len(harness.emulator.calls)
        self.responses = len(harness.emulator.response_url_posts())
        self.files = len(harness.emulator.uploaded_files())

    def sent(self) -> list[str]:
        emulator = self.harness.emulator
        return [json.dumps(c.params, ensure_ascii=False) for c in emulator.calls[self.calls :]] + [
            json.dumps(p["payload"], ensure_ascii=False)
            for p in emulator.response_url_posts()[self.responses :]
        ]

    def new_files(self) -> list[UploadedFile]:
        return self.harness.emulator.uploaded_files()[self.files :]


def act(
    harness: Harness, world: World, actions: list[tuple[int, str]], quotable: list[bool]
) -> int:
    """Members write, reply and change their minds about being quoted. Returns how many
    shared words (reflections and replies) were written: what a digest counts."""
    for index, kind in actions:
        member = world.members[index % len(world.members)]
        word = token()
        text = f"{word} thinks the desert planet teaches patience and water discipline"
        if kind == "reply":
            _ts, response = harness.slack.user_posts(
                member, world.channel, text, thread_ts=world.thread
            )
            assert response.status == 200
            world.replies.setdefault(member, set()).add(word)
        elif kind == "private":
            harness.say(member, "/reflect", f"private: {text}", channel=world.channel)
            world.private.add(word)
        else:
            harness.say(member, "/reflect", text, channel=world.channel)
            world.shared.setdefault(member, set()).add(word)
    for member, on in zip(world.members, quotable, strict=False):
        harness.say(member, "/reflect", f"quotable {'on' if on else 'off'}", channel=world.channel)
        world.quotable[member] = on
    return sum(kind != "private" for _index, kind in actions)


def check(window: Window, world: World, what: str) -> None:
    found = leaked(window.sent(), world.forbidden())
    assert not found, f"{what} quoted words it may not: {found}"


def posted_digest(window: Window, world: World, title: str) -> bool:
    return any(
        c.method == "chat.postMessage"
        and c.params.get("channel") == world.channel
        and title in str(c.params.get("text"))
        for c in window.harness.emulator.calls[window.calls :]
    )


def stored_private(harness: Harness, world: World) -> int:
    with harness.runtime.session_factory() as session:
        return int(
            session.scalar(
                select(func.count(ReflectionRow.id)).where(
                    ReflectionRow.visibility == "private",
                    ReflectionRow.author_id.in_(world.members),
                )
            )
            or 0
        )


ACTIONS = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(KINDS)), max_size=7)
SETTINGS = st.lists(st.booleans(), min_size=4, max_size=4)


@settings(
    max_examples=12,  # each example is a whole group over HTTP (about 1 s)
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    size=st.integers(2, 4),
    first=ACTIONS,
    first_settings=SETTINGS,
    second=ACTIONS,
    second_settings=SETTINGS,
)
def test_nobody_is_quoted_without_consent_and_nothing_private_ever(
    harness: Harness,
    size: int,
    first: list[tuple[int, str]],
    first_settings: list[bool],
    second: list[tuple[int, str]],
    second_settings: list[bool],
) -> None:
    n = next(_examples)
    emulator, services = harness.emulator, harness.runtime.services
    world = World(f"C0PROP{n:05d}", [f"U0P{n:04d}M{i}" for i in range(size)])
    for i, member in enumerate(world.members):
        emulator.add_user(member, f"reader{n}m{i}", real_name=f"Reader {n}-{i}")
    emulator.add_channel(world.channel, f"club-{n}", members=[*world.members, emulator.bot_user_id])
    everything = Window(harness)
    host = world.members[0]
    services.books.add(TEAM, host, f"Book {n}", "Some Author", "2")
    tomorrow = harness.clock.now().date() + timedelta(days=1)
    view = services.plans.start(
        Caller(TEAM, host),
        world.channel,
        f"Book {n}",
        Cadence.weekly(tomorrow.weekday(), time(9)),
        1,
        tomorrow,
        "UTC",
    )
    plan = view.plan

    # Step 1: its prompt, then words and settings.
    harness.clock.set(plan.step(1).due_at)
    services.run_due()
    world.thread = services.plans.current(TEAM, world.channel).plan.step(1).message_ts or ""
    assert world.thread
    shared_first = act(harness, world, first, first_settings)
    assert stored_private(harness, world) == len(world.private)  # "private" was understood

    # Step 2's prompt closes step 1: the scheduled step digest.
    window = Window(harness)
    harness.clock.set(plan.step(2).due_at)
    services.run_due()
    check(window, world, "the step digest")
    assert posted_digest(window, world, "Step 1") == (shared_first > 0)  # not vacuous
    world.thread = services.plans.current(TEAM, world.channel).plan.step(2).message_ts or ""
    shared_second = act(harness, world, second, second_settings)
    assert stored_private(harness, world) == len(world.private)

    window = Window(harness)
    harness.say(world.members[-1], "/book", "summary", channel=world.channel)
    harness.say(world.members[-1], "/book", "summary book", channel=world.channel)
    check(window, world, "/book summary")

    window = Window(harness)
    end = timeline.plan_end(services.plans.current(TEAM, world.channel).plan)
    assert end is not None
    harness.clock.set(end)
    services.run_due()
    check(window, world, "the wrap-up")
    assert posted_digest(window, world, "Wrap-up") == (shared_first + shared_second > 0)

    for member in world.members:
        window = Window(harness)
        harness.say(member, "/reflect", "export", channel=world.channel)
        check(window, world, f"{member}'s export (messages)")
        for file in window.new_files():
            assert file.channel == emulator.dm_channel(member)
            found = leaked([file.text], world.forbidden(except_for=member) | world.private)
            assert not found, f"{member}'s export quoted words it may not: {found}"
            mine = {w for w in world.shared.get(member, set())}
            assert leaked([file.text], mine) == mine  # their own shared words are all there

    record = services.exports.record(channel_id=world.channel)
    texts = [json.dumps(record, ensure_ascii=False), record_markdown(record)]
    found = leaked(texts, world.forbidden())
    assert not found, f"the admin record holds words it may not: {found}"
    willing = {
        w for m in world.members if world.quotable.get(m) for w in world.shared.get(m, set())
    }
    assert leaked(texts, willing) == willing  # the words one may quote are kept

    # And over the whole story: no private word was ever posted to a channel.
    posts = [
        json.dumps(c.params, ensure_ascii=False)
        for c in emulator.calls[everything.calls :]
        if c.method in ("chat.postMessage", "chat.update")
        and c.params.get("channel") == world.channel
    ]
    assert not leaked(posts, world.private)
