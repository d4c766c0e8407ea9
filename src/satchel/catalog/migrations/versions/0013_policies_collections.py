"""Artifacts' read policy (``public`` or null: private) and collection membership.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        batch.add_column(sa.Column("policy", sa.String(16), nullable=True))
    op.create_table(
        "collection_members",
        sa.Column("sandbox_id", sa.String(128), nullable=False),
        sa.Column("collection", sa.String(128), nullable=False),
        sa.Column("artifact_id", sa.String(64), nullable=False),
        sa.Column("added_at", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint(
            "sandbox_id", "collection", "artifact_id", name="pk_collection_members"
        ),
    )
    op.create_index("ix_collection_members_artifact_id", "collection_members", ["artifact_id"])


def downgrade() -> None:
    op.drop_index("ix_collection_members_artifact_id", table_name="collection_members")
    op.drop_table("collection_members")
    with op.batch_alter_table("artifacts") as batch:
        batch.drop_column("policy")
