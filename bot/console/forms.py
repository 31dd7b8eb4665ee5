"""Modals at a text prompt: each input block becomes one question.

:func:`fields` reads a view's input blocks; :func:`parse_answer` turns what the person
typed into the value Slack would report for that element (an option value for selects,
``YYYY-MM-DD`` for date pickers…), so the console can send a real ``view_submission``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from bot.console.render import Names, text_object


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a modal, ready to be asked."""

    block_id: str
    action_id: str
    kind: str
    label: str
    optional: bool = False
    hint: str = ""
    default: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    multiline: bool = False

    @property
    def default_label(self) -> str | None:
        """How the default reads (an option's label rather than its value)."""
        if self.default is None:
            return None
        if self.options:
            chosen = self.default if isinstance(self.default, list) else [self.default]
            labels = [label for value, label in self.options if value in chosen]
            return ", ".join(labels) or None
        return str(self.default)

    @property
    def multiple(self) -> bool:
        return self.kind in ("checkboxes", "multi_static_select")


def _plain(obj: Any, names: Names) -> str:
    return " ".join(t.plain for t in text_object(obj, names)).strip()


def _options(element: dict[str, Any], names: Names) -> list[tuple[str, str]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return [(str(o.get("value")), _plain(o.get("text"), names)) for o in options]


def _default(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        option = element.get("initial_option")
        return str(option["value"]) if isinstance(option, dict) else None
    if kind in ("checkboxes", "multi_static_select"):
        return [str(o.get("value")) for o in element.get("initial_options") or []] or None
    for key in (
        "initial_value",
        "initial_date",
        "initial_time",
        "initial_user",
        "initial_channel",
        "initial_conversation",
    ):
        if element.get(key) not in (None, ""):
            return element[key]
    return None


def fields(view: dict[str, Any], names: Names) -> list[Field]:
    """The view's input blocks, in order."""
    out = []
    for block in view.get("blocks") or []:
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        out.append(
            Field(
                block_id=str(block.get("block_id")),
                action_id=str(element.get("action_id")),
                kind=str(element.get("type")),
                label=_plain(block.get("label"), names),
                optional=bool(block.get("optional")),
                hint=_plain(block.get("hint"), names) if block.get("hint") else "",
                default=_default(element),
                options=_options(element, names),
                multiline=bool(element.get("multiline")),
            )
        )
    return out


def _pick(item: Field, answer: str) -> str:
    wanted = answer.strip().lower()
    if wanted.isdigit() and 1 <= int(wanted) <= len(item.options):
        return item.options[int(wanted) - 1][0]
    for value, label in item.options:
        if wanted in (value.lower(), label.lower()):
            return value
    starts = [value for value, label in item.options if label.lower().startswith(wanted)]
    if len(starts) == 1:
        return starts[0]
    raise ValueError("Choose one of the numbers listed.")


def parse_answer(item: Field, answer: str) -> Any:
    """The element value for ``answer``; empty keeps the default. ``ValueError`` if invalid."""
    text = answer.strip()
    if not text:
        if item.default is None and not item.optional:
            raise ValueError("This one is required.")
        return item.default
    if item.options:
        if item.multiple:
            return [_pick(item, part) for part in re.split(r"\s*,\s*", text) if part]
        return _pick(item, text)
    if item.kind == "datepicker":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("Give a date as YYYY-MM-DD.") from None
    if item.kind == "timepicker":
        try:
            return time.fromisoformat(text).strftime("%H:%M")
        except ValueError:
            raise ValueError("Give a time as HH:MM.") from None
    if item.kind == "number_input":
        try:
            float(text)
        except ValueError:
            raise ValueError("Give a number.") from None
    # Multi-line inputs: type \n for a line break.
    return answer.strip().replace("\\n", "\n")
