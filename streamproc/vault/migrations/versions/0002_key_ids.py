"""Record which master key wraps each user's data key (`users.key_id`), for key rotation.

Existing rows get NULL: a migration has no master key to fingerprint. Such rows are opened by
whichever configured key works, and `streamproc keys rotate` fills their id in.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch_alter_table: SQLite rebuilds the table; Postgres gets a plain ALTER TABLE.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("key_id", sa.String(16), nullable=True))
    op.create_index("ix_users_key_id", "users", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_users_key_id", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("key_id")
