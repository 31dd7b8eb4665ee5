"""trust the reflection loop: per-member numbers, drafts, failures, cancelled plans

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

- ``reflections.number`` and ``reflections.workspace_id``: each member numbers their own
  reflections (their first is #1), unique per workspace and author; backfilled in order.
- ``drafts``: text the bot asked about before saving (visibility, a typo, too long).
- ``plan_steps.failures``: Slack errors only; ``attempts`` keeps counting claims.
- ``summaries.updated_at``: when a posted digest was re-rendered.
- the one-running-plan index also leaves out cancelled plans.
- text stored by wave 1 from slash commands kept Slack's entities (``&amp;``): decoded
  once, and book keys recomputed with the folding rule of ``bot.domain.matching``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RUNNING = "state != 'finished'"
NEW_RUNNING = "state IN ('active', 'paused')"

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)


def _fold(text: str) -> str:
    """A frozen copy of ``bot.domain.matching.fold`` as of this migration."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def _unescape(text: str | None) -> str | None:
    """Slack's three entities, decoded once (``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``)."""
    if text is None:
        return None
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def upgrade() -> None:
    with op.batch_alter_table("plan_steps", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )

    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))

    op.create_table(
        "drafts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("chapter", sa.Integer(), nullable=True),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=True),
        sa.Column("reflection_number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_drafts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )

    _backfill(op.get_bind())

    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.alter_column(
            "workspace_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_reflections_workspace_id_workspaces"),
            "workspaces",
            ["workspace_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_reflections_workspace_id"), ["workspace_id", "author_id", "number"]
        )

    with op.batch_alter_table("reading_plans", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_reading_plans_running_group",
            sqlite_where=sa.text(OLD_RUNNING),
            postgresql_where=sa.text(OLD_RUNNING),
        )
        batch_op.create_index(
            "uq_reading_plans_running_group",
            ["group_id"],
            unique=True,
            sqlite_where=sa.text(NEW_RUNNING),
            postgresql_where=sa.text(NEW_RUNNING),
        )


def _backfill(bind: sa.Connection) -> None:
    rows = bind.execute(
        sa.text(
            "SELECT r.id, g.workspace_id, r.author_id, r.text FROM reflections r "
            "JOIN reading_plans p ON p.id = r.plan_id JOIN groups g ON g.id = p.group_id "
            "ORDER BY r.id"
        )
    ).all()
    counters: dict[tuple[int, str], int] = {}
    for reflection_id, workspace_id, author_id, text in rows:
        key = (workspace_id, author_id)
        counters[key] = counters.get(key, 0) + 1
        bind.execute(
            sa.text(
                "UPDATE reflections SET workspace_id = :w, number = :n, text = :t WHERE id = :id"
            ),
            {"w": workspace_id, "n": counters[key], "t": _unescape(text), "id": reflection_id},
        )
    seen: set[tuple[int, str]] = set()
    for book_id, workspace_id, title, author in bind.execute(
        sa.text("SELECT id, workspace_id, title, author FROM books ORDER BY id")
    ).all():
        title, author = _unescape(title) or "", _unescape(author) or ""
        book_key = _fold(title) + "\x1f" + _fold(author)
        if (workspace_id, book_key) in seen:
            book_key += f"\x1f#{book_id}"  # two books now read the same: keep both, apart
        seen.add((workspace_id, book_key))
        bind.execute(
            sa.text("UPDATE books SET title = :t, author = :a, book_key = :k WHERE id = :id"),
            {"t": title, "a": author, "k": book_key, "id": book_id},
        )
    for chapter_id, title in bind.execute(
        sa.text("SELECT id, title FROM chapters WHERE title IS NOT NULL")
    ).all():
        bind.execute(
            sa.text("UPDATE chapters SET title = :t WHERE id = :id"),
            {"t": _unescape(title), "id": chapter_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("reading_plans", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_reading_plans_running_group",
            sqlite_where=sa.text(NEW_RUNNING),
            postgresql_where=sa.text(NEW_RUNNING),
        )
        batch_op.create_index(
            "uq_reading_plans_running_group",
            ["group_id"],
            unique=True,
            sqlite_where=sa.text(OLD_RUNNING),
            postgresql_where=sa.text(OLD_RUNNING),
        )
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_reflections_workspace_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_reflections_workspace_id_workspaces"), type_="foreignkey"
        )
        batch_op.drop_column("number")
        batch_op.drop_column("workspace_id")
    op.drop_table("drafts")
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    with op.batch_alter_table("plan_steps", schema=None) as batch_op:
        batch_op.drop_column("failures")
