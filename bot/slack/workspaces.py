"""One app, many workspaces: each Web API call with the token of the workspace it reaches.

Installed through OAuth in several workspaces, the app holds one bot token per workspace
(slack_sdk's installation store). The services name no workspace when they post: they
name a channel or a person. :class:`WorkspaceNotifier` finds whose they are (the
database knows every channel that reads and every member; a conversation the bot opened
is remembered), and hands the call to a :class:`SlackNotifier` holding that workspace's
token: one per workspace, sharing the channel pacing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from bot.domain.notes import MessageRef
from bot.services.ports import DeliveryFailed
from bot.slack.notifier import ChannelPacer, SlackNotifier

logger = logging.getLogger(__name__)

# A workspace's token is looked up again after this long (a reinstall replaces it).
TOKEN_TTL_SECONDS = 600.0


class WorkspaceNotifier:
    """The Notifier (and Directory) over every installed workspace.

    ``team_of`` answers the team of a channel or user id (None: unknown); ``token_of`` a
    team's bot token (None: not installed); ``client_for`` makes a Web API client for a
    token; ``default`` (the configured single token, if any) serves the rest. Every public method of :class:`SlackNotifier` is served by the notifier of
    the workspace its first argument (a channel, a person, a message's place, a list of
    people) belongs to.
    """

    def __init__(
        self,
        team_of: Callable[[str], str | None],
        token_of: Callable[[str], str | None],
        client_for: Callable[[str], Any],
        pacer: ChannelPacer,
        default: SlackNotifier | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._team_of = team_of
        self._token_of = token_of
        self._client_for = client_for
        self.pacer = pacer
        self.default = default  # for what belongs to no known workspace (a single token)
        self.monotonic = monotonic
        self._teams: dict[str, str] = {}  # channel or user id -> team (never changes)
        self._notifiers: dict[str, tuple[str, SlackNotifier, float]] = {}
        self._lock = threading.Lock()

    def team(self, slack_id: str) -> str | None:
        with self._lock:
            known = self._teams.get(slack_id)
        if known is None:
            known = self._team_of(slack_id)
            if known is not None:
                self.remember(slack_id, known)
        return known

    def remember(self, slack_id: str, team_id: str) -> None:
        with self._lock:
            self._teams[slack_id] = team_id

    def for_team(self, team_id: str) -> SlackNotifier:
        """The notifier holding ``team_id``'s token (DeliveryFailed: not installed)."""
        now = self.monotonic()
        with self._lock:
            held = self._notifiers.get(team_id)
        if held is not None and now - held[2] < TOKEN_TTL_SECONDS:
            return held[1]
        token = self._token_of(team_id)
        if not token:
            raise DeliveryFailed("not_installed", permanent=True)
        if held is not None and held[0] == token:
            notifier = held[1]  # same token: keep its caches
        else:
            notifier = SlackNotifier(self._client_for(token), self.pacer)
        with self._lock:
            self._notifiers[team_id] = (token, notifier, now)
        return notifier

    def _target(self, args: Sequence[Any], kwargs: dict[str, Any]) -> str | None:
        first = args[0] if args else next(iter(kwargs.values()), None)
        if isinstance(first, MessageRef):
            return first.channel_id
        if isinstance(first, str):
            return first
        if isinstance(first, list | tuple) and first and isinstance(first[0], str):
            return str(first[0])
        return None

    def __getattr__(self, name: str) -> Any:
        method = getattr(SlackNotifier, name, None)
        if name.startswith("_") or not callable(method):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            target = self._target(args, kwargs)
            team = self.team(target) if target else None
            if team is None:
                if self.default is None:
                    raise DeliveryFailed(f"no workspace known for {target or name}", permanent=True)
                return getattr(self.default, name)(*args, **kwargs)
            result = getattr(self.for_team(team), name)(*args, **kwargs)
            # A conversation the bot opened, or a message it sent, is in that workspace.
            if isinstance(result, MessageRef):
                self.remember(result.channel_id, team)
            elif name == "open_conversation" and isinstance(result, str):
                self.remember(result, team)
            elif name == "channel_members" and isinstance(result, list):
                for member in result:  # the people of a channel, met before they speak
                    self.remember(str(member), team)
            return result

        return call
