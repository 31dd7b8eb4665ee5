"""Making text safe and short for Slack's mrkdwn."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

SECTION_LIMIT = 3000


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` so user text can never mention, link or ping anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """User text for a ``plain_text`` object (headers, buttons, form labels and options).

    Slack takes plain text literally: an entity there would show as ``&amp;``, so ``&``
    stays ``&``. ``<`` and ``>`` become the look-alikes ``‹`` ``›``, so no sequence
    like ``<!channel>`` is ever sent, whatever a client makes of it.
    """
    return text.replace("<", "‹").replace(">", "›")


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


_PARTIAL_MARKUP = re.compile(r"(&[a-z]*|<[^>]*)$")


def cut_markup(text: str, limit: int) -> str:
    """Escaped mrkdwn at most ``limit`` characters, never cut inside an entity (``&amp;``)
    or a link or mention (``<…>``): a half ``&am`` or ``<@U12`` would show as garbage."""
    if len(text) <= limit:
        return text
    kept = text[: max(0, limit - 1)]
    kept = _PARTIAL_MARKUP.sub("", kept)
    return kept.rstrip() + "…"


def quote(text: str, limit: int = 280) -> str:
    """User text as an escaped, shortened mrkdwn block quote."""
    safe = escape(truncate(" ".join(text.split()) if limit < 500 else text, limit))
    return "\n".join("> " + line for line in safe.splitlines() or [""])


def mention(user_id: str) -> str:
    """A mention of a Slack user id we got from Slack itself (never from user text)."""
    return f"<@{user_id}>"


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>"


def local_time(moment: datetime, timezone: str) -> str:
    """``Mon 7 Dec 2026, 09:00 CET`` in ``timezone``."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def local_time_for(moment: datetime, timezone: str, viewer_timezone: str | None) -> str:
    """:func:`local_time` in the plan's zone and, for a reader whose own zone (Slack's,
    checked with ``schedule.usable_zone``) shows another time, in theirs too: ``Tue 8 Dec 2026, 19:00 GMT (Wed 9 Dec 2026,
    04:00 JST for you)``."""
    shown = local_time(moment, timezone)
    if not viewer_timezone or viewer_timezone == timezone:
        return shown
    theirs, plans = ZoneInfo(viewer_timezone), ZoneInfo(timezone)
    if moment.astimezone(theirs).utcoffset() == moment.astimezone(plans).utcoffset():
        return shown
    return f"{shown} ({local_time(moment, viewer_timezone)} for you)"
