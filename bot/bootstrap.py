"""The composition root: builds everything from the settings, in one place.

:func:`build_services` is what a command that only runs use cases needs (`readalong
tick`, `export`, `check`): no bolt, no HTTP, no scheduler are imported for it.
:func:`build_runtime` adds those for a process that serves Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.domain.plans import PlanDefaults
from bot.domain.schedule import WEEKDAY_NAMES
from bot.executor import DrainableExecutor
from bot.services.container import Services
from bot.services.digests import DigestPolicy
from bot.services.pairs import PairPolicy
from bot.services.ports import Clock, Notifier, SystemClock
from bot.services.prompts import PromptPolicy
from bot.slack.clients import notifier_client
from bot.slack.notifier import ChannelPacer, SlackNotifier
from bot.storage.db import current_revision, ensure_ready, make_engine
from bot.storage.uow import SqlAlchemyUnitOfWork

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.scheduler import PromptScheduler
    from bot.web import ReadalongWSGI

logger = logging.getLogger(__name__)


# Threads for work done after an acknowledgement. Few on purpose: every busy one competes
# with the thread answering Slack for Python's interpreter lock (measured: 16 threads put
# /book status at p99 11 ms on PostgreSQL, 4 threads at 2.2 ms; bench/ack_latency.py).
BACKGROUND_WORKERS = 4


def prompt_policy(settings: Settings) -> PromptPolicy:
    return PromptPolicy(
        grace=timedelta(hours=settings.misfire_grace_hours),
        lease=timedelta(seconds=settings.claim_lease_seconds),
        flight=timedelta(seconds=settings.post_flight_seconds),
        reminder_lead=timedelta(hours=settings.reminder_lead_hours),
        workers=settings.posting_workers,
    )


def digest_policy(settings: Settings) -> DigestPolicy:
    return DigestPolicy(
        weekly=settings.digest_schedule == "weekly",
        weekday=WEEKDAY_NAMES.index(settings.digest_weekday),
        at=settings.digest_time,
        workers=settings.posting_workers,
    )


def pair_policy(settings: Settings) -> PairPolicy:
    return PairPolicy(
        quiet_days=settings.pair_quiet_days,
        admins=frozenset(settings.mentoring_admins) | frozenset(settings.slack_admins),
    )


def plan_defaults(settings: Settings) -> PlanDefaults:
    return PlanDefaults(
        timezone=settings.default_timezone,
        weekday=WEEKDAY_NAMES.index(settings.default_weekday),
        at=settings.default_time,
        chapters_per_step=settings.default_chapters_per_step,
    )


@dataclass
class Runtime:
    """Everything a running Readalong process holds."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    services: Services
    executor: DrainableExecutor
    app: App
    wsgi: ReadalongWSGI
    scheduler: PromptScheduler

    def serving_at(self, url: str) -> None:
        """Where this process answers HTTP: the base of links it gives out (calendar
        feeds), unless ``public_url`` is configured."""
        if not self.settings.public_url:
            self.services.readers.public_url = url.rstrip("/")

    def close(self, timeout: float = 30.0) -> None:
        """Stop scheduling, finish in-flight work, release the lock and the connections."""
        self.scheduler.shutdown()
        self.executor.drain(timeout)
        self.executor.shutdown(wait=True)
        self.engine.dispose()


def _services(
    settings: Settings, engine: Engine, clock: Clock
) -> tuple[sessionmaker[Session], Services]:
    session_factory = sessionmaker(engine, expire_on_commit=False)
    notifier = _notifier(settings, engine, session_factory)
    uow = SqlAlchemyUnitOfWork(session_factory)
    services = Services.build(
        uow,
        clock,
        plan_defaults(settings),
        notifier,
        prompt_policy(settings),
        digest_policy(settings),
        pairs=pair_policy(settings),
        public_url=settings.public_url,
    )
    return session_factory, services


def _notifier(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Notifier:
    """Slack for the services: with the configured token, or, installed through OAuth,
    with each workspace's own (from slack_sdk's installation store, in this database)."""
    pacer = ChannelPacer(settings.channel_post_interval_seconds)
    single = SlackNotifier(notifier_client(settings), pacer) if settings.slack_bot_token else None
    if not (settings.slack_client_id and settings.slack_client_secret):
        return single or SlackNotifier(notifier_client(settings), pacer)
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    from bot.slack.workspaces import WorkspaceNotifier
    from bot.storage.repositories.workspaces import team_of

    store = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)

    def token_of(team_id: str) -> str | None:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    def team(slack_id: str) -> str | None:
        with session_factory() as session:
            return team_of(session, slack_id)

    router = WorkspaceNotifier(
        team, token_of, lambda token: notifier_client(settings, token), pacer, default=single
    )
    return cast(Notifier, router)


def build_services(
    settings: Settings, *, clock: Clock | None = None
) -> tuple[Services, Callable[[], None]]:
    """Services without any Slack app or server (CLI commands such as export)."""
    engine = make_engine(settings.database_url)
    ensure_ready(engine)
    _factory, services = _services(settings, engine, clock or SystemClock())
    return services, engine.dispose


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, check_schema: bool = True
) -> Runtime:
    """Everything `readalong serve` (and the console, and the tests) run: one process's worth."""
    from bot.scheduler import PromptScheduler
    from bot.slack.app import build_app
    from bot.slack.listeners.common import SlackDeps
    from bot.storage.leadership import leadership_for
    from bot.web import ReadalongWSGI

    engine = make_engine(settings.database_url)
    if check_schema:
        ensure_ready(engine)
    clock = clock or SystemClock()
    session_factory, services = _services(settings, engine, clock)
    scheduler = PromptScheduler(
        services.run_due,
        leadership_for(engine),
        settings.scheduler_interval_seconds,
        post=services.post_due,
    )
    executor = DrainableExecutor(max_workers=BACKGROUND_WORKERS)
    deps = SlackDeps(
        services=services, background=executor, admins=frozenset(settings.slack_admins)
    )
    app = build_app(settings, deps, executor=executor, engine=engine)

    def readiness() -> dict[str, Any]:
        ensure_ready(engine)
        return {
            "database": "ok",
            "migration": current_revision(engine),
            "scheduler": scheduler.role,
        }

    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        clock=clock,
        services=services,
        executor=executor,
        app=app,
        wsgi=ReadalongWSGI(
            app,
            readiness,
            signing_secret=settings.slack_signing_secret,
            calendars=services.readers.calendar_feed,
        ),
        scheduler=scheduler,
    )
