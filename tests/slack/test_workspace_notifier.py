"""WorkspaceNotifier: every call with the token of the workspace it reaches (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.notes import MessageRef
from bot.services.ports import DeliveryFailed
from bot.slack.notifier import ChannelPacer, SlackNotifier
from bot.slack.workspaces import WorkspaceNotifier


class _Client:
    """Stands in for a WebClient: says which token each call carried."""

    def __init__(self, token: str, calls: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.token = token
        self.calls = calls

    def conversations_open(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((self.token, "conversations_open", kwargs))
        return {"channel": {"id": "D0" + str(kwargs["users"])[-4:]}}

    def chat_delete(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((self.token, "chat_delete", kwargs))
        return {"ok": True}


def _router(teams: dict[str, str], default: bool = False) -> tuple[WorkspaceNotifier, list[Any]]:
    calls: list[tuple[str, str, dict[str, Any]]] = []
    tokens = {"T1": "xoxb-one", "T2": "xoxb-two"}
    pacer = ChannelPacer(0)
    router = WorkspaceNotifier(
        teams.get,
        tokens.get,
        lambda token: _Client(token, calls),
        pacer,
        default=SlackNotifier(_Client("xoxb-single", calls), pacer) if default else None,  # type: ignore[arg-type]
    )
    return router, calls


def test_a_conversation_the_bot_opened_is_reached_with_its_workspaces_token() -> None:
    router, calls = _router({"U0AAAA0001": "T1", "U0BBBB0002": "T2"})
    first = router.open_conversation(["U0AAAA0001"])
    second = router.open_conversation(["U0BBBB0002"])
    router.delete_message(second, "1.0")
    router.delete_message(first, "2.0")
    assert [(token, method) for token, method, _ in calls] == [
        ("xoxb-one", "conversations_open"),
        ("xoxb-two", "conversations_open"),
        ("xoxb-two", "chat_delete"),
        ("xoxb-one", "chat_delete"),
    ]
    assert router.team(MessageRef(first, "2.0").channel_id) == "T1"


def test_nobody_known_is_a_clear_failure_or_the_single_token() -> None:
    router, calls = _router({})
    with pytest.raises(DeliveryFailed, match="no workspace known for C0NOWHERE1"):
        router.delete_message("C0NOWHERE1", "1.0")
    assert calls == []
    fallback, calls = _router({}, default=True)
    fallback.delete_message("C0NOWHERE1", "1.0")
    assert [(token, method) for token, method, _ in calls] == [("xoxb-single", "chat_delete")]


def test_a_workspace_not_installed_fails_permanently() -> None:
    router, _ = _router({"C0THREE001": "T3"})
    with pytest.raises(DeliveryFailed) as failed:
        router.delete_message("C0THREE001", "1.0")
    assert failed.value.reason == "not_installed" and failed.value.permanent
