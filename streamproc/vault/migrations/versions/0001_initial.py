"""Initial vault schema: vault_meta, users, mappings, counters.

Written out by hand rather than imported from tables.py: a revision is a frozen snapshot, and
tables.py may move on (tests check that head matches tables.py).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vault_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(), primary_key=True),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mappings",
        sa.Column(
            "user_id", sa.String(), sa.ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("value_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("placeholder", sa.String(), nullable=False),
        sa.Column("placeholder_key", sa.String(), nullable=False),
        sa.Column("type_key", sa.String(), nullable=False),
        sa.Column("privacy_type", sa.Text(), nullable=False),
        sa.Column("privacy_level", sa.String(3), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("user_id", "placeholder_key", name="uq_mappings_user_placeholder"),
    )
    op.create_index("ix_mappings_expires_at", "mappings", ["expires_at"])
    op.create_table(
        "counters",
        sa.Column(
            "user_id", sa.String(), sa.ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("type_key", sa.String(), primary_key=True),
        sa.Column("next_n", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("counters")
    op.drop_index("ix_mappings_expires_at", table_name="mappings")
    op.drop_table("mappings")
    op.drop_table("users")
    op.drop_table("vault_meta")
