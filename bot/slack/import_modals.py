"""The form of a book read from a file: pick which entries of its table of contents are
its chapters (and check its title and author). ``build()`` and ``parse()``.

User text shown in a form is escaped (mrkdwn) or made plain (labels, options), once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.books import MAX_AUTHOR, MAX_TITLE
from bot.domain.imports import PendingImport
from bot.slack.blocks import section
from bot.slack.modals import FieldErrors, State, _value
from bot.slack.text import escape, plain, truncate

IMPORT_PICK = "import_pick_submit"


@dataclass(frozen=True, slots=True)
class ImportModal:
    """Pick which entries of a book's table of contents are its chapters."""

    pending: PendingImport
    picked: list[int]

    def build(self) -> View:
        options = [
            Option(
                value=str(i),
                label=truncate(plain(f"{i + 1}. {'– ' * min(e.depth, 3)}{e.title}"), 75),
            )
            for i, e in enumerate(self.pending.entries)
        ]
        initial = [options[i] for i in self.picked if 0 <= i < len(options)]
        return View(
            type="modal",
            callback_id=IMPORT_PICK,
            title="Add the book",
            submit="Add",
            close="Cancel",
            private_metadata=json.dumps({"import_id": self.pending.id}),
            blocks=[
                section(
                    f"From “{escape(self.pending.filename)}”. The entries that look like "
                    "chapters are chosen; front matter, acknowledgements, the index and the "
                    "like are left out. Add or remove any."
                ),
                InputBlock(
                    block_id="title",
                    label="Title",
                    element=PlainTextInputElement(
                        action_id="value", max_length=MAX_TITLE, initial_value=self.pending.title
                    ),
                ),
                InputBlock(
                    block_id="author",
                    label="Author",
                    element=PlainTextInputElement(
                        action_id="value",
                        max_length=MAX_AUTHOR,
                        initial_value=self.pending.author,
                    ),
                ),
                InputBlock(
                    block_id="chapters",
                    label="Chapters",
                    hint="In the book's order; each becomes a chapter, with its title.",
                    element=StaticMultiSelectElement(
                        action_id="value",
                        options=options,
                        initial_options=initial or None,
                        placeholder="Choose the chapters",
                    ),
                ),
            ],
        )

    @staticmethod
    def parse(state: State) -> tuple[str, str, list[int]]:
        title = str(_value(state, "title", "value") or "").strip()
        author = str(_value(state, "author", "value") or "").strip()
        element = (state.get("chapters") or {}).get("value")
        chosen = element.get("selected_options") if isinstance(element, dict) else None
        picked = [
            int(str(o.get("value")))
            for o in chosen or []
            if isinstance(o, dict) and str(o.get("value") or "").isdigit()
        ]
        errors = {}
        if not title:
            errors["title"] = "Give the book's title."
        if not author:
            errors["author"] = "Give the author's name."
        if not picked:
            errors["chapters"] = "Choose at least one chapter."
        if errors:
            raise FieldErrors(errors)
        return title, author, picked
