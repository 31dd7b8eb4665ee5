"""Repositories: translate between ORM rows and domain dataclasses. No business rules here.

One module per aggregate; the exactly-once prompt queue has its own (``queue``).
"""

from bot.storage.repositories._common import flush, insert_or_ignore
from bot.storage.repositories.books import SqlBooks
from bot.storage.repositories.discussions import SqlDiscussions
from bot.storage.repositories.drafts import SqlDrafts
from bot.storage.repositories.imports import SqlImports
from bot.storage.repositories.pairs import SqlPairs
from bot.storage.repositories.plans import SqlPlans
from bot.storage.repositories.polls import SqlPolls
from bot.storage.repositories.queue import SqlPromptQueue
from bot.storage.repositories.readers import SqlReaders
from bot.storage.repositories.reflections import SqlReflections
from bot.storage.repositories.summaries import SqlSummaries
from bot.storage.repositories.workspaces import SqlGroups, SqlMembers, SqlWorkspaces

__all__ = [
    "SqlBooks",
    "SqlDiscussions",
    "SqlDrafts",
    "SqlGroups",
    "SqlImports",
    "SqlMembers",
    "SqlPairs",
    "SqlPlans",
    "SqlPolls",
    "SqlPromptQueue",
    "SqlReaders",
    "SqlReflections",
    "SqlSummaries",
    "SqlWorkspaces",
    "flush",
    "insert_or_ignore",
]
