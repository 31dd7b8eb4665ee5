"""Reading an EPUB's title, author and table of contents, with EbookLib.

Imported only when a book is imported (EbookLib brings lxml: no process pays for it at
start-up). Every way a file can be unusable ends in :class:`EpubRefused`, whose message
tells the member what is wrong and what to do instead; the file's contents never reach
a log line.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from xml.etree import ElementTree

from bot.domain.errors import InvalidInput
from bot.domain.imports import MAX_EPUB_BYTES, TocEntry
from bot.domain.text import clean

logger = logging.getLogger(__name__)

#: Unpacked, an EPUB this much bigger than its file is a zip bomb, not a book.
MAX_UNPACKED_BYTES = 10 * MAX_EPUB_BYTES
#: EPUB's font obfuscation (IDPF and Adobe): listed in encryption.xml, and not DRM.
FONT_OBFUSCATION = frozenset(
    {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
)
_ENC = "{http://www.w3.org/2001/04/xmlenc#}"


class EpubRefused(InvalidInput):
    """The file cannot be imported; the message says why, in the member's terms."""


@dataclass(frozen=True, slots=True)
class EpubContents:
    title: str
    author: str
    entries: list[TocEntry]


def size_refusal(size: int) -> EpubRefused | None:
    """The refusal for a file of ``size`` bytes, when it is too big to read."""
    if size > MAX_EPUB_BYTES:
        return EpubRefused(
            f"That file is {math.ceil(size / 1024 / 1024):,} MB; I read EPUB files up to "
            f"{MAX_EPUB_BYTES // 1024 // 1024} MB. Add the book with "
            "`/book add <title> | <author> | <chapters>` instead."
        )
    return None


def read_epub(data: bytes, filename: str = "book.epub") -> EpubContents:
    """The title, author and table of contents of an EPUB file's bytes."""
    too_big = size_refusal(len(data))
    if too_big is not None:
        raise too_big
    damaged = EpubRefused(
        f"I can't read “{filename}”: it is not an EPUB file, or it is damaged. Export it "
        "again from where you got it, or add the book with `/book add`."
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise damaged from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise damaged
    if "META-INF/rights.xml" in names or _encrypted(archive, names):
        raise EpubRefused(
            f"“{filename}” is protected by DRM, so I can't read its chapters. Use a "
            "DRM-free copy, or add the book with `/book add <title> | <author> | <chapters>`."
        )
    try:
        from ebooklib import epub

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EbookLib's notes about its future defaults
            book = epub.read_epub(io.BytesIO(data))
    # EbookLib raises many kinds on a broken file (its own, KeyError, lxml's, zipfile's,
    # AttributeError on a missing part): any of them means the file is damaged.
    except Exception as exc:  # noqa: BLE001
        logger.info("an EPUB could not be read: %s", type(exc).__name__)
        raise damaged from None
    entries = list(_flatten(book.toc, 0))
    title = _first(book, "title") or PurePosixPath(filename).stem or "Untitled"
    author = _first(book, "creator") or "Unknown author"
    return EpubContents(title=title, author=author, entries=entries)


def _encrypted(archive: zipfile.ZipFile, names: set[str]) -> bool:
    """Does META-INF/encryption.xml encrypt anything but fonts (DRM, not obfuscation)?"""
    if "META-INF/encryption.xml" not in names:
        return False
    try:
        root = ElementTree.fromstring(archive.read("META-INF/encryption.xml"))
    except (ElementTree.ParseError, KeyError, OSError, zipfile.BadZipFile):
        return True  # unreadable: assume the worst, and say so
    methods = [
        str(method.get("Algorithm") or "")
        for data in root.iter(f"{_ENC}EncryptedData")
        for method in data.iter(f"{_ENC}EncryptionMethod")
    ]
    return not methods or any(m not in FONT_OBFUSCATION for m in methods)


def _flatten(toc: Any, depth: int) -> list[TocEntry]:
    """EbookLib's nested table of contents (links, and (section, children) pairs) as
    entries with their depth."""
    out: list[TocEntry] = []
    for item in toc or ():
        if isinstance(item, tuple | list) and len(item) == 2:
            head, children = item
            title = clean(str(getattr(head, "title", "") or ""))
            if title:
                out.append(TocEntry(title, depth))
            out.extend(_flatten(children, depth + 1 if title else depth))
            continue
        title = clean(str(getattr(item, "title", "") or ""))
        if title:
            out.append(TocEntry(title, depth))
    return out


def _first(book: Any, name: str) -> str:
    try:
        found = book.get_metadata("DC", name)
    except (KeyError, ValueError, AttributeError, TypeError):  # as if there were none
        logger.info("an EPUB's %s could not be read", name)
        return ""
    for value, _attributes in found or ():
        text = " ".join(clean(str(value or "")).split())
        if text:
            return text
    return ""
