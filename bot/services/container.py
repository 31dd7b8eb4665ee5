"""The bundle of services the adapters (Slack listeners, console, scheduler) call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.plans import PlanDefaults
from bot.services.books import BookService
from bot.services.digests import DigestPolicy, DigestService
from bot.services.discussions import DiscussionService
from bot.services.export import ExportService
from bot.services.home import HomeService
from bot.services.imports import ImportService
from bot.services.pairs import PairPolicy, PairService
from bot.services.people import PeopleService
from bot.services.plans import PlanService
from bot.services.polls import PollService
from bot.services.ports import Clock, Directory, Notifier, UnitOfWork
from bot.services.prompts import PromptPolicy, PromptService, TickReport
from bot.services.readers import ReaderService
from bot.services.reflections import ReflectionService


@dataclass(frozen=True, slots=True)
class Services:
    clock: Clock
    defaults: PlanDefaults
    notifier: Notifier
    directory: Directory
    books: BookService
    plans: PlanService
    reflections: ReflectionService
    prompts: PromptService
    discussions: DiscussionService
    digests: DigestService
    exports: ExportService
    home: HomeService
    people: PeopleService
    pairs: PairService
    readers: ReaderService
    polls: PollService
    imports: ImportService

    @classmethod
    def build(
        cls,
        uow: UnitOfWork,
        clock: Clock,
        defaults: PlanDefaults,
        notifier: Notifier,
        policy: PromptPolicy,
        digests: DigestPolicy | None = None,
        directory: Directory | None = None,
        pairs: PairPolicy | None = None,
        public_url: str = "",
    ) -> Services:
        """Every service over one unit of work, clock and notifier. ``directory`` (names of
        people and channels) defaults to the notifier when it is one (Slack's is)."""
        if directory is None:
            if not isinstance(notifier, Directory):
                raise TypeError("give a Directory, or a notifier that is one")
            directory = notifier
        readers = ReaderService(uow, clock, notifier, directory, public_url)
        plans = PlanService(uow, clock, notifier, defaults)
        return cls(
            clock=clock,
            defaults=defaults,
            notifier=notifier,
            directory=directory,
            books=BookService(uow, clock),
            plans=plans,
            reflections=ReflectionService(uow, clock, notifier, directory),
            prompts=PromptService(uow, clock, notifier, policy, directory),
            discussions=DiscussionService(uow, clock),
            digests=DigestService(uow, clock, notifier, digests, directory),
            exports=ExportService(uow, clock, directory),
            home=HomeService(uow, clock, notifier, directory, readers),
            people=PeopleService(uow, clock),
            pairs=PairService(uow, clock, notifier, directory, pairs),
            readers=readers,
            polls=PollService(uow, clock, notifier, directory, plans, defaults, policy.lease),
            imports=ImportService(uow, clock, notifier),
        )

    def post_due(self, now: datetime | None = None) -> TickReport:
        """What every posting process shares on PostgreSQL, leader or not: the prompts
        and reminders due at ``now`` (each claimed in the database, so never twice)."""
        now = now or self.clock.now()
        report = self.prompts.post_due(now)
        report.reminded = self.prompts.send_reminders(now)
        return report

    def run_due(self, now: datetime | None = None) -> TickReport:
        """Everything the scheduler does at ``now``: prompts, reminders, digests, what
        mentoring pairs have due (expired invitations, look-backs, quiet pairs), then the
        polls whose time has come (closed, counted and announced once)."""
        now = now or self.clock.now()
        report = self.prompts.run_due(now)
        report.digests = self.digests.run_due(now)
        report.pairs = self.pairs.run_due(now)
        report.polls = self.polls.run_due(now)
        return report
