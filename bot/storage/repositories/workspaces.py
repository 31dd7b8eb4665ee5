"""Workspaces, their members and their groups (channels and conversations that read)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.domain.errors import NotFound
from bot.domain.model import Group, Member
from bot.storage.models import GroupRow, MemberRow, WorkspaceRow
from bot.storage.repositories._common import insert_or_ignore


class SqlWorkspaces:
    def __init__(self, session: Session, known: dict[str, int] | None = None) -> None:
        self.session = session
        # team id → workspace id, shared by the process: the mapping never changes once a
        # row is committed, and nearly every request asks for it.
        self.known = known if known is not None else {}

    def ensure(self, team_id: str, now: datetime) -> int:
        if team_id in self.known:
            return self.known[team_id]
        found = self.session.scalar(select(WorkspaceRow.id).where(WorkspaceRow.team_id == team_id))
        if found is not None:
            self.known[team_id] = found  # only rows read back, i.e. committed ones
            return found
        # First sight, perhaps in two processes at once: whoever inserts second waits for
        # the first, inserts nothing, and reads the row back.
        insert_or_ignore(self.session, WorkspaceRow, team_id=team_id, created_at=now)
        created = self.session.scalar(
            select(WorkspaceRow.id).where(WorkspaceRow.team_id == team_id)
        )
        assert created is not None
        return created

    def all_ids(self) -> list[int]:
        return list(self.session.scalars(select(WorkspaceRow.id).order_by(WorkspaceRow.id)))

    def teams(self) -> list[str]:
        """The Slack team ids of every workspace, oldest first."""
        return list(self.session.scalars(select(WorkspaceRow.team_id).order_by(WorkspaceRow.id)))


class SqlMembers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, workspace_id: int, user_id: str) -> MemberRow | None:
        return self.session.scalar(
            select(MemberRow).where(
                MemberRow.workspace_id == workspace_id, MemberRow.user_id == user_id
            )
        )

    def ensure(self, workspace_id: int, user_id: str, now: datetime) -> Member:
        row = self._row(workspace_id, user_id)
        if row is None:
            insert_or_ignore(
                self.session,
                MemberRow,
                workspace_id=workspace_id,
                user_id=user_id,
                reminders_muted=False,
                quotable=False,
                created_at=now,
            )
            row = self._row(workspace_id, user_id)
            assert row is not None
        return _member(row)

    def get(self, workspace_id: int, user_id: str) -> Member | None:
        row = self._row(workspace_id, user_id)
        return _member(row) if row else None

    def quotable(self, workspace_id: int) -> set[str]:
        return set(
            self.session.scalars(
                select(MemberRow.user_id).where(
                    MemberRow.workspace_id == workspace_id, MemberRow.quotable.is_(True)
                )
            )
        )

    def without_quiet_hours(self, workspace_id: int) -> set[str]:
        """User ids of members who take nudges at any hour."""
        return set(
            self.session.scalars(
                select(MemberRow.user_id).where(
                    MemberRow.workspace_id == workspace_id, MemberRow.quiet_hours.is_(False)
                )
            )
        )

    def muted(self, workspace_id: int) -> set[str]:
        return set(
            self.session.scalars(
                select(MemberRow.user_id).where(
                    MemberRow.workspace_id == workspace_id, MemberRow.reminders_muted.is_(True)
                )
            )
        )

    def save(self, member: Member) -> None:
        row = self.session.get_one(MemberRow, member.id)
        row.display_name = member.display_name
        row.timezone = member.timezone
        row.reminders_muted = member.reminders_muted
        row.quotable = member.quotable
        row.quiet_hours = member.quiet_hours


def _member(row: MemberRow) -> Member:
    return Member(
        id=row.id,
        workspace_id=row.workspace_id,
        user_id=row.user_id,
        display_name=row.display_name,
        timezone=row.timezone,
        reminders_muted=row.reminders_muted,
        quotable=row.quotable,
        quiet_hours=row.quiet_hours,
    )


class SqlGroups:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, workspace_id: int, channel_id: str) -> GroupRow | None:
        return self.session.scalar(
            select(GroupRow).where(
                GroupRow.workspace_id == workspace_id, GroupRow.channel_id == channel_id
            )
        )

    def ensure(self, workspace_id: int, channel_id: str, now: datetime) -> Group:
        row = self._row(workspace_id, channel_id)
        if row is None:
            insert_or_ignore(
                self.session,
                GroupRow,
                workspace_id=workspace_id,
                channel_id=channel_id,
                store_all_messages=False,
                created_at=now,
            )
            row = self._row(workspace_id, channel_id)
            assert row is not None
        return _group(row)

    def get(self, workspace_id: int, channel_id: str) -> Group | None:
        row = self._row(workspace_id, channel_id)
        return _group(row) if row else None

    def by_id(self, group_id: int) -> Group:
        row = self.session.get(GroupRow, group_id)
        if row is None:
            raise NotFound(f"No group {group_id}.")
        return _group(row)

    def save(self, group: Group) -> None:
        row = self.session.get_one(GroupRow, group.id)
        row.name = group.name
        row.summary_channel_id = group.summary_channel_id
        row.store_all_messages = group.store_all_messages


def _group(row: GroupRow) -> Group:
    return Group(
        id=row.id,
        workspace_id=row.workspace_id,
        channel_id=row.channel_id,
        name=row.name,
        summary_channel_id=row.summary_channel_id,
        store_all_messages=row.store_all_messages,
    )


def team_of(session: Session, slack_id: str) -> str | None:
    """The Slack team a channel (one that reads here) or a member belongs to, if known:
    which workspace's token may reach it when the app is installed in several."""
    team = session.scalar(
        select(WorkspaceRow.team_id)
        .join(GroupRow, GroupRow.workspace_id == WorkspaceRow.id)
        .where(or_(GroupRow.channel_id == slack_id, GroupRow.summary_channel_id == slack_id))
        .limit(1)
    )
    if team is None:
        team = session.scalar(
            select(WorkspaceRow.team_id)
            .join(MemberRow, MemberRow.workspace_id == WorkspaceRow.id)
            .where(MemberRow.user_id == slack_id)
            .limit(1)
        )
    return team
