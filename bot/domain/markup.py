"""Slack mrkdwn read back as Markdown (exports) or as plain text (quotes in digests).

Slack marks up message text with control sequences in angle brackets: ``<@U…>`` and
``<#C…|name>`` mentions, ``<!channel>``/``<!here>``/``<!everyone>`` pings,
``<https://…|label>`` links, and ``*bold*``, ``_italic_``, ``~strike~``. Text from Slack
(thread replies) also carries ``&amp;``, ``&lt;`` and ``&gt;``; reflection text is stored
already decoded (``bot.domain.text.from_slack``), so ``encoded=False`` leaves it as typed.

Both forms show people and channels by name and never carry a control sequence, so what
they produce can never ping anyone, link to a person or show a raw id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.domain.text import from_slack

_NOBODY = "someone"

#: A control sequence: ``<@U…>``, ``<#C…|name>``, ``<!here>``, ``<https://…|label>``.
_CONTROL = re.compile(
    r"<(?:"
    r"@(?P<user>[UWB][A-Z0-9]+)(?:\|(?P<user_label>[^<>]*))?"
    r"|#(?P<channel>[CGD][A-Z0-9]+)(?:\|(?P<channel_label>[^<>]*))?"
    r"|!(?P<special>[^<>|]+)(?:\|(?P<special_label>[^<>]*))?"
    r"|(?P<url>(?:https?|mailto|ftp|tel|slack):[^<>|\s]+)(?:\|(?P<url_label>[^<>]*))?"
    r")>"
)
# Code as Markdown will also read it: a backtick run closed by a run of the same length.
_CODE = re.compile(
    r"(?<!`)```(?!`)(?P<block>.*?)(?<!`)```(?!`)|(?<!`)`(?P<inline>[^`\n]+)`(?!`)", re.DOTALL
)
# Slack's emphasis: the marker next to a word, not inside one ("snake_case", "5 * 3").
_EMPHASIS = re.compile(
    r"(?<![\w*])\*(?P<bold>[^\s*](?:[^*\n]*[^\s*])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>[^\s_](?:[^_\n]*[^\s_])?)_(?![\w_])"
    r"|(?<![\w~])~(?P<strike>[^\s~](?:[^~\n]*[^\s~])?)~(?![\w~])"
)
# In Markdown a "<" before a letter (or "/", "!", "?") opens an HTML tag or an autolink.
_MARKDOWN_ANGLE = re.compile(r"<(?![\s\d<=])")
_MARKDOWN_ENTITY = re.compile(r"&(?=#?\w+;)")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")


@dataclass(frozen=True, slots=True)
class Names:
    """Display names of people and names of channels, by id, as far as they are known."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)

    def user(self, user_id: str, label: str | None = None) -> str:
        """``@Alice``: the known name, else the mention's own label, else ``@someone``."""
        name = self.users.get(user_id)
        if not name or name == user_id:
            name = (label or "").lstrip("@") or _NOBODY
        return "@" + name

    def channel(self, channel_id: str, label: str | None = None) -> str:
        """``#book-club``: the known name, else the mention's label, else ``#channel``."""
        name = self.channels.get(channel_id)
        if not name or name == channel_id:
            name = (label or "").lstrip("#") or "channel"
        return "#" + name


def mentioned(text: str) -> tuple[set[str], set[str]]:
    """The user ids and channel ids that ``text`` mentions (to look their names up)."""
    users: set[str] = set()
    channels: set[str] = set()
    for match in _CONTROL.finditer(text):
        if match["user"]:
            users.add(match["user"])
        elif match["channel"]:
            channels.add(match["channel"])
    return users, channels


def _special(match: re.Match[str]) -> str:
    """``<!here>`` → ``@here``; ``<!subteam^S1|@readers>`` → ``@readers``; dates → their text."""
    name, label = match["special"], match["special_label"]
    if name.startswith("date^"):
        return label or "a date"
    if name.startswith("subteam^"):
        return "@" + (label or "group").lstrip("@")
    if name in ("channel", "here", "everyone"):
        return "@" + name
    return label or "@" + name.split("^")[0]


def _plain_piece(match: re.Match[str], names: Names, decode: Callable[[str], str]) -> str:
    if match["user"]:
        return names.user(match["user"], decode(match["user_label"] or ""))
    if match["channel"]:
        return names.channel(match["channel"], decode(match["channel_label"] or ""))
    if match["special"]:
        return decode(_special(match))
    url = decode(match["url"])
    label = decode(match["url_label"] or "")
    if not label or label == url:
        return url
    return f"{label} ({url})"


def _markdown_piece(match: re.Match[str], names: Names, decode: Callable[[str], str]) -> str:
    if not match["url"]:
        return _markdown_literal(_plain_piece(match, names, decode))
    url = decode(match["url"]).replace("(", "%28").replace(")", "%29")
    label = decode(match["url_label"] or "")
    if not label or label == url:
        return f"<{url}>"
    label = re.sub(r"([\[\]\\])", r"\\\1", _markdown_literal(label))
    return f"[{label}]({url})"


def markdown_literal(text: str) -> str:
    """Plain text (a title, a name) to put in Markdown as it reads: no HTML, no entities."""
    return _markdown_literal(text)


def _markdown_literal(text: str) -> str:
    """Literal text that Markdown must not read as HTML or as an entity."""
    return _MARKDOWN_ENTITY.sub(r"\\&", _MARKDOWN_ANGLE.sub(r"\\<", text))


def _identity(text: str) -> str:
    return text


def to_plain(text: str, names: Names | None = None, *, encoded: bool = True) -> str:
    """The text as a person reads it in Slack, without markup that could ping: mentions as
    ``@Name``, links as ``label (url)``, entities decoded. Emphasis markers stay as typed.

    The result is plain text: escape it (``bot.slack.text.escape``) before showing it.
    """
    names = names or Names()
    decode = from_slack if encoded else _identity
    out: list[str] = []
    last = 0
    for match in _CONTROL.finditer(text):
        out.append(decode(text[last : match.start()]))
        out.append(_plain_piece(match, names, decode))
        last = match.end()
    out.append(decode(text[last:]))
    return "".join(out)


def to_markdown(text: str, names: Names | None = None, *, encoded: bool = True) -> str:
    """The text as Markdown: ``**bold**``, ``*italic*``, ``~~strike~~``, ``[label](url)``,
    mentions as ``@Name``/``#channel``, pings as ``@here``; code kept verbatim."""
    names = names or Names()
    decode = from_slack if encoded else _identity
    pieces: list[str] = []

    def hold(match: re.Match[str]) -> str:
        pieces.append(_markdown_piece(match, names, decode))
        return f"\ue000{len(pieces) - 1}\ue001"

    held = _CONTROL.sub(hold, text.replace("\ue000", "").replace("\ue001", ""))
    out: list[str] = []
    last = 0
    for code in _CODE.finditer(held):
        out.append(_emphasis(_markdown_literal(decode(held[last : code.start()]))))
        if code["block"] is not None:
            before = "".join(out)
            body = decode(code["block"]).strip("\n")
            lead = "" if not before or before.endswith("\n") else "\n"
            out[-1] = out[-1].rstrip(" ")
            out.append(f"{lead}```\n{body}\n```\n")
            last = code.end()
            while last < len(held) and held[last] == " ":
                last += 1
            if held[last : last + 1] == "\n":
                last += 1
        else:
            out.append(f"`{decode(code['inline'])}`")
            last = code.end()
    out.append(_emphasis(_markdown_literal(decode(held[last:]))))
    joined = "".join(out)
    if joined.endswith("```\n") and not text.endswith("\n"):
        joined = joined[:-1]
    return _PLACEHOLDER.sub(lambda m: pieces[int(m.group(1))], joined)


def _emphasis(text: str) -> str:
    """Slack's ``*bold*``, ``_italic_`` and ``~strike~`` as Markdown, nested ones too."""

    def convert(match: re.Match[str]) -> str:
        if match["bold"] is not None:
            return f"**{_emphasis(match['bold'])}**"
        if match["italic"] is not None:
            return f"*{_emphasis(match['italic'])}*"
        return f"~~{_emphasis(match['strike'])}~~"

    return _EMPHASIS.sub(convert, text)
