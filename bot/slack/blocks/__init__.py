"""Block Kit builders, one module per kind of message, built with ``slack_sdk.models``.

Every builder escapes user text (titles, reflections, names typed by members) and keeps
inside Slack's limits: 50 blocks per message, 3,000 characters per section. Import the
package (``from bot.slack import blocks``) and call ``blocks.prompt_message(...)`` etc.
"""

from bot.slack.blocks.base import (
    HEADER_LIMIT,
    MAX_MESSAGE_BLOCKS,
    Message,
    context,
    divider,
    error,
    header,
    help_message,
    notice,
    section,
    split_into_messages,
    text_sections,
)
from bot.slack.blocks.books import book_added, book_line, book_list
from bot.slack.blocks.digests import digest_messages
from bot.slack.blocks.plans import (
    plan_changed,
    plan_history,
    plan_schedule,
    plan_started,
    plan_status,
    plan_summary_line,
    step_line,
)
from bot.slack.blocks.prompts import (
    PROMPT_EVENT,
    catch_up_message,
    prompt_message,
    reminder_message,
)
from bot.slack.blocks.reflections import (
    REFLECT_ACTION,
    progress_message,
    reflect_button,
    reflection_echo,
    reflection_label,
    reflection_list,
    reflection_saved,
)

__all__ = [
    "HEADER_LIMIT",
    "MAX_MESSAGE_BLOCKS",
    "PROMPT_EVENT",
    "REFLECT_ACTION",
    "Message",
    "book_added",
    "book_line",
    "book_list",
    "catch_up_message",
    "context",
    "digest_messages",
    "divider",
    "error",
    "header",
    "help_message",
    "notice",
    "plan_changed",
    "plan_history",
    "plan_schedule",
    "plan_started",
    "plan_status",
    "plan_summary_line",
    "progress_message",
    "prompt_message",
    "reflect_button",
    "reflection_echo",
    "reflection_label",
    "reflection_list",
    "reflection_saved",
    "reminder_message",
    "section",
    "split_into_messages",
    "step_line",
    "text_sections",
]
