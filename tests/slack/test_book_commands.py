"""/book over real HTTP against the emulator."""

from __future__ import annotations

from tests.harness import ALICE, BOB, CAROL, CLUB, Harness


def test_add_list_and_duplicate(harness: Harness) -> None:
    out = harness.say(ALICE, "/book", "add Dune | Frank Herbert | 22")
    assert "Added to the shelf" in out and "Dune" in out and "22 chapters" in out
    out = harness.say(BOB, "/book", "add  dune |frank herbert| 3")
    assert "already on the shelf" in out
    out = harness.say(BOB, "/book", "list")
    assert out.count("Dune") == 1


def test_start_status_plan_and_manage(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    posts = harness.command(
        ALICE,
        "/book",
        "start Dune every monday at 18:30 2 chapters from 2026-12-01 tz Europe/Berlin",
    )
    assert posts[-1]["response_type"] == "in_channel"
    assert "3 steps" in str(posts[-1])
    out = harness.say(BOB, "/book", "status")
    assert "Dune" in out and "Next prompt" in out and "Mon 7 Dec 2026, 18:30 CET" in out
    out = harness.say(BOB, "/book", "plan")
    assert out.count("Step ") == 3
    assert "only the plan's host" in harness.say(BOB, "/book", "pause").lower()
    assert "paused" in harness.say(ALICE, "/book", "pause")
    assert "resumed" in harness.say(CAROL, "/book", "resume")  # a workspace admin
    assert "skipped step 1" in harness.say(ALICE, "/book", "skip")
    assert "finished" in harness.say(ALICE, "/book", "finish")
    assert "no reading plan" in harness.say(ALICE, "/book", "status").lower()
    assert "Dune" in harness.say(ALICE, "/book", "history")


def test_bad_input_gets_one_line_and_changes_nothing(harness: Harness) -> None:
    cases = {
        "frobnicate": "I don't know `/book frobnicate`",
        "add Only a title": "/book add <title> | <author> | <chapters>",
        "add Dune | Frank | 0": "at least one chapter",
        "start Nothing": "No book called",
        "start": "shelf is empty",
        "status": "no reading plan",
    }
    for text, expected in cases.items():
        assert expected.lower() in harness.say(ALICE, "/book", text).lower(), text
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    for text, expected in {
        "start Dune tz Mars/Olympus": "not a time zone",
        "start Dune at 25:00": "not a time",
        "start Dune from 2026-13-01": "not a date",
        "start Dune every blursday": "not a weekday",
        "start Dune 9 chapters": "more than the whole book",
    }.items():
        assert expected.lower() in harness.say(ALICE, "/book", text).lower(), text
    assert "no reading plan" in harness.say(ALICE, "/book", "status").lower()


def test_add_modal_end_to_end(harness: Harness) -> None:
    harness.command(ALICE, "/book", "add")
    view = harness.last_view(ALICE)
    assert view["callback_id"] == "book_add"
    bad = harness.submit(
        view["id"],
        {
            "title": {"value": "Emma"},
            "author": {"value": "Jane Austen"},
            "chapters": {"value": "zero; ;"},
        },
        ALICE,
    )
    assert bad.json()["response_action"] == "errors" and "chapters" in bad.json()["errors"]
    ok = harness.submit(
        view["id"],
        {
            "title": {"value": "Emma"},
            "author": {"value": "Jane Austen"},
            "chapters": {"value": "Intro; Middle; End"},
        },
        ALICE,
    )
    assert ok.status == 200 and not ok.body.strip(b"{}")
    assert "Emma" in harness.say(BOB, "/book", "list")
    assert any("Added to the shelf" in t for t in harness.ephemeral_texts(ALICE))


def test_start_modal_end_to_end(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 4")
    harness.command(ALICE, "/book", "start")
    view = harness.last_view(ALICE)
    assert view["callback_id"] == "plan_start"
    book_option = view["blocks"][0]["element"]["options"][0]["value"]
    response = harness.submit(
        view["id"],
        {
            "book": {"value": book_option},
            "weekday": {"value": "2"},
            "at": {"value": "19:00"},
            "chapters": {"value": "1"},
            "start": {"value": "2026-12-01"},
            "tz": {"value": "America/New_York"},
        },
        ALICE,
    )
    assert response.status == 200
    assert any("started a reading plan" in t for t in harness.channel_texts(CLUB))
    assert "Wed 2 Dec 2026, 19:00 EST" in harness.say(BOB, "/book", "status")


def test_start_modal_shows_errors_on_the_right_fields(harness: Harness) -> None:
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 4")
    harness.command(ALICE, "/book", "start")
    view = harness.last_view(ALICE)
    book_option = view["blocks"][0]["element"]["options"][0]["value"]
    values = {
        "book": {"value": book_option},
        "weekday": {"value": "0"},
        "at": {"value": "09:00"},
        "chapters": {"value": "1"},
        "start": {"value": "2026-12-01"},
        "tz": {"value": "Mars/Olympus"},
    }
    bad_zone = harness.submit(view["id"], values, ALICE).json()
    assert list(bad_zone["errors"]) == ["tz"] and "time zone" in bad_zone["errors"]["tz"]
    too_many = harness.submit(
        view["id"], {**values, "tz": {"value": "UTC"}, "chapters": {"value": "9"}}, ALICE
    ).json()
    assert list(too_many["errors"]) == ["chapters"]
    assert "no reading plan" in harness.say(ALICE, "/book", "status").lower()
