"""Web API clients for the configured Slack: one that retries for the listeners, one that
never does for the scheduler's posts. No bolt here: `readalong tick` posts without it."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings
from bot.observability import InstrumentedWebClient

NOTIFIER_TIMEOUT_SECONDS = 30


def web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A Web API client for the configured base URL that retries 429s, 5xx and dropped connections."""
    return InstrumentedWebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def notifier_client(settings: Settings, token: str | None = None) -> WebClient:
    """A client for the scheduler's posts, with no retry handlers at all.

    It must not sleep on a 429 inside the call, and must not blindly resend a post whose
    connection dropped (Slack may have taken it): the prompt service stores a retry time
    instead, and checks the channel for the prompt before it posts again.
    """
    return InstrumentedWebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[],
        # A post must end (or fail) well within post_flight_seconds: that bound is what
        # lets another process take over a dead process's claim safely.
        timeout=NOTIFIER_TIMEOUT_SECONDS,
    )
