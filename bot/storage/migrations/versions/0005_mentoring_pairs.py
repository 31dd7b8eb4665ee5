"""mentoring pairs: pairs, private feedback, action items, publications

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

- ``pairs``: a mentee and a mentor; two people have at most one open (proposed or
  active) pair, and a conversation at most one active pair (partial unique indexes).
  The agreement (hopes, goals) and the look-back live on the pair: private to the two.
- ``feedback``: the private conversation on a reflection written for the mentor.
- ``action_items``: numbered per pair.
- ``publications``: a post the mentee asked to publish, with the mentor's consent per
  reply quoted.
- ``reflections.mentor_copy`` (the mentor's DM copy, claimed like the thread copy) and
  ``reflections.mentor_read_at``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pairs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("mentee_id", sa.String(length=32), nullable=False),
        sa.Column("mentor_id", sa.String(length=32), nullable=False),
        sa.Column("people_key", sa.String(length=70), nullable=False),
        sa.Column("proposed_by", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=32), nullable=True),
        sa.Column("hopes", sa.Text(), nullable=True),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("goals_by", sa.String(length=32), nullable=True),
        sa.Column("goals_agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("look_back", sa.JSON(), nullable=False),
        sa.Column("look_back_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quiet_flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pairs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairs")),
    )
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.create_index("ix_pairs_mentee", ["workspace_id", "mentee_id"], unique=False)
        batch_op.create_index("ix_pairs_mentor", ["workspace_id", "mentor_id"], unique=False)
        batch_op.create_index(
            "uq_pairs_active_channel",
            ["workspace_id", "channel_id"],
            unique=True,
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )
        batch_op.create_index(
            "uq_pairs_open_people",
            ["workspace_id", "people_key"],
            unique=True,
            sqlite_where=sa.text("state IN ('proposed', 'active')"),
            postgresql_where=sa.text("state IN ('proposed', 'active')"),
        )

    op.create_table(
        "publications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pair_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reflection_ids", sa.JSON(), nullable=False),
        sa.Column("requested_feedback_ids", sa.JSON(), nullable=False),
        sa.Column("allowed_feedback_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["pairs.id"],
            name=op.f("fk_publications_pair_id_pairs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["reading_plans.id"],
            name=op.f("fk_publications_plan_id_reading_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
    )
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publications_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "reflection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("pair_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pairs.id"], name=op.f("fk_feedback_pair_id_pairs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reflection_id"],
            ["reflections.id"],
            name=op.f("fk_feedback_reflection_id_reflections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_pair_id"), ["pair_id"], unique=False)
        batch_op.create_index("ix_feedback_reflection", ["reflection_id"], unique=False)

    op.create_table(
        "action_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pair_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "feedback_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_action_items_feedback_id_feedback"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["pairs.id"],
            name=op.f("fk_action_items_pair_id_pairs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
        sa.UniqueConstraint("pair_id", "number", name=op.f("uq_action_items_pair_id")),
    )
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentor_copy", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("mentor_read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.drop_column("mentor_read_at")
        batch_op.drop_column("mentor_copy")

    op.drop_table("action_items")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_reflection")
        batch_op.drop_index(batch_op.f("ix_feedback_pair_id"))

    op.drop_table("feedback")
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publications_pair_id"))

    op.drop_table("publications")
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_pairs_open_people",
            sqlite_where=sa.text("state IN ('proposed', 'active')"),
            postgresql_where=sa.text("state IN ('proposed', 'active')"),
        )
        batch_op.drop_index(
            "uq_pairs_active_channel",
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )
        batch_op.drop_index("ix_pairs_mentor")
        batch_op.drop_index("ix_pairs_mentee")

    op.drop_table("pairs")
