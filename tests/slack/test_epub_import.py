"""Issue 13, chapter lists without typing, over real HTTP against the emulator: a member
sends the bot an EPUB the test built; the bot downloads it with its token (the emulator
serves it as Slack does), reads the table of contents, offers the chapters (front matter
left out) in a form, and adds the book with its chapter titles. Damaged, DRM-protected,
contents-less, over-size and non-EPUB files get a clear refusal, and nothing is stored."""

from __future__ import annotations

import html
from typing import Any

import pytest

from bot.domain.imports import MAX_EPUB_BYTES
from bot.emulator import payloads
from bot.emulator.models import Message
from bot.slack.blocks import imports as import_blocks
from bot.slack.import_modals import IMPORT_PICK
from bot.slack.manifest import bot_scopes
from tests.epub_files import NOVEL_CHAPTERS, build_epub, damaged, drm_protected
from tests.harness import ALICE, BOB, Harness, block_text
from tests.slack.test_reflection_loop import buttons

TEAM = "T0EMULATOR1"


def dm(harness: Harness, user: str) -> str:
    return harness.emulator.dm_channel(user)


def bot_dm_messages(harness: Harness, user: str) -> list[Message]:
    return [m for m in harness.emulator.messages(dm(harness, user)) if m.bot_id]


def send(harness: Harness, user: str, name: str, data: bytes) -> None:
    """The member drops a file into their DM with the bot."""
    _ts, response = harness.slack.user_shares_file(user, dm(harness, user), name, data)
    assert response is not None and response.status == 200, response
    harness.drain()


def last_note(harness: Harness, user: str) -> str:
    messages = bot_dm_messages(harness, user)
    assert messages, "the bot sent nothing"
    return html.unescape(block_text(messages[-1].blocks)).replace("*", "")


def downloads(harness: Harness) -> list[dict[str, Any]]:
    return [c.params for c in harness.emulator.calls_to("files.download")]


def open_picker(harness: Harness, user: str) -> dict[str, Any]:
    note = bot_dm_messages(harness, user)[-1]
    (_label, action_id, value) = next(
        b for b in buttons({"blocks": note.blocks}) if b[1] == import_blocks.PICK_ACTION
    )
    response = harness.slack.block_action(
        user_id=user, channel_id=note.channel, message_ts=note.ts, action_id=action_id, value=value
    )
    assert response.status == 200
    harness.drain()
    form = harness.last_view(user)
    assert form["callback_id"] == IMPORT_PICK
    return form


def test_an_epub_sent_in_a_dm_becomes_a_book_with_its_chapter_titles(harness: Harness) -> None:
    send(harness, ALICE, "lighthouse.epub", build_epub())
    assert downloads(harness) == [{"file_id": downloads(harness)[0]["file_id"], "authorized": True}]
    note = last_note(harness, ALICE)
    assert "I read The Lighthouse Keeper by Ada Lovelace & Co from “lighthouse.epub”" in note
    assert "15 entries, 5 of them look like chapters" in note
    form = open_picker(harness, ALICE)
    chapters = form["blocks"][3]["element"]
    picked = [o["text"]["text"] for o in chapters["initial_options"]]
    assert [p.split(". ", 1)[1].lstrip("– ") for p in picked] == [
        t.replace("<", "‹").replace(">", "›") for t in NOVEL_CHAPTERS
    ]
    offered = [o["text"]["text"] for o in chapters["options"]]
    assert offered[0] == "1. Cover" and "7. – Chapter 1: Arrival" in offered
    # The member leaves the epilogue out and keeps the title and author as read.
    keep = [o["value"] for o in chapters["initial_options"]][:4]
    answer = harness.submit(
        form["id"],
        {
            "title": {"value": "The Lighthouse Keeper"},
            "author": {"value": "Ada Lovelace & Co"},
            "chapters": {"value": keep},
        },
        ALICE,
    )
    assert answer.json() is None, answer.text
    (book,) = harness.runtime.services.books.all(TEAM)
    assert (book.title, book.author, book.added_by) == (
        "The Lighthouse Keeper",
        "Ada Lovelace & Co",
        ALICE,
    )
    assert [c.title for c in book.chapters] == NOVEL_CHAPTERS[:4]
    assert any(
        "Added to the shelf: #1 The Lighthouse Keeper" in html.unescape(t).replace("*", "")
        for t in harness.ephemeral_texts(ALICE)
    )
    out = harness.say(ALICE, "/book", "list")
    assert "The Lighthouse Keeper — Ada Lovelace & Co (4 chapters)" in out
    # The same button again: the import is used up, nothing more is added.
    ready = bot_dm_messages(harness, ALICE)[-1]
    response = harness.slack.block_action(
        user_id=ALICE,
        channel_id=ready.channel,
        message_ts=ready.ts,
        action_id=import_blocks.PICK_ACTION,
    )
    assert response.status == 200
    harness.drain()
    answer_text = html.unescape(
        block_text(harness.emulator.response_url_posts()[-1]["payload"]["blocks"])
    )
    assert "That import has expired or was finished already" in answer_text
    assert len(harness.runtime.services.books.all(TEAM)) == 1


def test_the_picker_refuses_no_chapters_and_a_title_already_on_the_shelf(harness: Harness) -> None:
    harness.say(BOB, "/book", "add The Lighthouse Keeper | Ada Lovelace & Co | 3")
    send(harness, ALICE, "lighthouse.epub", build_epub())
    form = open_picker(harness, ALICE)
    values = {"title": {"value": "The Lighthouse Keeper"}, "author": {"value": "Ada Lovelace & Co"}}
    none = harness.submit(form["id"], {**values, "chapters": {"value": []}}, ALICE)
    assert none.json()["errors"]["chapters"] == "Choose at least one chapter."
    taken = harness.submit(form["id"], {**values, "chapters": {"value": ["6"]}}, ALICE)
    assert "is already on the shelf" in taken.json()["errors"]["title"]
    renamed = harness.submit(
        form["id"],
        {
            "title": {"value": "The Lighthouse Keeper (2nd ed.)"},
            "author": values["author"],
            "chapters": {"value": ["6", "7"]},
        },
        ALICE,
    )
    assert renamed.json() is None
    assert len(harness.runtime.services.books.all(TEAM)) == 2


def test_a_delivery_slack_repeats_is_read_once(harness: Harness) -> None:
    workspace = harness.emulator.workspace
    channel = workspace.channel(dm(harness, ALICE))
    message = workspace.share_file(ALICE, channel.id, "lighthouse.epub", build_epub())
    event = payloads.message_event(workspace, message, channel)
    for retry in (None, 1, 2):  # Slack thought the first delivery failed, twice
        response = harness.slack.event(event, event_id="Ev0FILE00001", retry_num=retry)
        assert response.status == 200
    harness.drain()
    ready = [m for m in bot_dm_messages(harness, ALICE) if "Pick the chapters" in str(m.blocks)]
    assert len(ready) == 1 and len(downloads(harness)) == 1


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("broken.epub", damaged(build_epub()), "it is not an EPUB file, or it is damaged"),
        ("locked.epub", drm_protected(build_epub()), "is protected by DRM"),
        ("plain.epub", build_epub(with_toc=False), "has no table of contents I can read"),
        (
            "notes.pdf",
            b"%PDF-1.7",
            "I read EPUB files, to list a book's chapters; “notes.pdf” is not one",
        ),
    ],
)
def test_files_that_cannot_be_imported_are_refused_and_nothing_is_kept(
    harness: Harness, name: str, data: bytes, said: str
) -> None:
    send(harness, ALICE, name, data)
    note = last_note(harness, ALICE)
    assert said in note, note
    assert "Pick the chapters" not in note
    assert harness.runtime.services.books.all(TEAM) == []
    with harness.runtime.services.imports.uow() as uow:
        assert uow.imports.get(1) is None
    if name.endswith(".pdf"):
        assert downloads(harness) == []  # not an EPUB: never downloaded


def test_a_file_over_20_mb_is_refused_from_its_size_before_any_download(harness: Harness) -> None:
    send(harness, ALICE, "huge.epub", b"\0" * (MAX_EPUB_BYTES + 1))
    note = last_note(harness, ALICE)
    assert "That file is 21 MB; I read EPUB files up to 20 MB" in note, note
    assert downloads(harness) == []


def test_without_files_read_slack_sends_a_sign_in_page_and_the_bot_says_so(
    harness: Harness,
) -> None:
    harness.emulator.grant_scopes([s for s in bot_scopes() if s != "files:read"])
    send(harness, ALICE, "lighthouse.epub", build_epub())
    note = last_note(harness, ALICE)
    assert "I could not download “lighthouse.epub” from Slack (not_allowed_to_download)" in note
    assert downloads(harness)[0]["authorized"] is False
    assert harness.runtime.services.books.all(TEAM) == []


def test_typing_in_the_dm_gets_a_hint_and_files_of_bots_are_not_read(harness: Harness) -> None:
    _ts, response = harness.slack.user_posts(ALICE, dm(harness, ALICE), "hello?")
    assert response.status == 200
    harness.drain()
    assert "Send me a book as an EPUB file" in last_note(harness, ALICE)
    # A file another app (or this one) put in the DM is not read.
    workspace = harness.emulator.workspace
    channel = workspace.channel(dm(harness, ALICE))
    shared = workspace.share_file(ALICE, channel.id, "lighthouse.epub", build_epub())
    event = {**payloads.message_event(workspace, shared, channel), "bot_id": "B0OTHERAPP1"}
    assert harness.slack.event(event).status == 200
    harness.drain()
    assert downloads(harness) == []
    assert len(bot_dm_messages(harness, ALICE)) == 1
