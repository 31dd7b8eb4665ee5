"""next-book polls and EPUB imports

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

- ``polls``: a group choosing its next book; one current (proposing or open) poll per
  group (partial unique index). Closing is a conditional update of ``state``; the
  result (rounds, winner) is stored with it and announced once (``announce_claim``,
  ``result_ts``). ``version`` is bumped by every proposal and ballot (the row lock that
  orders them against opening and closing).
- ``poll_candidates``: one per member, one per book, numbered per poll.
- ``poll_ballots``: a ranking per member and poll.
- ``book_imports``: a book read from an EPUB, waiting for its chapters to be picked.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CURRENT = "state IN ('proposing', 'open')"


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("host_user_id", sa.String(length=32), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("announce_claim", sa.String(length=64), nullable=True),
        sa.Column("announce_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_ts", sa.String(length=32), nullable=True),
        sa.Column("winner_book_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_polls_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["winner_book_id"],
            ["books.id"],
            name=op.f("fk_polls_winner_book_id_books"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_polls_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.create_index("ix_polls_due", ["state", "closes_at"], unique=False)
        batch_op.create_index(
            "uq_polls_current_group",
            ["group_id"],
            unique=True,
            sqlite_where=sa.text(CURRENT),
            postgresql_where=sa.text(CURRENT),
        )

    op.create_table(
        "poll_candidates",
        sa.Column("id", ID, nullable=False),
        sa.Column("poll_id", ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("book_key", sa.String(length=330), nullable=False),
        sa.Column("chapters", sa.JSON(), nullable=False),
        sa.Column("book_id", ID, nullable=True),
        sa.Column("proposed_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["books.id"],
            name=op.f("fk_poll_candidates_book_id_books"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_candidates_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_candidates")),
        sa.UniqueConstraint("poll_id", "book_key", name="uq_poll_candidates_book"),
        sa.UniqueConstraint("poll_id", "number", name="uq_poll_candidates_number"),
        sa.UniqueConstraint("poll_id", "proposed_by", name="uq_poll_candidates_proposer"),
    )

    op.create_table(
        "poll_ballots",
        sa.Column("id", ID, nullable=False),
        sa.Column("poll_id", ID, nullable=False),
        sa.Column("voter_id", sa.String(length=32), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_ballots_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_ballots")),
        sa.UniqueConstraint("poll_id", "voter_id", name=op.f("uq_poll_ballots_poll_id")),
    )

    op.create_table(
        "book_imports",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_book_imports_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book_imports")),
    )
    with op.batch_alter_table("book_imports", schema=None) as batch_op:
        batch_op.create_index("ix_book_imports_user", ["workspace_id", "user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("book_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_book_imports_user")

    op.drop_table("book_imports")
    op.drop_table("poll_ballots")
    op.drop_table("poll_candidates")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_polls_current_group",
            sqlite_where=sa.text(CURRENT),
            postgresql_where=sa.text(CURRENT),
        )
        batch_op.drop_index("ix_polls_due")

    op.drop_table("polls")
