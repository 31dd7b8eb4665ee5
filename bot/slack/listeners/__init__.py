"""Slack listeners, one module per concern, each with ``register(app, deps)``."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import (
    books,
    home,
    imports,
    pace,
    pairs,
    polls,
    reflections,
    run,
    threads,
)
from bot.slack.listeners.common import SlackDeps


def register_all(app: App, deps: SlackDeps) -> None:
    books.register(app, deps)
    reflections.register(app, deps)
    pairs.register(app, deps)
    pace.register(app, deps)
    polls.register(app, deps)
    run.register(app, deps)
    home.register(app, deps)
    imports.register(app, deps)  # before threads: both listen to message events
    threads.register(app, deps)
