"""Fuzzing: no input makes a parser or a listener fail; every refusal is a readable message."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain import commands
from bot.domain.errors import DomainError
from bot.slack.modals import BookAddModal, FieldErrors, PlanStartModal, ReflectionModal, State
from tests.harness import ALICE, BOB, Harness

WORDS = st.sampled_from(
    [
        "add",
        "start",
        "status",
        "ch",
        "private",
        "edit",
        "delete",
        "every",
        "at",
        "from",
        "tz",
        "|",
        ";",
        "3",
        "0",
        "-1",
        "²",
        "monday",
        "25:00",
        "2026-02-30",
        "Europe/Berlin",
        "Mars/Base",
        "<!channel>",
        "#12",
        "quotable",
        "on",
        "export",
        "summary",
        "step",
        "week",
        "book",
        "chapters",
        "days",
        "questions",
        "x" * 300,
    ]
)
COMMAND_TEXT = st.lists(WORDS | st.text(max_size=20), max_size=12).map(" ".join) | st.text(
    max_size=300
)


@settings(max_examples=600, deadline=None)
@given(COMMAND_TEXT)
def test_book_parser_returns_a_command_or_a_readable_error(text: str) -> None:
    try:
        commands.parse_book(text)
    except DomainError as exc:
        assert exc.message and "\n" not in exc.message and len(exc.message) < 400


@settings(max_examples=600, deadline=None)
@given(COMMAND_TEXT)
def test_reflect_parser_returns_a_command_or_a_readable_error(text: str) -> None:
    try:
        commands.parse_reflect(text)
    except DomainError as exc:
        assert exc.message and "\n" not in exc.message and len(exc.message) < 400


ELEMENT = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["plain_text_input", "static_select", "datepicker", "timepicker", "radio_buttons"]
        )
    }
) | st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)
STATE = st.dictionaries(
    st.sampled_from(
        [
            "title",
            "author",
            "chapters",
            "book",
            "weekday",
            "at",
            "start",
            "tz",
            "text",
            "chapter",
            "visibility",
        ]
    ),
    st.dictionaries(
        st.just("value"),
        ELEMENT
        | st.fixed_dictionaries(
            {"type": st.just("plain_text_input"), "value": st.text(max_size=50) | st.none()}
        ),
        max_size=1,
    ),
)


@settings(max_examples=400, deadline=None)
@given(STATE)
def test_modal_parsers_accept_or_name_the_field(state: State) -> None:
    for parse in (BookAddModal.parse, PlanStartModal.parse, ReflectionModal.parse):
        try:
            parse(state)
        except FieldErrors as exc:
            assert exc.errors and all(isinstance(v, str) and v for v in exc.errors.values())


@pytest.mark.slow
def test_fuzzed_commands_over_http_always_get_one_ephemeral_answer(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    harness.say(ALICE, "/book", "add Dune | Frank Herbert | 6")
    harness.say(ALICE, "/book", "start Dune")
    samples: list[tuple[str, str]] = []

    @settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(
        st.sampled_from(["/book", "/reflect"]),
        COMMAND_TEXT.filter(
            lambda t: (
                not t.strip()
                .lower()
                .startswith(("add", "start", "edit", "finish", "pause", "skip", "resume"))
                and t.strip() not in ("", "export")
            )
        ),
    )
    def run(command: str, text: str) -> None:
        posts = harness.command(BOB, command, text)
        samples.append((command, text))
        assert len(posts) == 1, (command, text, posts)
        assert posts[0].get("response_type") == "ephemeral"

    run()
    bad = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, bad
    assert len(samples) >= 30
    assert json.dumps(samples)


@pytest.mark.parametrize(
    "text",
    [
        "ch ² x",
        "delete ²",
        "edit ² text",
        "questions ² | q",
        "summary step ²",
        "start X ² chapters",
        "start X at ²:00",
    ],
)
def test_unicode_digits_are_refused_not_crashed(text: str) -> None:
    for parse in (commands.parse_book, commands.parse_reflect):
        try:
            parse(text)
        except DomainError as exc:
            assert exc.message
