"""Digest composition (pure): consent to be quoted, late reflections, empty digests."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import plans as rules
from bot.domain import timeline
from bot.domain.digests import Digest, DigestKind, compose_digest
from bot.domain.discussions import ThreadMessage
from bot.domain.markup import Names
from bot.domain.model import Book, Cadence, Chapter, Plan, Reflection, StepState, Visibility
from bot.domain.privacy import written_late

NOW = datetime.now(UTC).replace(microsecond=0)
BOOK = Book(1, "Dune", "Frank Herbert", [Chapter(i) for i in range(1, 5)], id=1)


def make_plan() -> Plan:
    """Four weekly steps of one chapter, the first one posted a week ago (derived from now)."""
    plan = rules.new_plan(
        book=BOOK,
        group_id=1,
        host_user_id="UHOST",
        cadence=Cadence.every(7, time(9)),
        chapters_per_step=1,
        start_date=(NOW - timedelta(days=8)).date(),
        timezone="UTC",
        now=NOW - timedelta(days=9),
    )
    plan.id = 5
    for step in plan.steps:
        step.id = 100 + step.number
    plan.steps[0].state = StepState.POSTED
    plan.steps[0].posted_at = plan.steps[0].due_at
    plan.steps[0].message_ts = "1000.0001"
    return plan


def reflection(
    user: str, text: str, *, private: bool = False, at: datetime | None = None, step: int = 1
) -> Reflection:
    return Reflection(
        5,
        step,
        user,
        text,
        Visibility.PRIVATE if private else Visibility.SHARED,
        at or NOW,
        id=abs(hash((user, text))) % 10**6,
    )


def reply(user: str, text: str, ts: str, step_id: int = 101) -> ThreadMessage:
    return ThreadMessage("C1", ts, "1000.0001", user, text, NOW, step_id=step_id)


def compose(
    plan: Plan,
    reflections: Sequence[Reflection],
    messages: Sequence[ThreadMessage],
    quotable: Collection[str],
    kind: DigestKind = DigestKind.STEP,
) -> Digest:
    return compose_digest(
        kind=kind,
        plan=plan,
        book=BOOK,
        channel_id="C1",
        steps=[plan.steps[0]],
        reflections=reflections,
        messages=messages,
        reflection_reactions={},
        now=NOW,
        quotable=quotable,
    )


def test_only_quotable_members_are_quoted_but_everyone_is_counted() -> None:
    plan = make_plan()
    digest = compose(
        plan,
        [
            reflection("UQ", "quotable thoughts about sandworms and spice harvesting"),
            reflection("UN", "unquotable musings regarding zanzibar quokkas"),
            reflection("UP", "private platypus diary", private=True),
        ],
        [
            reply("UN", "unquotable reply about walrus economics", "1000.0002"),
            reply("UQ", "quotable reply about desert ecology", "1000.0003"),
        ],
        quotable={"UQ"},
    )
    assert {h.author_id for h in digest.highlights} == {"UQ"}
    assert len(digest.highlights) == 2
    assert {p.user_id for p in digest.participants} == {"UQ", "UN"}  # never UP: private only
    assert digest.reflection_count == 2 and digest.reply_count == 2
    themes = " ".join(digest.themes).lower()
    for word in ("zanzibar", "quokkas", "walrus", "platypus", "unquotable"):
        assert word not in themes
    assert not digest.is_empty


def test_nobody_opted_in_means_no_highlights_and_no_themes() -> None:
    plan = make_plan()
    digest = compose(
        plan,
        [reflection("UN", "many words about sandworms and the spice and the desert")],
        [reply("UM", "more words about the desert planet and its water", "1000.0002")],
        quotable=set(),
    )
    assert digest.highlights == [] and digest.themes == []
    assert digest.reflection_count == 1 and digest.reply_count == 1


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["U1", "U2", "U3", "U4"]),
            st.booleans(),  # private
            st.booleans(),  # a reply rather than a reflection
        ),
        max_size=12,
    ),
    st.sets(st.sampled_from(["U1", "U2", "U3", "U4"])),
)
def test_property_nothing_of_the_unwilling_or_private_is_quoted(
    items: list[tuple[str, bool, bool]], quotable: set[str]
) -> None:
    plan = make_plan()
    reflections: list[Reflection] = []
    messages: list[ThreadMessage] = []
    forbidden: set[str] = set()
    for i, (user, private, is_reply) in enumerate(items):
        token = f"tok{i}x{user.lower()}"
        text = f"{token} thinks about the desert and spice"
        if is_reply:
            messages.append(reply(user, text, f"1000.{i + 10:04d}"))
        else:
            reflections.append(reflection(user, text, private=private))
        if (private and not is_reply) or user not in quotable:
            forbidden.add(token)
    digest = compose(plan, reflections, messages, quotable)
    shown = " ".join(h.text for h in digest.highlights) + " " + " ".join(digest.themes)
    assert not any(token in shown.lower() for token in forbidden)
    assert digest.is_empty == (digest.reflection_count == 0 and digest.reply_count == 0)


def test_empty_digest() -> None:
    plan = make_plan()
    digest = compose(plan, [reflection("U1", "private only", private=True)], [], {"U1"})
    assert digest.is_empty and digest.participants == []


def test_reflections_after_their_step_closed_are_late() -> None:
    plan = make_plan()
    closes = timeline.step_deadline(plan, plan.steps[0])
    on_time = reflection("U1", "on time words", at=closes - timedelta(minutes=1))
    late = reflection("U2", "late words", at=closes)
    later = reflection("U3", "later words", at=closes + timedelta(days=3))
    hidden = reflection("U4", "late private words", at=closes + timedelta(days=3), private=True)
    assert not written_late(plan, on_time)
    assert written_late(plan, late) and written_late(plan, later)
    digest = compose(plan, [on_time, late, later, hidden], [], {"U1"}, kind=DigestKind.BOOK)
    assert digest.late_count == 2  # the private one is not counted, not even as late


def test_quoted_reply_is_plain_text_with_names() -> None:
    plan = make_plan()
    digest = compose(
        plan,
        [],
        [
            reply(
                "UQ",
                "<!channel> ask <@U0ALICE0001> about <https://x.example|this> &amp; that",
                "1.2",
            )
        ],
        quotable={"UQ"},
    )
    names = Names(users={"U0ALICE0001": "Alice"})
    assert digest.mentioned_users() == {"U0ALICE0001"}
    assert (
        digest.highlights[0].plain_text(names)
        == "@channel ask @Alice about this (https://x.example) & that"
    )


def test_a_theme_is_something_several_texts_share_never_one_message_or_a_seam() -> None:
    """Console: themes read "bob reply · reply platypus" (one message's words, and word
    pairs spanning two messages). A theme must stand in at least two of the texts."""
    from bot.domain.digests import themes

    found = themes(
        [
            "The harbour is memory, says the old sailor",
            "A harbour keeps secrets for the whole town",
            "platypus OPTOUTLATER",
            "reply bob",
        ]
    )
    lowered = [t.lower() for t in found]
    assert "harbour" in lowered
    assert not any("platypus" in t or "optoutlater" in t or "bob" in t for t in lowered)
    assert not any("sailor" in t and "harbour" in t for t in lowered)
