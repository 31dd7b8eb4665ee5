"""The bundle of services the adapters (Slack listeners, console, scheduler) call."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.plans import PlanDefaults
from bot.services.books import BookService
from bot.services.plans import PlanService
from bot.services.ports import Clock, Notifier, UnitOfWork
from bot.services.prompts import PromptPolicy, PromptService
from bot.services.reflections import ReflectionService


@dataclass(frozen=True, slots=True)
class Services:
    clock: Clock
    defaults: PlanDefaults
    books: BookService
    plans: PlanService
    reflections: ReflectionService
    prompts: PromptService

    @classmethod
    def build(
        cls,
        uow: UnitOfWork,
        clock: Clock,
        defaults: PlanDefaults,
        notifier: Notifier,
        policy: PromptPolicy,
    ) -> Services:
        return cls(
            clock=clock,
            defaults=defaults,
            books=BookService(uow, clock),
            plans=PlanService(uow, clock),
            reflections=ReflectionService(uow, clock),
            prompts=PromptService(uow, clock, notifier, policy),
        )
