"""ExportService over the real unit of work: consent, names, readable labels, what happened."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.domain.discussions import MessageChange, MessageEvent
from bot.domain.export import record_markdown, split_front_matter
from bot.domain.model import Book, Cadence, Caller, Member, Visibility
from bot.domain.pairs import Person
from bot.services.books import BookService
from bot.services.discussions import DiscussionService
from bot.services.export import ExportService
from bot.services.plans import PlanService, PlanView
from bot.services.ports import FakeClock
from bot.services.reflections import ReflectionService
from bot.storage.uow import SqlAlchemyUnitOfWork
from tests.services.conftest import CHANNEL, HOST, TEAM


class FakeDirectory:
    """Slack's users.info / conversations.info, as the Directory port promises: an id it
    cannot name comes back as the id itself."""

    def __init__(self, users: dict[str, str], channels: dict[str, str]) -> None:
        self.users = users
        self.channels = channels

    def user_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        return {u: self.users.get(u, u) for u in user_ids}

    def channel_name(self, channel_id: str) -> str:
        return self.channels.get(channel_id, channel_id)

    def is_admin(self, user_id: str) -> bool:
        return False

    def user_timezone(self, user_id: str) -> str | None:
        return None

    def person(self, user_id: str) -> Person:
        return Person(user_id, found=user_id in self.users)

    def permalink(self, channel_id: str, ts: str) -> str | None:
        return None


DIRECTORY = FakeDirectory(
    {"UHOST": "hostess", "UWILLING": "willa", "UUNWILLING": "una"}, {CHANNEL: "book-club"}
)


@pytest.fixture
def exports(uow: SqlAlchemyUnitOfWork, clock: FakeClock) -> ExportService:
    return ExportService(uow, clock, DIRECTORY)


def quotable(uow: SqlAlchemyUnitOfWork, clock: FakeClock, user_id: str) -> None:
    ReflectionService(uow, clock).set_member_flags(TEAM, user_id, quotable=True)


def first_prompt(plans: PlanService, uow: SqlAlchemyUnitOfWork, clock: FakeClock) -> str:
    """Mark step 1 posted (as the scheduler would) and move the clock into it."""
    view = plans.current(TEAM, CHANNEL)
    with uow() as unit:
        plan = unit.plans.get(view.plan.id or 0)
        assert plan is not None
        step = plan.steps[0]
        clock.set(step.due_at + timedelta(minutes=1))
        step.state, step.posted_at, step.message_ts = (
            step.state.POSTED,
            clock.now(),
            "1700000000.000100",
        )
        unit.plans.save(plan)
        unit.commit()
    return "1700000000.000100"


def test_record_withholds_unwilling_text_names_people_and_never_shows_private(
    started: PlanView,
    plans: PlanService,
    uow: SqlAlchemyUnitOfWork,
    clock: FakeClock,
    exports: ExportService,
) -> None:
    thread = first_prompt(plans, uow, clock)
    writer = ReflectionService(uow, clock)
    quotable(uow, clock, "UWILLING")
    writer.write(TEAM, CHANNEL, "UWILLING", "Willing words about <@UUNWILLING> and *Dorothea*")
    writer.write(TEAM, CHANNEL, "UUNWILLING", "Unwilling words about Casaubon")
    writer.write(TEAM, CHANNEL, "UWILLING", "Willing but private", visibility=Visibility.PRIVATE)
    discussions = DiscussionService(uow, clock)
    for i, (user, text) in enumerate(
        [("UWILLING", "a willing reply &amp; more"), ("UUNWILLING", "an unwilling reply")]
    ):
        discussions.record_message(
            MessageEvent(
                f"Ev{i}",
                TEAM,
                CHANNEL,
                f"1700000001.00000{i}",
                MessageChange.POSTED,
                thread,
                user,
                text,
            )
        )
    record = exports.record()
    dumped = json.dumps(record, ensure_ascii=False)
    markdown = record_markdown(record)
    for text in (dumped, markdown):
        assert "Willing words about @una and" in text
        assert "a willing reply & more" in text
        assert "Unwilling words" not in text and "an unwilling reply" not in text
        assert "private" not in text.replace("private reflections are never exported", "")
        assert "withheld" in text
    (plan,) = record["plans"]
    assert plan["channel_id"] == CHANNEL and plan["channel"] == "book-club"
    assert plan["host_user_id"] == "UHOST" and plan["host"] == "hostess"
    step = plan["steps"][0]
    assert step["chapters"] == "chapters 1–3"
    assert len(step["reflections"]) == 2  # the private one is not even counted
    withheld = [r for r in step["reflections"] if r["text_withheld"]]
    assert [(r["author_id"], r["author"], r["text"]) for r in withheld] == [
        ("UUNWILLING", "una", None)
    ]
    assert [(m["user"], m["text_withheld"]) for m in step["messages"]] == [
        ("willa", False),
        ("una", True),
    ]
    assert "UHOST" not in markdown and CHANNEL not in markdown and "UUNWILLING" not in markdown
    assert "## Middlemarch in #book-club (active)" in markdown


def test_record_uses_stored_names_when_slack_cannot_say(
    started: PlanView, plans: PlanService, uow: SqlAlchemyUnitOfWork, clock: FakeClock
) -> None:
    first_prompt(plans, uow, clock)
    with uow() as unit:
        workspace_id = unit.workspaces.ensure(TEAM, clock.now())
        member = unit.members.ensure(workspace_id, "UHOST", clock.now())
        unit.members.save(
            Member(
                member.workspace_id, "UHOST", "Stored Host", quotable=member.quotable, id=member.id
            )
        )
        unit.commit()
    exports = ExportService(uow, clock, FakeDirectory({}, {}))
    (plan,) = exports.record()["plans"]
    assert plan["host"] == "Stored Host"
    assert plan["channel"] == CHANNEL  # known nowhere: the id, so an admin can tell it apart


def test_record_leaves_out_a_cancelled_plans_steps_that_never_happened(
    book: Book,
    plans: PlanService,
    uow: SqlAlchemyUnitOfWork,
    clock: FakeClock,
    exports: ExportService,
) -> None:
    start = clock.now().date() + timedelta(days=1)
    plans.start(
        HOST,
        CHANNEL,
        str(book.id),
        Cadence.weekly(start.weekday(), clock.now().time()),
        1,
        start,
        "UTC",
    )
    first_prompt(plans, uow, clock)
    plans.cancel(Caller(TEAM, "UHOST"), CHANNEL)
    (plan,) = exports.record()["plans"]
    assert plan["state"] == "cancelled"
    assert [(s["number"], s["chapters"], s["state"]) for s in plan["steps"]] == [
        (1, "chapter 1", "posted")
    ]
    assert "Step 2" not in record_markdown(exports.record())


def test_member_post_names_quotes_and_slugs(
    plans: PlanService,
    books: BookService,
    uow: SqlAlchemyUnitOfWork,
    clock: FakeClock,
    exports: ExportService,
) -> None:
    title = "Cien años de soledad"
    books.add(TEAM, "UHOST", title, "Gabriel García Márquez", "3")
    start = clock.now().date() + timedelta(days=1)
    plans.start(
        HOST, CHANNEL, title, Cadence.weekly(start.weekday(), clock.now().time()), 1, start, "UTC"
    )
    first_prompt(plans, uow, clock)
    writer = ReflectionService(uow, clock)
    quotable(uow, clock, "UWILLING")
    writer.write(
        TEAM, CHANNEL, "UHOST", "<!channel> read <https://x.example|this>, ask <@UWILLING>"
    )
    writer.write(TEAM, CHANNEL, "UHOST", "my private note", visibility=Visibility.PRIVATE)
    writer.write(TEAM, CHANNEL, "UWILLING", "Macondo *forever*")
    writer.write(TEAM, CHANNEL, "UUNWILLING", "Never quote me")
    post = exports.member_post(TEAM, "UHOST", None)
    assert post.filename.endswith("-cien-anos-de-soledad.md")
    assert (
        post.comment
        == "Your 1 shared reflection, ready to publish (1 private reflection left out)."
    )
    front, body = split_front_matter(post.markdown)
    assert front["author"] == "hostess"
    assert "@channel read [this](https://x.example), ask @willa" in body
    assert "> Macondo **forever**\n> — willa" in body
    assert "Never quote me" not in body and "private note" not in body
    assert "<!channel>" not in body and "UWILLING" not in body
