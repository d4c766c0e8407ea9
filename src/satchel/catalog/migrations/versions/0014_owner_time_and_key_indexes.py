"""Indexes for an owner's artifacts newest first and for the walk of a grid-key prefix.

``(owner_id, stored_at, artifact_id)`` serves the web UI's default listing (one owner's
artifacts across scopes, keyset-paged on ``(stored_at, artifact_id)``) without sorting the
owner's rows for each page. ``(sandbox_id, key)`` serves ``delete_prefix``: its walk is a
range of keys in key order. On PostgreSQL ``key`` takes the "C" collation first, so that the
range and the order are byte order, as on SQLite (a language's collation need not keep a
prefix's keys together); changing a text column's collation rewrites no rows.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_index(
        "ix_artifacts_owner_id_stored_at_artifact_id",
        "artifacts",
        ["owner_id", "stored_at", "artifact_id"],
    )
    if _postgresql():
        op.alter_column(
            "artifacts",
            "key",
            type_=sa.Text(collation="C"),
            existing_type=sa.Text(),
            existing_nullable=False,
        )
    op.create_index("ix_artifacts_sandbox_id_key", "artifacts", ["sandbox_id", "key"])


def downgrade() -> None:
    op.drop_index("ix_artifacts_sandbox_id_key", table_name="artifacts")
    if _postgresql():
        op.alter_column(
            "artifacts",
            "key",
            type_=sa.Text(),
            existing_type=sa.Text(collation="C"),
            existing_nullable=False,
        )
    op.drop_index("ix_artifacts_owner_id_stored_at_artifact_id", table_name="artifacts")
