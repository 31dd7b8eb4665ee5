"""reflection numbers never reused: a counter per member

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

- ``members.last_reflection_number``: the last number a member's reflections were given.
  A new reflection takes the next one, so a deleted reflection's number is never given to
  another (its undo restores it under that number). Filled from the reflections there are;
  authors without a member row get one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_reflection_number", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None) if bind.dialect.name == "sqlite" else None
    for workspace_id, author_id, highest in bind.execute(
        sa.text(
            "SELECT workspace_id, author_id, MAX(number) FROM reflections "
            "GROUP BY workspace_id, author_id"
        )
    ).all():
        updated = bind.execute(
            sa.text(
                "UPDATE members SET last_reflection_number = :n "
                "WHERE workspace_id = :w AND user_id = :u"
            ),
            {"n": highest, "w": workspace_id, "u": author_id},
        )
        if not updated.rowcount:
            bind.execute(
                sa.text(
                    "INSERT INTO members (workspace_id, user_id, reminders_muted, quotable, "
                    "created_at, last_reflection_number) VALUES (:w, :u, false, false, "
                    + (":now" if now else "CURRENT_TIMESTAMP")
                    + ", :n)"
                ),
                {"n": highest, "w": workspace_id, "u": author_id, "now": now},
            )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("last_reflection_number")
