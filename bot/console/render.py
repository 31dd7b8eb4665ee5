"""Block Kit and mrkdwn as a person reads them, as ``rich`` text lines.

Pure functions over plain dicts: headers in bold, sections and context as text, buttons as
``[Reflect]``, mentions (``<@U…>``, ``<#C…>``) as ``@name`` / ``#name``, links as their
label, and Slack's three entities (``&lt; &gt; &amp;``) decoded, *after* links and
mentions are resolved, so escaped user text stays text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from emoji import emojize
from rich.text import Text

from bot.emulator.models import Message

Names = Mapping[str, str]
FileText = Callable[[str], str | None]

INDENT = "    "
MAX_FILE_LINES = 40


_ENTITY = re.compile(r"<([^<>\n]+)>")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_STYLE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?<![\w*])\*(?P<bold>(?!\s)[^*\n]+?)(?<!\s)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>(?!\s)[^_\n]+?)(?<!\s)_(?![\w_])"
    r"|(?<![\w~])~(?P<strike>(?!\s)[^~\n]+?)(?<!\s)~(?![\w~])"
)
_STYLES = {"code": "cyan", "bold": "bold", "italic": "italic", "strike": "strike"}


def emoji(name: str) -> str:
    """``:books:`` (or ``books``) as its character, by Slack's shortcode aliases (the
    ``emoji`` library's); unknown names stay as shortcodes."""
    bare = name.strip(":")
    return str(emojize(f":{bare}:", language="alias"))


def emoji_text(text: str) -> str:
    """Every ``:shortcode:`` in ``text`` as its character."""
    return _EMOJI.sub(lambda m: emoji(m.group(1)), text)


def _entity(match: re.Match[str], names: Names) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (names.get(target[1:]) or label or target[1:])
    if target.startswith("#"):
        name = names.get(target[1:]) or label or target[1:]
        return name if name.startswith("group(") else "#" + name  # a group DM reads as such
    if target.startswith("!subteam^"):
        return label or "@group"
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return "@" + target[1:]
    if label:
        return label
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # a URL (https:, mailto:, …)
        return target
    return match.group(0)  # not an entity Slack knows: show the text as typed


def decode(text: str, names: Names) -> str:
    """Mentions, channels and links resolved, then ``&lt; &gt; &amp;`` decoded."""
    resolved = _ENTITY.sub(lambda m: _entity(m, names), text)
    return resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def styled(line: str) -> Text:
    """One decoded line with ``*bold*``, ``_italic_``, ``~strike~`` and `code` styled."""
    out = Text()
    position = 0
    for match in _STYLE.finditer(line):
        out.append(_EMOJI.sub(lambda m: emoji(m.group(1)), line[position : match.start()]))
        kind = match.lastgroup or "bold"
        content = match.group(0) if kind == "code" else match.group(kind)
        out.append(content, style=_STYLES[kind])
        position = match.end()
    out.append(_EMOJI.sub(lambda m: emoji(m.group(1)), line[position:]))
    return out


def mrkdwn(text: str, names: Names) -> list[Text]:
    """Slack mrkdwn as styled lines; ``>`` block quotes get a bar."""
    lines: list[Text] = []
    for raw in text.split("\n"):
        if raw.startswith(">"):
            quoted = decode(raw[1:].removeprefix(" "), names)
            lines.append(Text("│ ", style="dim") + styled(quoted))
        else:
            lines.append(styled(decode(raw, names)))
    return lines


def text_object(obj: Any, names: Names) -> list[Text]:
    """A ``plain_text`` or ``mrkdwn`` text object (or a bare string)."""
    if isinstance(obj, str):
        return [Text(obj)]
    if not isinstance(obj, dict):
        return []
    text = str(obj.get("text") or "")
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, names)
    return [
        Text(emoji_line) for emoji_line in _EMOJI.sub(lambda m: emoji(m.group(1)), text).split("\n")
    ]


def element(obj: Any, names: Names) -> Text | None:
    """An interactive element as one bracketed label: ``[Reflect]``, ``[Choose a book ▾]``."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    if kind == "button":
        label = "".join(t.plain for t in text_object(obj.get("text"), names))
        return Text(f"[{label}]", style="bold" if obj.get("style") == "primary" else "")
    if kind == "image":
        return Text(f"[image: {obj.get('alt_text', '')}]", style="dim")
    if kind in ("plain_text", "mrkdwn"):
        return Text(" ").join(text_object(obj, names))
    placeholder = obj.get("placeholder")
    shown = " ".join(t.plain for t in text_object(placeholder, names)) if placeholder else kind
    return Text(f"[{shown} ▾]")


def block(obj: dict[str, Any], names: Names) -> list[Text]:
    """One block as the lines a person reads."""
    kind = obj.get("type")
    if kind == "header":
        line = Text(" ").join(text_object(obj.get("text"), names))
        line.stylize("bold")
        return [line]
    if kind == "section":
        lines = text_object(obj.get("text"), names)
        for field in obj.get("fields") or []:
            lines += text_object(field, names)
        accessory = element(obj.get("accessory"), names)
        if accessory is not None and obj.get("accessory", {}).get("type") != "image":
            lines.append(accessory)
        return lines
    if kind == "context":
        parts = [element(e, names) for e in obj.get("elements") or []]
        joined = Text(" · ").join(p for p in parts if p is not None)
        return [Text(line, style="dim") for line in joined.plain.split("\n")]
    if kind == "actions":
        buttons = [element(e, names) for e in obj.get("elements") or []]
        return [Text("  ").join(b for b in buttons if b is not None)]
    if kind == "divider":
        return [Text("─" * 24, style="dim")]
    if kind == "image":
        return [Text(f"[image: {obj.get('alt_text', '')}]", style="dim")]
    if kind == "input":
        label = " ".join(t.plain for t in text_object(obj.get("label"), names))
        return [Text(f"{label}: ____")]
    if kind == "rich_text":
        return []
    return [Text(f"[{kind} block]", style="dim")]


def blocks(items: Sequence[dict[str, Any]], names: Names) -> list[Text]:
    lines: list[Text] = []
    for item in items:
        lines += block(item, names)
    return lines


def message_body(message: Message, names: Names, file_text: FileText) -> list[Text]:
    """What a message shows: its blocks (or its text), files and reactions."""
    shown = [b for b in message.blocks if b.get("type") != "rich_text"]
    lines = blocks(shown, names) if shown else (mrkdwn(message.text, names) if message.text else [])
    for file in message.files:
        name = str(file.get("name") or file.get("title") or "file")
        lines.append(Text(f"📎 {name}", style="bold"))
        content = file_text(str(file.get("id"))) if file.get("id") else None
        if content is not None:
            file_lines = content.rstrip("\n").split("\n")
            for line in file_lines[:MAX_FILE_LINES]:
                lines.append(Text("┊ ", style="dim") + Text(line))
            if len(file_lines) > MAX_FILE_LINES:
                lines.append(
                    Text(f"┊ …({len(file_lines) - MAX_FILE_LINES} more lines)", style="dim")
                )
    if message.reactions:
        counts = "  ".join(
            f"{emoji(name)} {len(users)}" for name, users in message.reactions.items()
        )
        lines.append(Text(counts, style="dim"))
    return lines


def view(obj: dict[str, Any], names: Names) -> list[Text]:
    """A view (App Home or a modal): its title, then its blocks."""
    title = (
        " ".join(t.plain for t in text_object(obj.get("title"), names)) if obj.get("title") else ""
    )
    lines = [Text(title, style="bold")] if title else []
    return lines + blocks(obj.get("blocks") or [], names)


def indented(lines: Sequence[Text], prefix: str = INDENT) -> list[Text]:
    return [Text(prefix) + line for line in lines]


def moment(ts_or_time: str | datetime, zone: tzinfo) -> str:
    """``Mon 7 Dec 09:00``: a message ts or a datetime in the console's zone."""
    when = (
        datetime.fromtimestamp(float(ts_or_time), zone)
        if isinstance(ts_or_time, str)
        else ts_or_time.astimezone(zone)
    )
    return f"{when:%a} {when.day} {when:%b %H:%M}"


def fingerprint(message: Message) -> str:
    """What makes a message look different: text, blocks, files, deletion (not reactions)."""
    return json.dumps(
        [message.text, message.blocks, message.files, message.deleted], sort_keys=True, default=str
    )
