"""Service keys (the dead-letter sealing key) and the pseudonym table of the masked topic.

Self-contained on purpose: it only creates two new tables, so it can sit after any other
revision (re-chaining it is a change of `down_revision` only).

- `service_keys`: vault-wide data keys that belong to no user (today: `dead-letter`), each
  wrapped by the master key like a user's data key.
- `pseudonyms`: keyed pseudonym -> user (and, for a session pseudonym, the session id sealed
  under that user's data key), so the restore flow can map the cloud's ids back. Rows go with
  their user: `forget` deletes them (and the foreign key cascades).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_keys",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        # The master key that wraps it (keyring.key_id), as users.key_id since 0002: rotation.
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "pseudonyms",
        sa.Column("pseudonym", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.String(), sa.ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("sealed_id", sa.LargeBinary(), nullable=True),
    )
    op.create_index("ix_pseudonyms_user_id", "pseudonyms", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_pseudonyms_user_id", table_name="pseudonyms")
    op.drop_table("pseudonyms")
    op.drop_table("service_keys")
