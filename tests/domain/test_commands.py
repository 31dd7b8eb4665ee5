"""Parsing `/reflect` and `/book` as members really type them (issue 10 #1, #2, #7, #8, #9, #13)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import commands as cmd
from bot.domain.errors import InvalidInput
from bot.domain.model import Visibility


def write(text: str) -> cmd.ReflectWrite:
    parsed = cmd.parse_reflect(text)
    assert isinstance(parsed, cmd.ReflectWrite), parsed
    return parsed


# --- #1: the visibility keyword, in any case, with or without a colon, never from prose


@pytest.mark.parametrize(
    "typed",
    [
        "private: nobody should see this",
        "Private: nobody should see this",
        "PRIVATE: nobody should see this",
        "private nobody should see this",
        "Private nobody should see this",
        "PRIVATE nobody should see this",
        "private - nobody should see this",
        "(private) nobody should see this",
        "[Private] nobody should see this",
        "private:nobody should see this",
    ],
)
def test_private_keyword_in_any_case_with_or_without_colon(typed: str) -> None:
    parsed = write(typed)
    assert parsed.visibility is Visibility.PRIVATE
    assert parsed.text == "nobody should see this"
    assert parsed.question is None


def test_private_in_prose_is_never_a_keyword_and_no_word_is_dropped() -> None:
    parsed = write("Private thoughts are overrated, here's a shared one.")
    assert parsed.visibility is not Visibility.PRIVATE
    assert parsed.text == "Private thoughts are overrated, here's a shared one."


def test_an_unclear_leading_private_is_asked_about_not_guessed() -> None:
    parsed = write("Private notes on the ending")
    assert parsed.question is not None
    assert parsed.question.as_keyword == "notes on the ending"
    assert parsed.question.as_typed == "Private notes on the ending"


def test_a_lowercase_private_typed_first_is_the_command_keyword() -> None:
    """`/reflect private velociraptor-umbrella thoughts`: typed like the help's option,
    in lower case, first: kept private (never shared); a capital asks instead."""
    parsed = write("private velociraptor-umbrella thoughts")
    assert (parsed.visibility, parsed.text, parsed.question) == (
        Visibility.PRIVATE,
        "velociraptor-umbrella thoughts",
        None,
    )
    assert write("Private velociraptor-umbrella thoughts").question is not None


def test_shared_keyword_and_shared_in_prose() -> None:
    assert write("shared: we all agreed").text == "we all agreed"
    assert write("Shared values hold the group together.").text == (
        "Shared values hold the group together."
    )
    assert write("Shared values hold the group together.").question is None


def test_keyword_after_a_chapter_option_and_before_it() -> None:
    for typed in ("ch 2 private my secret thought", "private ch 2 my secret thought"):
        parsed = write(typed)
        assert (parsed.chapter, parsed.visibility, parsed.text) == (
            2,
            Visibility.PRIVATE,
            "my secret thought",
        )


# --- #7: prose is never eaten as options


def test_chapter_label_with_colon_files_the_reflection_and_keeps_the_thought() -> None:
    parsed = write("Chapter 7: you can't do market research on markets that don't exist")
    assert parsed.chapter == 7
    assert parsed.text == "you can't do market research on markets that don't exist"


def test_chapter_in_a_sentence_files_it_and_keeps_every_word() -> None:
    parsed = write("chapter 7 is about discovery-driven planning.")
    assert parsed.chapter == 7
    assert parsed.text == "chapter 7 is about discovery-driven planning."


def test_chapter_spelled_out_is_just_prose() -> None:
    parsed = write("Chapter seven made me rethink everything")
    assert parsed.chapter is None
    assert parsed.text == "Chapter seven made me rethink everything"


def test_short_chapter_options() -> None:
    assert (write("ch 3 the desert").chapter, write("ch 3 the desert").text) == (3, "the desert")
    assert write("ch3 the desert").chapter == 3
    assert write("ch. 3: the desert").text == "the desert"


def test_chapter_zero_is_refused_readably() -> None:
    with pytest.raises(InvalidInput, match="start at 1"):
        cmd.parse_reflect("ch 0 nothing here")


# --- #2: edit takes the same keywords


def test_edit_with_visibility_keyword_and_text() -> None:
    parsed = cmd.parse_reflect("edit 7 private I meant to keep this to myself")
    assert parsed == cmd.ReflectEdit(
        7, text="I meant to keep this to myself", visibility=Visibility.PRIVATE
    )


def test_edit_visibility_or_chapter_alone() -> None:
    assert cmd.parse_reflect("edit 7 private") == cmd.ReflectEdit(7, visibility=Visibility.PRIVATE)
    assert cmd.parse_reflect("edit #7 shared") == cmd.ReflectEdit(7, visibility=Visibility.SHARED)
    assert cmd.parse_reflect("edit 7 ch 4") == cmd.ReflectEdit(7, chapter=4)
    assert cmd.parse_reflect("Edit 7") == cmd.ReflectEdit(7)
    assert cmd.parse_reflect("edit") == cmd.ReflectEdit(None)


# --- #8: a near-miss of a subcommand is a question, not a public post


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("lst", "list"), ("exprot", "export"), ("hlep", "help"), ("progres", "progress")],
)
def test_one_word_typos_of_subcommands(typed: str, meant: str) -> None:
    parsed = cmd.parse_reflect(typed)
    assert parsed == cmd.Typo(typed, meant, "")


def test_typo_with_the_subcommands_arguments() -> None:
    assert cmd.parse_reflect("delet 3") == cmd.Typo("delet", "delete", "3")
    assert cmd.parse_reflect("exprot Innovator") == cmd.Typo("exprot", "export", "Innovator")


def test_ordinary_one_word_reflections_are_reflections() -> None:
    for word in ("Wow", "Brilliant!", "hmm", "Listen"):
        assert isinstance(cmd.parse_reflect(word), cmd.ReflectWrite), word


def test_a_subcommand_with_arguments_that_do_not_fit_is_unclear_not_posted() -> None:
    unclear = cmd.parse_reflect("delete my last one")
    assert isinstance(unclear, cmd.Unclear)
    assert unclear.text == "delete my last one"
    assert isinstance(cmd.parse_reflect("Edit: I changed my mind"), cmd.ReflectWrite)
    assert isinstance(cmd.parse_reflect("edit the ending, it drags"), cmd.Unclear)
    assert isinstance(cmd.parse_reflect("quotable maybe"), cmd.Unclear)


def test_subcommand_words_in_prose_are_prose() -> None:
    for typed in ("List of things I loved: the map", "Progress is slow but steady"):
        assert write(typed).text == typed


def test_book_typos() -> None:
    assert cmd.parse_book("ad") == cmd.Typo("ad", "add", "")
    assert cmd.parse_book("ad Dune | Frank Herbert | 6") == cmd.Typo(
        "ad", "add", "Dune | Frank Herbert | 6"
    )
    assert cmd.parse_book("stat") == cmd.Typo("stat", "start", "") or cmd.parse_book(
        "stat"
    ) == cmd.Typo("stat", "status", "")


# --- #9: one limit, stated in the help


def test_one_limit_for_reflections_stated_in_help() -> None:
    assert f"{cmd.MAX_REFLECTION_CHARS:,}" in cmd.REFLECT_HELP
    long = "word " * 800
    parsed = write(long)  # parsed whole: the service refuses it and gives the text back
    assert parsed.text == long.strip()


# --- #13: chapter counts


@pytest.mark.parametrize("count", ["-3", "0", "3.5", "+3", "1,000", "−2", "501"])
def test_bad_chapter_counts_are_refused(count: str) -> None:
    with pytest.raises(InvalidInput):
        from bot.domain.books import parse_chapters

        parse_chapters(count)


def test_book_edit_remove_cancel_parse() -> None:
    assert cmd.parse_book("edit Dune") == cmd.BookEdit("Dune")
    assert cmd.parse_book("edit Dune | title: Dune Messiah | chapters: 24") == cmd.BookEdit(
        "Dune", title="Dune Messiah", chapters="24"
    )
    assert cmd.parse_book("edit #3 | chapter 2: The Desert | author: F. Herbert") == cmd.BookEdit(
        "#3", author="F. Herbert", chapter_titles=((2, "The Desert"),)
    )
    assert cmd.parse_book("remove Dune") == cmd.BookRemove("Dune")
    assert cmd.parse_book("cancel") == cmd.Simple("cancel")
    with pytest.raises(InvalidInput, match="title:"):
        cmd.parse_book("edit Dune | colour: red")


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["private", "Private", "PRIVATE", "shared", "Shared"]),
    st.sampled_from(["", ":", " -", ","]),
    st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=80),
)
def test_no_word_is_ever_dropped_unless_it_was_a_keyword(
    keyword: str, separator: str, rest: str
) -> None:
    typed = f"{keyword}{separator} {rest}".strip()
    try:
        parsed = cmd.parse_reflect(typed)
    except InvalidInput:
        return
    if not isinstance(parsed, cmd.ReflectWrite):
        return
    words_typed = typed.replace(":", " ").replace(",", " ").split()
    kept = parsed.text.replace(":", " ").replace(",", " ").split()
    if parsed.question is not None:
        assert parsed.question.as_typed == typed
        return
    dropped = [w for w in words_typed if w not in kept]
    # Only the keyword itself (and its separator) may be left out of the text, and only
    # when it was taken as a keyword.
    assert set(dropped) <= {keyword, "-"}, (typed, parsed)
    if dropped and keyword.lower() == "private":
        assert parsed.visibility is Visibility.PRIVATE


def test_a_keyword_followed_by_a_labelled_word_is_prose() -> None:
    """Console: "Shared insight: the harbour…" lost "Shared" (the colon on "insight:")."""
    parsed = write("Shared insight: the harbour is memory")
    assert parsed.text == "Shared insight: the harbour is memory"
    noted = write("Private note: call Bob")  # private, or asked: never shared
    assert noted.visibility is Visibility.PRIVATE or noted.question is not None


def test_mentor_subcommands_take_a_colon_as_reflect_teaches() -> None:
    from bot.domain.commands import MentorAction, MentorDone, Simple, parse_mentor

    assert parse_mentor("action: email the team") == MentorAction("email the team")
    assert parse_mentor("Action: ask my manager &amp; Bob") == MentorAction("ask my manager & Bob")
    assert parse_mentor("action:call Ana") == MentorAction("call Ana")
    assert parse_mentor("done: 2") == MentorDone(2)
    assert parse_mentor("Leave:") == Simple("mentor-leave")
    # Prose with a colon is not a subcommand.
    with pytest.raises(InvalidInput, match="I don't know that one"):
        parse_mentor("note: call Ana")


def test_a_name_typed_without_picking_the_person_says_how() -> None:
    from bot.domain.commands import parse_mentor

    with pytest.raises(InvalidInput, match="type @ and pick"):
        parse_mentor("bob")
    with pytest.raises(InvalidInput, match="type @ and pick"):
        parse_mentor("Bob")
