"""An index of uploads by who started them and their state (open uploads per user are
counted against a limit on every new upload).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_uploads_actor_id_state", "uploads", ["actor_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_uploads_actor_id_state", table_name="uploads")
