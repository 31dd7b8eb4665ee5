"""Block Kit and message validation: the limits Slack enforces, in one place.

Every check returns Slack-style messages (``"[ERROR] … [json-pointer:/blocks/0/text]"``)
that the Web API layer puts into ``response_metadata.messages``. An empty list means
the payload is acceptable.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_VIEW_LABEL = 24  # modal title, submit and close
MAX_PRIVATE_METADATA = 3000
MAX_ID = 255  # block_id, action_id, callback_id, external_id
MAX_MESSAGE_TEXT = 40_000
MAX_INPUT_LABEL = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLAIN_TEXT_INPUT_LENGTH = 3000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10

BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)

ELEMENT_TYPES = frozenset(
    {
        "button",
        "channels_select",
        "checkboxes",
        "conversations_select",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "external_select",
        "feedback_buttons",
        "file_input",
        "icon_button",
        "image",
        "multi_channels_select",
        "multi_conversations_select",
        "multi_external_select",
        "multi_static_select",
        "multi_users_select",
        "number_input",
        "overflow",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "static_select",
        "timepicker",
        "url_text_input",
        "users_select",
        "workflow_button",
    }
)

_OPTION_ELEMENTS = frozenset(
    {"static_select", "multi_static_select", "overflow", "checkboxes", "radio_buttons"}
)


def _at(pointer: str) -> str:
    return f"[json-pointer:{pointer}]"


def _too_long(limit: int, pointer: str) -> str:
    return f"[ERROR] must be less than {limit + 1} characters {_at(pointer)}"


def _schema(pointer: str) -> str:
    return f"[ERROR] failed to match all allowed schemas {_at(pointer)}"


def _missing(name: str, pointer: str) -> str:
    return f"[ERROR] missing required field: {name} {_at(pointer)}"


class _Checker:
    """Collects error messages while walking a payload."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def text_object(
        self,
        obj: Any,
        pointer: str,
        *,
        max_len: int | None = None,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.errors.append(_missing(pointer.rsplit("/", 1)[-1], pointer))
            return
        if not isinstance(obj, dict):
            self.errors.append(_schema(pointer))
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.errors.append(_schema(pointer))
            return
        text = obj.get("text")
        if not isinstance(text, str):
            self.errors.append(_missing("text", pointer))
            return
        if not text:
            self.errors.append(f"[ERROR] must be more than 0 characters {_at(pointer + '/text')}")
        if max_len is not None and len(text) > max_len:
            self.errors.append(_too_long(max_len, pointer + "/text"))

    def identifier(self, value: Any, name: str, pointer: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.errors.append(_schema(f"{pointer}/{name}"))
        elif len(value) > MAX_ID:
            self.errors.append(_too_long(MAX_ID, f"{pointer}/{name}"))

    def options(self, options: Any, pointer: str) -> None:
        if not isinstance(options, list):
            self.errors.append(_schema(pointer))
            return
        if len(options) > MAX_OPTIONS:
            self.errors.append(f"[ERROR] no more than {MAX_OPTIONS} items allowed {_at(pointer)}")
        for i, option in enumerate(options):
            p = f"{pointer}/{i}"
            if not isinstance(option, dict):
                self.errors.append(_schema(p))
                continue
            self.text_object(option.get("text"), p + "/text", max_len=MAX_OPTION_TEXT)
            value = option.get("value")
            if isinstance(value, str) and len(value) > MAX_OPTION_VALUE:
                self.errors.append(_too_long(MAX_OPTION_VALUE, p + "/value"))

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict):
            self.errors.append(_schema(pointer))
            return
        kind = element.get("type")
        if kind not in ELEMENT_TYPES:
            self.errors.append(_schema(pointer))
            return
        self.identifier(element.get("action_id"), "action_id", pointer)
        if kind == "button":
            self.text_object(
                element.get("text"), pointer + "/text", max_len=MAX_BUTTON_TEXT, plain_only=True
            )
            value = element.get("value")
            if isinstance(value, str) and len(value) > MAX_BUTTON_VALUE:
                self.errors.append(_too_long(MAX_BUTTON_VALUE, pointer + "/value"))
        elif kind == "image":
            self._image(element, pointer)
        elif kind in _OPTION_ELEMENTS:
            if "options" in element:
                self.options(element["options"], pointer + "/options")
            elif "option_groups" not in element:
                self.errors.append(_missing("options", pointer))
        elif kind == "plain_text_input":
            for key in ("max_length", "min_length"):
                value = element.get(key)
                if isinstance(value, int) and value > MAX_PLAIN_TEXT_INPUT_LENGTH:
                    self.errors.append(
                        f"[ERROR] must be less than or equal to {MAX_PLAIN_TEXT_INPUT_LENGTH} "
                        f"{_at(pointer + '/' + key)}"
                    )
        placeholder = element.get("placeholder")
        if placeholder is not None:
            self.text_object(placeholder, pointer + "/placeholder", max_len=150, plain_only=True)

    def _image(self, obj: dict[str, Any], pointer: str) -> None:
        if "image_url" not in obj and "slack_file" not in obj:
            self.errors.append(_missing("image_url", pointer))
        if not isinstance(obj.get("alt_text"), str):
            self.errors.append(_missing("alt_text", pointer))

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.errors.append(_schema(pointer))
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.errors.append(_schema(pointer))
            return
        self.identifier(block.get("block_id"), "block_id", pointer)
        if kind == "section":
            self._section(block, pointer)
        elif kind == "header":
            self.text_object(
                block.get("text"), pointer + "/text", max_len=MAX_HEADER_TEXT, plain_only=True
            )
        elif kind == "actions":
            self._element_list(block.get("elements"), pointer, MAX_ACTIONS_ELEMENTS, self.element)
            self._unique_action_ids(block.get("elements"), pointer)
        elif kind == "context":
            self._element_list(
                block.get("elements"), pointer, MAX_CONTEXT_ELEMENTS, self._context_element
            )
        elif kind == "input":
            self.text_object(
                block.get("label"), pointer + "/label", max_len=MAX_INPUT_LABEL, plain_only=True
            )
            if "element" not in block:
                self.errors.append(_missing("element", pointer))
            else:
                self.element(block["element"], pointer + "/element")
            if block.get("hint") is not None:
                self.text_object(
                    block["hint"], pointer + "/hint", max_len=MAX_INPUT_LABEL, plain_only=True
                )
        elif kind == "image":
            self._image(block, pointer)
        elif kind == "rich_text" and not isinstance(block.get("elements"), list):
            self.errors.append(_missing("elements", pointer))

    def _section(self, block: dict[str, Any], pointer: str) -> None:
        text = block.get("text")
        fields = block.get("fields")
        if text is None and fields is None:
            self.errors.append(_missing("text", pointer))
        if text is not None:
            self.text_object(text, pointer + "/text", max_len=MAX_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list) or not fields:
                self.errors.append(_schema(pointer + "/fields"))
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    self.errors.append(
                        f"[ERROR] no more than {MAX_SECTION_FIELDS} items allowed "
                        f"{_at(pointer + '/fields')}"
                    )
                for i, item in enumerate(fields):
                    self.text_object(item, f"{pointer}/fields/{i}", max_len=MAX_SECTION_FIELD_TEXT)
        if block.get("accessory") is not None:
            self.element(block["accessory"], pointer + "/accessory")

    def _context_element(self, element: Any, pointer: str) -> None:
        if isinstance(element, dict) and element.get("type") == "image":
            self._image(element, pointer)
        else:
            self.text_object(element, pointer)

    def _unique_action_ids(self, elements: Any, pointer: str) -> None:
        """Slack: an ``action_id`` "should be unique among all other action_ids in the
        containing block"; a repeat is refused (invalid_blocks)."""
        seen: set[str] = set()
        for i, element in enumerate(elements if isinstance(elements, list) else []):
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if not isinstance(action_id, str):
                continue
            if action_id in seen:
                self.errors.append(
                    f"[ERROR] action_id must be unique in its block "
                    f"{_at(pointer + f'/elements/{i}/action_id')}"
                )
            seen.add(action_id)

    def _element_list(self, elements: Any, pointer: str, limit: int, check: Any) -> None:
        if not isinstance(elements, list) or not elements:
            self.errors.append(_missing("elements", pointer))
            return
        if len(elements) > limit:
            self.errors.append(
                f"[ERROR] no more than {limit} items allowed {_at(pointer + '/elements')}"
            )
        for i, element in enumerate(elements):
            check(element, f"{pointer}/elements/{i}")

    def blocks(self, blocks: Any, pointer: str, limit: int) -> None:
        if not isinstance(blocks, list):
            self.errors.append(_schema(pointer))
            return
        if len(blocks) > limit:
            self.errors.append(f"[ERROR] no more than {limit} items allowed {_at(pointer)}")
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}")


def validate_message_blocks(blocks: Any) -> list[str]:
    """Errors for a message's ``blocks`` (at most 50, each well formed)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    return checker.errors


def validate_view(view: Any) -> list[str]:
    """Errors for a modal or App Home view (at most 100 blocks, label and id limits)."""
    checker = _Checker()
    if not isinstance(view, dict):
        return [_schema("/view")]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [_schema("/view/type") if kind is not None else _missing("type", "/view")]
    if kind == "modal":
        checker.text_object(
            view.get("title"), "/view/title", max_len=MAX_VIEW_LABEL, plain_only=True
        )
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            checker.errors.append(
                "[ERROR] submit is required when a view contains input blocks "
                + _at("/view/submit")
            )
        for key in ("submit", "close"):
            if view.get(key) is not None:
                checker.text_object(
                    view[key], f"/view/{key}", max_len=MAX_VIEW_LABEL, plain_only=True
                )
    for key in ("callback_id", "external_id"):
        checker.identifier(view.get(key), key, "/view")
    metadata = view.get("private_metadata")
    if metadata is not None:
        if not isinstance(metadata, str):
            checker.errors.append(_schema("/view/private_metadata"))
        elif len(metadata) > MAX_PRIVATE_METADATA:
            checker.errors.append(_too_long(MAX_PRIVATE_METADATA, "/view/private_metadata"))
    if "blocks" not in view:
        checker.errors.append(_missing("blocks", "/view"))
    else:
        checker.blocks(view["blocks"], "/view/blocks", MAX_VIEW_BLOCKS)
    return checker.errors


def message_text_too_long(text: str | None) -> bool:
    """True when ``text`` exceeds Slack's 40,000-character message limit."""
    return text is not None and len(text) > MAX_MESSAGE_TEXT
