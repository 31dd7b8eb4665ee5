"""Block Kit builders: limits and escaping, as properties."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.digests import Digest, DigestKind, Highlight, Participant
from bot.domain.model import Book, Cadence, Chapter, Plan, Reflection, Step, Visibility
from bot.domain.prompts import PromptContent
from bot.slack import blocks
from bot.slack.text import escape

NOW = datetime(2026, 12, 7, 8, tzinfo=UTC)
DANGEROUS = st.text(
    alphabet=st.sampled_from(list("<>&!@#|:/ abcUC0123\n")), max_size=200
) | st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U0123456789>",
        "<#C0123456789>",
        "<https://evil.example|click>",
        "&lt;!channel&gt;",
    ]
)
SLACK_CONTROL = re.compile(r"<[!@#]|<https?:")


def _rendered(message: blocks.Message) -> str:
    return json.dumps([b.to_dict() for b in message.blocks])


def _user_parts(message: blocks.Message, own_mentions: set[str]) -> str:
    text = _rendered(message)
    for m in own_mentions:
        text = text.replace(m, "")
    return text


def _digest(user_text: str, participants: int = 3) -> Digest:
    step = Step(number=1, first_chapter=1, last_chapter=2, due_at=NOW, id=1)
    return Digest(
        kind=DigestKind.STEP,
        title="Step 1",
        book_title=user_text[:100] or "Book",
        book_author=user_text[:50] or "Author",
        steps=[step],
        participants=[Participant(f"U{i:010d}", 1, 2) for i in range(participants)],
        highlights=[Highlight("U0000000001", user_text or "x", 3, "C1", "1.1", "reply")],
        themes=[user_text[:30] or "theme"],
        next_step=step,
        timezone="Europe/Berlin",
        channel_id="C1",
    )


@settings(max_examples=150, deadline=None)
@given(DANGEROUS)
def test_user_text_never_becomes_a_mention_or_link(user_text: str) -> None:
    book = Book(
        1,
        user_text or "T",
        user_text or "A",
        [Chapter(1, user_text or None, [user_text or "q"])],
        id=1,
    )
    reflection = Reflection(1, 1, "U0000000001", user_text or "t", Visibility.SHARED, NOW, id=5)
    step = Step(number=1, first_chapter=1, last_chapter=1, due_at=NOW, id=1)
    content = PromptContent(
        1,
        1,
        1,
        3,
        user_text or "T",
        user_text or "A",
        [(1, user_text or None)],
        [user_text or "q"],
        NOW,
        None,
        "UTC",
    )
    plan = Plan(
        1,
        1,
        "U0000000009",
        Cadence.weekly(0, time(9)),
        1,
        NOW.date(),
        "UTC",
        NOW,
        steps=[step],
        id=1,
    )
    from bot.domain.model import Group
    from bot.services.plans import PlanView

    view = PlanView(plan, book, Group(1, "C1", id=1))
    ours = {"<@U0000000000>", "<@U0000000001>", "<@U0000000002>", "<@U0000000009>", "<#C1>"}
    for message in [
        blocks.book_added(book),
        blocks.book_list([book]),
        blocks.reflection_echo(reflection, step),
        blocks.reflection_list([reflection]),
        blocks.prompt_message(content),
        blocks.plan_started(view),
        blocks.plan_schedule(view),
        blocks.error(user_text),
        blocks.notice(user_text),
        *blocks.digest_messages(_digest(user_text), {}),
    ]:
        assert not SLACK_CONTROL.search(_user_parts(message, ours)), message


def test_escape_is_the_three_entities() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_huge_digest_splits_into_messages_within_limits() -> None:
    messages = blocks.digest_messages(
        _digest("words " * 1000, participants=6000), {"1.1": "https://x.slack.com/p1"}
    )
    assert len(messages) >= 2
    for message in messages:
        assert len(message.blocks) <= 50
        for block in message.blocks:
            data = block.to_dict()
            if data["type"] == "section":
                assert len(data["text"]["text"]) <= 3000
    everything = "".join(_rendered(m) for m in messages)
    assert all(f"<@U{i:010d}>" in everything for i in range(6000))
