"""EPUB files the tests build themselves, with EbookLib (the library the bot reads them with),
and ways to spoil them: damaged, DRM-protected, without a table of contents."""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeAlias

from ebooklib import epub

#: A table of contents as a test writes it: a title, or (a part's title, its children).
Toc: TypeAlias = Sequence["str | tuple[str, Toc]"]

NOVEL_TOC: Toc = (
    "Cover",
    "Title Page",
    "Copyright",
    "Contents",
    "Dedication",
    ("Part One: The Harbour", ("Chapter 1: Arrival", "Chapter 2: The Lighthouse & the Keeper")),
    ("Part Two: The Storm", ("Chapter 3: <Night> Watch", "Chapter 4: Morning")),
    "Epilogue",
    "Acknowledgements",
    "About the Author",
    "Index",
)
#: What a member would call the chapters of NOVEL_TOC.
NOVEL_CHAPTERS = [
    "Chapter 1: Arrival",
    "Chapter 2: The Lighthouse & the Keeper",
    "Chapter 3: <Night> Watch",
    "Chapter 4: Morning",
    "Epilogue",
]


def build_epub(
    title: str = "The Lighthouse Keeper",
    author: str = "Ada Lovelace & Co",
    toc: Toc = NOVEL_TOC,
    *,
    with_toc: bool = True,
) -> bytes:
    """An EPUB 3 file (with an NCX too, as most are) whose table of contents is ``toc``."""
    book = epub.EpubBook()
    book.set_identifier(f"test-{abs(hash((title, author))) % 10**8}")
    book.set_title(title)
    book.set_language("en")
    if author:
        book.add_author(author)
    pages: list[epub.EpubHtml] = []

    def page(name: str) -> epub.EpubHtml:
        item = epub.EpubHtml(title=name, file_name=f"page{len(pages)}.xhtml", lang="en")
        item.content = f"<h1>{_xml(name)}</h1><p>Text of {_xml(name)}.</p>"
        book.add_item(item)
        pages.append(item)
        return item

    def entries(spec: Toc) -> list[object]:
        out: list[object] = []
        for entry in spec:
            if isinstance(entry, tuple):
                part, children = entry
                out.append((epub.Section(part), entries(children)))
            else:
                out.append(page(entry))
        return out

    toc_items = entries(toc)
    if with_toc:
        book.toc = toc_items
        book.add_item(epub.EpubNcx())
        book.add_item(epub.EpubNav())
        book.spine = ["nav", *pages]
    else:
        book.spine = list(pages)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.epub"
        epub.write_epub(str(path), book)
        data = path.read_bytes()
    # Without contents, EbookLib still names an NCX in the spine: take that out, as a
    # book made without a table of contents has none.
    return data if with_toc else rewrite_opf(data, lambda opf: re.sub(rb'\s+toc="[^"]*"', b"", opf))


def rewrite_opf(data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            archive.writestr(info, change(content) if info.filename.endswith(".opf") else content)
    return out.getvalue()


def with_extra_file(data: bytes, name: str, content: bytes) -> bytes:
    """The EPUB with one more file in its archive (e.g. META-INF/rights.xml)."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def drm_protected(data: bytes) -> bytes:
    """As an Adobe-DRM EPUB is: a rights file, and the text encrypted."""
    protected = with_extra_file(
        data,
        "META-INF/rights.xml",
        b'<?xml version="1.0"?><rights xmlns="http://ns.adobe.com/adept"/>',
    )
    return with_extra_file(protected, "META-INF/encryption.xml", encryption_xml(_AES))


_AES = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
FONT_OBFUSCATION = "http://www.idpf.org/2008/embedding"


def encryption_xml(algorithm: str) -> bytes:
    return (
        '<?xml version="1.0"?>'
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#">'
        "<enc:EncryptedData>"
        f'<enc:EncryptionMethod Algorithm="{algorithm}"/>'
        '<enc:CipherData><enc:CipherReference URI="EPUB/page1.xhtml"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    ).encode()


def damaged(data: bytes) -> bytes:
    """The file cut off halfway, as a broken download leaves it."""
    return data[: len(data) // 2]


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
