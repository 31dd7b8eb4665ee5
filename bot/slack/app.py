"""The bolt app: configured for speed (process_before_response; work after the ack runs on
our own small pool, see ``SlackDeps.later``)."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse

from bot.config import Settings
from bot.slack.clients import NOTIFIER_TIMEOUT_SECONDS, notifier_client, web_client
from bot.slack.listeners import register_all
from bot.slack.listeners.common import SlackDeps
from bot.slack.manifest import bot_scopes

logger = logging.getLogger(__name__)

__all__ = ["NOTIFIER_TIMEOUT_SECONDS", "build_app", "notifier_client", "web_client"]


def build_app(
    settings: Settings, deps: SlackDeps, *, executor: Executor | None = None, engine: Any = None
) -> App:
    """The bolt App with every listener registered.

    ``process_before_response=True`` makes bolt answer Slack as soon as the (tiny) ack
    function returns, instead of polling for ``ack()`` in 10 ms sleeps. The real work runs
    after the ack on ``deps.background`` (see ``SlackDeps.later``), which costs the ack
    path less than bolt's lazy listeners (they deep-copy the request).
    """
    common: dict[str, Any] = {
        # Named, bolt does not walk the caller's stack to find a name (inspect.stack(),
        # 60–200 ms at start-up).
        "name": "readalong",
        "signing_secret": settings.slack_signing_secret,
        "process_before_response": True,
        "listener_executor": executor,
        "raise_error_for_unhandled_request": False,
    }
    if settings.slack_client_id and settings.slack_client_secret:
        from slack_bolt.oauth.oauth_settings import OAuthSettings
        from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

        installations = SQLAlchemyInstallationStore(
            client_id=settings.slack_client_id, engine=engine
        )
        states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
        # slack_sdk owns these tables (slack_bots, slack_installations, slack_oauth_states)
        # and creates them when missing; Alembic is told to leave them alone. Processes
        # starting together take turns (at once, two would both create them; one fails).
        from bot.storage.db import one_at_a_time

        with one_at_a_time(engine):
            installations.create_tables()  # type: ignore[no-untyped-call]
            states.create_tables()  # type: ignore[no-untyped-call]
        app = App(
            **common,
            client=web_client(settings, token=None),
            oauth_settings=OAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                scopes=list(bot_scopes()),
                installation_store=installations,
                state_store=states,
            ),
        )
    else:
        app = App(
            **common,
            client=web_client(settings),  # carries the bot token
            token_verification_enabled=False,
        )

    @app.error
    def log_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        logger.error("unhandled error in a listener for %s: %r", body.get("type"), error)
        if body.get("type") == "event_callback":
            # The event was not stored: a 500 makes Slack deliver it again.
            return BoltResponse(status=500, body="")
        return BoltResponse(status=200, body="")

    register_all(app, deps)
    return app
