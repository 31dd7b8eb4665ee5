"""Thread capture over real HTTP (exactly once under retries), digests and exports."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain.commands import SummaryScope
from bot.domain.digests import DigestKind
from bot.domain.discussions import MessageChange, MessageEvent
from bot.domain.export import split_front_matter
from bot.domain.model import Cadence, Caller, Visibility
from bot.storage.models import ReactionRow, ThreadMessageRow
from tests.harness import ALICE, BOB, CAROL, CLUB, Harness, block_text

TEAM = "T0EMULATOR1"


def start_and_post_first_prompt(harness: Harness, chapters: int = 4) -> str:
    services = harness.runtime.services
    services.books.add(TEAM, ALICE, "Dune", "Frank Herbert", str(chapters))
    services.plans.start(
        Caller(TEAM, ALICE),
        CLUB,
        "Dune",
        Cadence.weekly(0, time(9)),
        1,
        date(2026, 12, 7),
        "Europe/Berlin",
    )
    harness.clock.set(datetime(2026, 12, 7, 8, tzinfo=UTC))
    services.run_due()
    step = services.plans.current(TEAM, CLUB).plan.step(1)
    assert step.message_ts
    return step.message_ts


def stored_count(harness: Harness) -> int:
    with harness.runtime.session_factory() as session:
        return int(session.scalar(select(func.count(ThreadMessageRow.id))) or 0)


def test_thousand_events_delivered_one_to_four_times_are_stored_once(harness: Harness) -> None:
    thread = start_and_post_first_prompt(harness)
    rng = random.Random(7)
    envelopes = []
    for i in range(1000):
        user = (ALICE, BOB, CAROL)[i % 3]
        _ts, response = harness.slack.user_posts(user, CLUB, f"reply number {i}", thread_ts=thread)
        assert response.status == 200
        envelopes.append(json.loads(response.request_body))
    redeliveries = [(env, n) for env in envelopes for n in range(1, rng.randint(1, 4))]
    rng.shuffle(redeliveries)

    def redeliver(item: tuple[dict[str, Any], int]) -> int:
        env, n = item
        return harness.slack.event(env["event"], event_id=env["event_id"], retry_num=n).status

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(redeliver, redeliveries))
    assert set(statuses) == {200} and len(redeliveries) > 500
    harness.drain()
    assert stored_count(harness) == 1000


def test_outside_threads_not_stored_edits_deletes_and_reactions(harness: Harness) -> None:
    thread = start_and_post_first_prompt(harness)
    _ts, outside = harness.slack.user_posts(BOB, CLUB, "chit-chat outside any prompt")
    assert outside.status == 200
    ts, _ = harness.slack.user_posts(BOB, CLUB, "first version", thread_ts=thread)
    gone, _ = harness.slack.user_posts(CAROL, CLUB, "to be deleted", thread_ts=thread)
    assert stored_count(harness) == 2
    harness.slack.user_edits(BOB, CLUB, ts, "second version")
    harness.slack.user_deletes(CAROL, CLUB, gone)
    harness.slack.user_reacts(ALICE, CLUB, ts, "heart")
    harness.slack.user_reacts(CAROL, CLUB, ts, "heart")
    harness.slack.user_reacts(CAROL, CLUB, ts, "heart", removed=True)
    harness.slack.user_reacts(CAROL, CLUB, ts, "tada")
    with harness.runtime.session_factory() as session:
        rows = {r.ts: r for r in session.scalars(select(ThreadMessageRow))}
        reactions = session.scalar(select(func.count(ReactionRow.id)))
    assert rows[ts].text == "second version" and rows[ts].edited_at is not None
    assert rows[ts].reaction_count == 2 and reactions == 2
    assert rows[gone].text is None and rows[gone].deleted_at is not None


def test_digest_never_contains_private_words_or_deleted_messages(harness: Harness) -> None:
    thread = start_and_post_first_prompt(harness)
    services = harness.runtime.services
    for member in (ALICE, BOB, CAROL):  # everyone may be quoted: only privacy keeps words out
        harness.say(member, "/reflect", "quotable on")
    services.reflections.write(TEAM, CLUB, BOB, "The desert ecology fascinates me deeply")
    services.reflections.write(
        TEAM, CLUB, CAROL, "zanzibar quokka confidential musings", visibility=Visibility.PRIVATE
    )
    ts, _ = harness.slack.user_posts(
        ALICE, CLUB, "Spice economics and desert politics", thread_ts=thread
    )
    gone, _ = harness.slack.user_posts(BOB, CLUB, "platypus regrettable remark", thread_ts=thread)
    harness.slack.user_deletes(BOB, CLUB, gone)
    harness.slack.user_reacts(CAROL, CLUB, ts, "fire")
    out = harness.say(ALICE, "/book", "summary")
    assert "Posted the digest" in out
    digest = [t for t in harness.channel_texts(CLUB) if "Highlights" in t]
    assert len(digest) == 1
    text = digest[0]
    assert "desert" in text.lower() and "Spice economics" in text
    for word in ("zanzibar", "quokka", "confidential", "platypus", "regrettable"):
        assert word not in text.lower()
    assert f"<@{CAROL}>" not in text  # Carol only wrote privately: not even counted


def test_two_thousand_message_step_digest_fits_slack(harness: Harness) -> None:
    thread = start_and_post_first_prompt(harness)
    services = harness.runtime.services
    for i in range(2000):
        services.discussions.record_message(
            MessageEvent(
                f"Ev{i:06d}",
                TEAM,
                CLUB,
                f"1800000000.{i:06d}",
                MessageChange.POSTED,
                thread_ts=thread,
                user_id=f"U{i:010d}",
                text=f"thought {i} " + "word " * 60,
            )
        )
    before = len(harness.emulator.calls_to("chat.postMessage"))
    host = Caller(TEAM, ALICE, is_admin=True)
    posted = services.digests.post_on_demand(host, CLUB, SummaryScope(DigestKind.STEP))
    calls = harness.emulator.calls_to("chat.postMessage")[before:]
    assert posted.messages == len(calls) >= 1
    assert all(c.status == 200 and c.response["ok"] for c in calls)
    assert all(len(c.params["blocks"]) <= 50 for c in calls)
    everything = "\n".join(block_text(c.params["blocks"]) for c in calls)
    assert all(f"<@U{i:010d}>" in everything for i in range(2000))  # every participant, none lost


def test_step_digest_after_step_closes_and_wrap_up_once(harness: Harness) -> None:
    start_and_post_first_prompt(harness, chapters=2)
    services = harness.runtime.services
    harness.say(BOB, "/reflect", "quotable on")
    services.reflections.write(TEAM, CLUB, BOB, "Step one thoughts about Arrakis")
    harness.clock.set(datetime(2026, 12, 14, 8, tzinfo=UTC))
    report = services.run_due()
    assert report.digests == 1 and len(report.posted) == 1
    assert services.run_due().digests == 0
    harness.clock.set(datetime(2026, 12, 21, 9, tzinfo=UTC))  # the last step's week is over
    assert services.run_due().digests == 1
    assert services.run_due().digests == 0
    texts = harness.channel_texts(CLUB)
    assert sum("Step 1" in t and "Highlights" in t for t in texts) == 1
    assert sum("Wrap-up" in t for t in texts) == 1
    assert "no reading plan" in harness.say(ALICE, "/book", "status").lower()


def test_reflect_export_markdown_holds_only_own_and_quotable_text(harness: Harness) -> None:
    start_and_post_first_prompt(harness)
    services = harness.runtime.services
    services.reflections.write(TEAM, CLUB, BOB, "Bob public insight", chapter=1)
    services.reflections.write(TEAM, CLUB, BOB, "Bob secret diary", visibility=Visibility.PRIVATE)
    services.reflections.write(TEAM, CLUB, ALICE, "Alice unquotable words")
    services.reflections.write(TEAM, CLUB, CAROL, "Carol quotable wisdom")
    harness.say(CAROL, "/reflect", "quotable on")
    out = harness.say(BOB, "/reflect", "export")
    assert "Markdown file" in out
    files = harness.emulator.uploaded_files()
    assert len(files) == 1 and files[0].channel == harness.emulator.dm_channel(BOB)
    front, body = split_front_matter(files[0].text)
    assert front["title"] == "Reflections on Dune" and front["book"] == "Dune" and front["author"]
    assert set(front) >= {"title", "date", "categories", "book", "author"}
    assert "Bob public insight" in body and "Carol quotable wisdom" in body
    assert "secret" not in body and "Alice" not in body


def test_cli_export_has_no_private_text(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_and_post_first_prompt(harness)
    services = harness.runtime.services
    harness.say(BOB, "/reflect", "quotable on")
    services.reflections.write(TEAM, CLUB, BOB, "shareable note")
    services.reflections.write(TEAM, CLUB, BOB, "hidden walrus", visibility=Visibility.PRIVATE)
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", harness.runtime.settings.database_url)
    monkeypatch.setenv("SLACK_API_URL", harness.emulator.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", harness.emulator.bot_token)
    out = tmp_path / "export.json"
    assert main(["export", "--format", "json", "--output", str(out)]) == 0
    data = json.loads(out.read_text())
    assert "shareable note" in out.read_text() and "walrus" not in out.read_text()
    assert data["plans"][0]["steps"][0]["reflections"][0]["author_id"] == BOB
    md = tmp_path / "export.md"
    assert main(["export", "--format", "markdown", "--member", BOB, "-o", str(md)]) == 0
    assert "shareable note" in md.read_text() and "walrus" not in md.read_text()


def test_weekly_digest_schedule_posts_once_a_week(harness: Harness) -> None:
    from bot.services.digests import DigestPolicy, DigestService

    services = harness.runtime.services
    weekly = DigestService(
        services.digests.uow,
        harness.clock,
        services.digests.notifier,
        DigestPolicy(weekly=True, weekday=4, at=time(17, 0)),
    )
    start_and_post_first_prompt(harness, chapters=4)  # plan in Europe/Berlin, prompt Mon 7 Dec
    services.reflections.write(TEAM, CLUB, BOB, "Weekly thoughts on Arrakis")
    harness.clock.set(datetime(2026, 12, 11, 15, 59, tzinfo=UTC))  # Fri 16:59 Berlin
    assert weekly.run_due() == 0
    harness.clock.set(datetime(2026, 12, 11, 16, 0, tzinfo=UTC))  # Fri 17:00 Berlin
    assert weekly.run_due() == 1
    assert weekly.run_due() == 0
    harness.clock.set(datetime(2026, 12, 14, 8, tzinfo=UTC))  # step 2 posted: no step digest
    services.prompts.run_due()
    assert weekly.run_due() == 0
    services.reflections.write(TEAM, CLUB, BOB, "Second week on Arrakis")
    harness.clock.set(datetime(2026, 12, 18, 16, 30, tzinfo=UTC))  # next Friday
    assert weekly.run_due() == 1
    assert sum("This week" in t for t in harness.channel_texts(CLUB)) == 2
