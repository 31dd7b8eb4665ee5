"""quotes taken back: digests re-rendered; book keys blind to punctuation

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

- ``reading_plans.quotes_version``: counts the times words its digests may quote were
  taken back (a reflection deleted, made private or edited; quoting turned off; a reply
  edited or deleted); ``summaries.quotes_version``: the count a digest was rendered at.
  A posted digest behind its plan is re-rendered from what may be quoted now.
- ``summaries.step_numbers``: the steps a digest covers, so any digest (on-demand ones
  included) can be re-rendered.
- book keys: punctuation and its spacing no longer count ("The Sea : A Tale" is "The
  Sea: A Tale"), by a frozen copy of ``bot.domain.matching.words``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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
_NOT_WORD = re.compile(r"[^\w]+")


def _words(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = " ".join(plain.casefold().split()).replace("'", "")
    return " ".join(w for w in _NOT_WORD.split(folded) if w)


def upgrade() -> None:
    with op.batch_alter_table("reading_plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quotes_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_numbers", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("quotes_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    bind = op.get_bind()
    seen: set[tuple[int, str]] = set()
    for book_id, workspace_id, title, author in bind.execute(
        sa.text("SELECT id, workspace_id, title, author FROM books ORDER BY id")
    ).all():
        key = _words(title) + "\x1f" + _words(author)
        if (workspace_id, key) in seen:
            key += f"\x1f#{book_id}"  # two books now read the same: keep both, apart
        seen.add((workspace_id, key))
        bind.execute(
            sa.text("UPDATE books SET book_key = :k WHERE id = :id"), {"k": key, "id": book_id}
        )


def downgrade() -> None:
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_column("quotes_version")
        batch_op.drop_column("step_numbers")
    with op.batch_alter_table("reading_plans", schema=None) as batch_op:
        batch_op.drop_column("quotes_version")
