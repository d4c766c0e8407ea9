"""Storage verification: each blob row records when its bytes were last re-read and hashed,
and why they failed (null: intact or never checked).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blobs") as batch:
        batch.add_column(sa.Column("verified_at", sa.Float(precision=53), nullable=True))
        batch.add_column(sa.Column("failure", sa.Text(), nullable=True))
    op.create_index("ix_blobs_failure", "blobs", ["failure"])


def downgrade() -> None:
    op.drop_index("ix_blobs_failure", table_name="blobs")
    with op.batch_alter_table("blobs") as batch:
        batch.drop_column("failure")
        batch.drop_column("verified_at")
