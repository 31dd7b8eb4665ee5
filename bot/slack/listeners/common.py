"""What every listener shares: dependencies, the fast ack, and turning failures into replies."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.errors import DomainError, Duplicate
from bot.domain.model import Caller
from bot.services.container import Services
from bot.slack.blocks import Message, context, error
from bot.slack.modals import FieldErrors
from bot.slack.text import escape, truncate

logger = logging.getLogger(__name__)

Reply = Callable[[Message], None]
T = TypeVar("T")

ACK_HEAD_START = 0.002  # seconds

GENERIC_FAILURE = "Sorry, something went wrong on my side. Please try again in a moment."


@dataclass(frozen=True, slots=True)
class SlackDeps:
    """What listeners need: the services, who counts as an admin, and where slow work runs."""

    services: Services
    background: Executor
    admins: frozenset[str] = field(default_factory=frozenset)

    def later(self, work: Callable[[], None], what: str) -> None:
        """Run ``work`` after the ack, on the background pool.

        This is bolt's lazy-listener idea without its cost on the ack path (a deep copy of
        the whole request per lazy function): the listener acks, hands over a closure of
        what it already parsed, and returns, so Slack gets its answer at once.
        """

        def run() -> None:
            # Let the thread answering Slack finish sending first: the work can wait a
            # moment, the acknowledgement cannot (both need Python's interpreter lock).
            time.sleep(ACK_HEAD_START)
            try:
                work()
            except Exception:
                logger.exception("%s failed after the ack", what)

        self.background.submit(run)

    def is_admin(self, user_id: str) -> bool:
        """Configured admins, and the workspace's own admins and owners (asked of Slack,
        through the Directory port)."""
        return user_id in self.admins or self.services.directory.is_admin(user_id)

    def caller(self, team_id: str, user_id: str, *, check_admin: bool) -> Caller:
        admin = self.is_admin(user_id) if check_admin else user_id in self.admins
        return Caller(team_id=team_id, user_id=user_id, is_admin=admin)


#: What a member reads when a write lost a race to an identical one; the database's own
#: words (constraint names, SQL) never reach anyone.
RACE_LOST = (
    "Someone (perhaps you, twice) just did the same thing. Look again, then retry if needed."
)


def remember_names(deps: SlackDeps, command: dict[str, Any]) -> None:
    """Keep the names a slash command carries (for exports made without Slack)."""
    try:
        deps.services.people.remember(
            str(command.get("team_id") or ""),
            str(command.get("user_id") or ""),
            command.get("user_name"),
            str(command.get("channel_id") or ""),
            command.get("channel_name"),
        )
    except Exception:
        logger.exception("could not keep the names a command carried")


@contextmanager
def replying(reply: Reply, what: str, typed: str | None = None) -> Iterator[None]:
    """Run a listener body; a domain error becomes its message, anything else a polite apology.

    ``typed`` is the command line as the member typed it: a refusal gives it back (nothing
    they wrote is lost), and "did you mean" suggestions become buttons that run it
    corrected. Nothing escapes to bolt: a listener never fails towards Slack.
    """
    try:
        yield
    except Duplicate:
        logger.info("%s lost a race to an identical write", what)
        _send(reply, error(RACE_LOST), what)
    except DomainError as exc:
        _send(reply, refusal(exc, typed), what)
    except Exception:
        logger.exception("%s failed", what)
        _send(reply, error(GENERIC_FAILURE), what)


def refusal(exc: DomainError, typed: str | None) -> Message:
    """A domain error as a message: what to do, one-click corrections, and what was typed."""
    choices = [
        (s.label or f"Use {s.replacement}", typed.replace(s.typed, s.replacement, 1))
        for s in exc.suggestions
        if typed and s.typed in typed
    ]
    message = error(exc.message, choices)
    if typed:
        message.blocks.append(context(f"You typed: {escape(truncate(typed, 1900))}"))
    return message


def answer_submission(
    ack: Ack,
    save: Callable[[], T],
    *,
    field: str,
    fields: dict[str, str] | None = None,
    what: str,
) -> T | None:
    """Validate and save a modal submission, then ack: nothing on success (the modal
    closes), ``response_action: errors`` naming the field otherwise (it stays open).

    Returns what ``save`` returned, or None when the submission was refused. A domain
    error whose ``field`` is in ``fields`` is shown on that block, others on ``field``.
    """
    try:
        saved = save()
    except Duplicate:
        ack(response_action="errors", errors={field: RACE_LOST})
        return None
    except FieldErrors as exc:
        ack(response_action="errors", errors=exc.errors)
        return None
    except DomainError as exc:
        block = (fields or {}).get(exc.field or "", field)
        ack(response_action="errors", errors={block: exc.message})
        return None
    except Exception:
        logger.exception("%s failed", what)
        ack(response_action="errors", errors={field: GENERIC_FAILURE})
        return None
    ack()
    return saved


def _send(reply: Reply, message: Message, what: str) -> None:
    try:
        reply(message)
    except Exception:
        logger.exception("could not tell the user that %s failed", what)


def _responder(respond: Callable[..., Any], response_type: str, *, replace: bool) -> Reply:
    def reply(message: Message) -> None:
        respond(
            text=message.text,
            blocks=message.blocks,
            response_type=response_type,
            replace_original=replace,
        )

    return reply


def ephemeral_via(respond: Callable[..., Any]) -> Reply:
    """Reply through a slash command's or action's ``response_url``, visible only to the user."""
    return _responder(respond, "ephemeral", replace=False)


def replace_via(respond: Callable[..., Any]) -> Reply:
    """Replace the ephemeral message whose button was clicked (a question, a confirmation)
    with the answer, so the member never sees stale buttons."""
    return _responder(respond, "ephemeral", replace=True)


def in_channel_via(respond: Callable[..., Any]) -> Reply:
    """Announce in the channel the command was typed in."""
    return _responder(respond, "in_channel", replace=False)


def ephemeral_in(client: WebClient, channel_id: str, user_id: str) -> Reply:
    """Reply with ``chat.postEphemeral``; falls back to a DM where the bot cannot post."""

    def reply(message: Message) -> None:
        try:
            client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=message.text, blocks=message.blocks
            )
        except SlackApiError:
            client.chat_postMessage(channel=user_id, text=message.text, blocks=message.blocks)

    return reply
