"""Reading EPUB files the tests build: title, author, table of contents; and the clear
refusals for damaged, DRM-protected, contents-less and over-size files."""

from __future__ import annotations

import pytest

from bot.domain.imports import MAX_EPUB_BYTES, TocEntry, default_picks
from bot.epub import EpubRefused, read_epub, size_refusal
from tests.epub_files import (
    FONT_OBFUSCATION,
    NOVEL_CHAPTERS,
    build_epub,
    damaged,
    drm_protected,
    encryption_xml,
    rewrite_opf,
    with_extra_file,
)


def test_title_author_and_the_nested_table_of_contents() -> None:
    contents = read_epub(build_epub(), "lighthouse.epub")
    assert contents.title == "The Lighthouse Keeper"
    assert contents.author == "Ada Lovelace & Co"
    assert contents.entries[:6] == [
        TocEntry("Cover", 0),
        TocEntry("Title Page", 0),
        TocEntry("Copyright", 0),
        TocEntry("Contents", 0),
        TocEntry("Dedication", 0),
        TocEntry("Part One: The Harbour", 0),
    ]
    assert TocEntry("Chapter 1: Arrival", 1) in contents.entries
    picked = [contents.entries[i].title for i in default_picks(contents.entries)]
    assert picked == NOVEL_CHAPTERS


def test_a_book_without_title_or_author_still_reads() -> None:
    contents = read_epub(build_epub(title="", author=""), "my-book.epub")
    assert contents.title == "my-book" and contents.author == "Unknown author"


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (damaged, "not an EPUB file, or it is damaged"),
        (lambda data: b"PK\x03\x04 not really a zip", "not an EPUB file, or it is damaged"),
        (lambda data: b"%PDF-1.7 a PDF renamed", "not an EPUB file, or it is damaged"),
        (lambda data: rewrite_opf(data, lambda opf: b"<package"), "damaged"),
        (drm_protected, "protected by DRM"),
        (
            lambda data: with_extra_file(
                data, "META-INF/encryption.xml", encryption_xml("http://example.com/aes")
            ),
            "protected by DRM",
        ),
    ],
)
def test_files_that_cannot_be_read_are_refused_clearly(spoil: object, said: str) -> None:
    assert callable(spoil)
    with pytest.raises(EpubRefused) as refused:
        read_epub(spoil(build_epub()), "book.epub")
    assert said in refused.value.message and "/book add" in refused.value.message


def test_font_obfuscation_is_not_drm() -> None:
    data = with_extra_file(
        build_epub(), "META-INF/encryption.xml", encryption_xml(FONT_OBFUSCATION)
    )
    assert read_epub(data).entries


def test_a_book_without_a_table_of_contents_has_no_entries() -> None:
    assert read_epub(build_epub(with_toc=False)).entries == []


def test_over_20_mb_is_refused_before_reading() -> None:
    assert size_refusal(MAX_EPUB_BYTES) is None
    refusal = size_refusal(200 * 1024 * 1024)
    assert refusal is not None and "200 MB" in refusal.message and "up to 20 MB" in refusal.message
    with pytest.raises(EpubRefused):
        read_epub(b"\0" * (MAX_EPUB_BYTES + 1))
