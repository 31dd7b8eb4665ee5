"""Slack listeners, one module per concern, each with ``register(app, deps)``."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import books, home, pace, pairs, reflections, run, threads
from bot.slack.listeners.common import SlackDeps


def register_all(app: App, deps: SlackDeps) -> None:
    books.register(app, deps)
    reflections.register(app, deps)
    pairs.register(app, deps)
    pace.register(app, deps)
    run.register(app, deps)
    home.register(app, deps)
    threads.register(app, deps)
